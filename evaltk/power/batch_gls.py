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
from scipy.linalg.blas import dsymm, dsymv
from scipy.linalg.lapack import dpotrf, dpotri

from evaltk.errors import EstimationError
from evaltk.estimators.effect import p_value
from evaltk.estimators.its.gls import GLSFit, gls_inference, month_lags, reml_optimum
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
            fit = fit_gls_ar1_power(z, x, time, known)
        except EstimationError:
            continue
        se = float(np.sqrt(fit.cov[column, column]))
        estimates[r] = fit.params[column]
        p[r] = p_value(float(fit.params[column]), se, fit.contrast_df(contrast))
    return estimates, p


class _Series:
    """What every REML evaluation of one series shares: lags, their derivative pattern, and the
    weights that turn a lower triangle into the inner product of two symmetric matrices."""

    def __init__(self, time: np.ndarray) -> None:
        self.lag = month_lags(time)
        n = len(self.lag)
        self.max_lag = int(self.lag.max())
        self.steps = np.arange(self.max_lag + 1)
        self.previous = np.maximum(self.lag - 1, 0)
        self.weight = np.where(self.lag > 0, self.lag, 0).astype(float)
        self.diagonal = np.arange(n) * (n + 1)
        self.lower_weights = np.tril(np.full((n, n), 2.0), -1) + np.eye(n)


def _negative_reml(
    u: np.ndarray, z: np.ndarray, x: np.ndarray, series: _Series, known: np.ndarray
) -> tuple[float, np.ndarray]:
    """:func:`evaltk.estimators.its.gls.negative_reml`, the same value and gradient, without
    forming the n x n projection ``P`` (a power grid evaluates it some 50 times a replicate).

    With ``six = S^-1 X`` and ``G = X' six``: ``P z = S^-1 z - six G^-1 six' z`` and, for a
    symmetric ``A``, ``tr(P A) = tr(S^-1 A) - tr(G^-1 six' A six)``. LAPACK's Cholesky and
    its inverse give ``S^-1`` in the lower triangle only; BLAS's symmetric products read it
    there, and the lower triangle weighted 2 (1 on the diagonal) gives ``tr(S^-1 A)``.
    """
    s2w, s2a, rho = float(np.exp(u[0])), float(np.exp(u[1])), float(np.tanh(u[2]))
    powers = rho**series.steps
    corr = powers[series.lag]
    sigma = s2a * corr
    sigma.flat[series.diagonal] += known + s2w
    chol, info = dpotrf(sigma, lower=1, clean=0)
    if info != 0:
        return 1e12, np.zeros(3)
    inverse, info = dpotri(chol, lower=1)
    if info != 0:
        return 1e12, np.zeros(3)
    six = dsymm(1.0, inverse, x, lower=1)
    gram = x.T @ six
    sign, logdet_gram = np.linalg.slogdet(gram)
    if sign <= 0:
        return 1e12, np.zeros(3)
    six_g = six @ np.linalg.inv(gram)
    siz = dsymv(1.0, inverse, z, lower=1)
    pz = siz - six_g @ (six.T @ z)
    value = 2.0 * np.log(np.diagonal(chol)).sum() + logdet_gram + z @ pz
    weighted = inverse * series.lower_weights
    d_corr = series.weight * powers[series.previous]
    gradient = np.array(
        [
            np.trace(inverse) - np.vdot(six_g, six) - pz @ pz,
            np.vdot(weighted, corr) - np.vdot(six_g, corr @ six) - pz @ corr @ pz,
            (np.vdot(weighted, d_corr) - np.vdot(six_g, d_corr @ six) - pz @ d_corr @ pz) * s2a,
        ]
    )
    return float(value), gradient * (s2w, s2a, 1.0 - rho**2)


def fit_gls_ar1_power(z: np.ndarray, x: np.ndarray, time: np.ndarray, known: np.ndarray) -> GLSFit:
    """:func:`evaltk.estimators.its.gls.fit_gls_ar1` with the same starts, bounds, optimiser
    and inference, on the leaner objective above (the optimum agrees to the optimiser's
    tolerance: ``tests/power/test_batch_gls.py``)."""
    z, x = np.asarray(z, dtype=float), np.asarray(x, dtype=float)
    n, k = x.shape
    if n - k < 6:
        raise EstimationError(f"{n} months, {k} coefficients: too few for the GLS model")
    series = _Series(time)
    known = np.asarray(known, dtype=float)
    best = reml_optimum(_negative_reml, (z, x, series, known), z, x, known)
    if best is None:
        raise EstimationError("no positive-definite error covariance")
    s2w, s2a, rho = (float(np.exp(best.x[0])), float(np.exp(best.x[1])), float(np.tanh(best.x[2])))
    return gls_inference(z, x, series.lag, known, s2w, s2a, rho, -0.5 * float(best.fun))
