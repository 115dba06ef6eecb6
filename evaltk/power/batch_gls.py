"""The ITS ``gls`` model's level-change test on many simulated series, as the analysis fits it.

Each replicate is fitted as :meth:`evaltk.estimators.its.ITSModel.fit` fits ``model: gls``:
the Poisson GLM with the same design gives each month's mean ``mu`` (here by the batched
IRLS of :mod:`evaltk.power.batch_glm`, the same maximum-likelihood estimate); the log rate
``log(y) - offset`` is then fitted by :func:`evaltk.estimators.its.gls.fit_gls_ar1` (REML, known
sampling variance ``1 / mu``), and the level change is tested with Student's t on its
Satterthwaite degrees of freedom. Only the statistics the power table needs are computed
(no counterfactual, sums or diagnostics), which roughly halves the time of a full fit; the
REML fit is still one replicate at a time, some 50 ms each.
``tests/power/test_batch_gls.py`` checks the p-values against ``ITSModel`` replicate by
replicate.
"""

from __future__ import annotations

import numpy as np

from evaltk.errors import EstimationError
from evaltk.estimators.effect import p_value
from evaltk.estimators.its.gls import fit_gls_ar1
from evaltk.power.batch_glm import fit_poisson


def gls_level_tests(
    y: np.ndarray,
    x: np.ndarray,
    offset: np.ndarray | None,
    time: np.ndarray,
    column: int,
    *,
    log_scale: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate and p-value of coefficient ``column`` for every replicate (row of ``y``).

    Parameters
    ----------
    y : numpy.ndarray
        Fitted months' outcome, ``(R, n)``.
    x : numpy.ndarray
        Design matrix of the fitted months, ``(n, k)``.
    offset : numpy.ndarray or None
        Log exposure of the fitted months (count families), or None.
    time : numpy.ndarray
        Calendar month number of each fitted month (a washout gap is respected).
    column : int
        The coefficient tested (the level change).
    log_scale : bool
        True for the count families (the log rate), False for gaussian (the series itself).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Estimates and p-values, NaN for a replicate that cannot be fitted (a month with no
        events, or no positive-definite error covariance).
    """
    replicates, n = y.shape
    estimates, p = np.full(replicates, np.nan), np.full(replicates, np.nan)
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    contrast = np.zeros(x.shape[1])
    contrast[column] = 1.0
    if log_scale:
        poisson = fit_poisson(y, x, None if offset is None else off)
        mu = np.exp(poisson.params @ x.T + off)
    for r in range(replicates):
        if log_scale:
            if not (np.all(y[r] > 0) and poisson.converged[r]):
                continue
            z, known = np.log(y[r]) - off, 1.0 / mu[r]
        else:
            z, known = y[r], np.zeros(n)
        try:
            fit = fit_gls_ar1(z, x, time, known)
        except EstimationError:
            continue
        se = float(np.sqrt(fit.cov[column, column]))
        estimates[r] = fit.params[column]
        p[r] = p_value(float(fit.params[column]), se, fit.contrast_df(contrast))
    return estimates, p
