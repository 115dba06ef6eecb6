"""The stepped-wedge analysis model fitted to many simulated trials at once.

The model is a linear mixed model of the cluster-period values: period fixed effects, the
treatment indicator, a cluster random intercept and a homoscedastic residual, fitted by REML
and tested by the Wald z statistic. The estimates and variance components are those of
statsmodels' ``MixedLM(..., groups=cluster).fit(reml=True)``; the standard error is the GLS one,
``(X'V^-1X)^-1`` at the REML components (as lme4, nlme and SAS report it; statsmodels' own comes
from the Hessian of the likelihood and is larger near tau^2 = 0). ``tests/power/
test_stepped_wedge.py`` checks replicates against MixedLM.

Within a cluster the covariance is :math:`\\sigma^2 (I + rJ)` with :math:`r = \\tau^2/\\sigma^2`,
so GLS at a given :math:`r` is OLS after quasi-demeaning each cluster's values by
:math:`1 - (1 + rT)^{-1/2}` of its mean. The REML log-likelihood profiled over :math:`\\sigma^2`,

.. math::

    -\\tfrac12\\bigl[(N-p)\\log \\mathrm{RSS}_r + I \\log(1 + rT)
        + \\log|X_r^{*\\prime} X_r^*|\\bigr],

is evaluated for every replicate on one grid of :math:`r` (with :math:`r = 0`, the boundary),
then maximised by golden-section search between the best grid point's neighbours, every
replicate at once (batched matrix products).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaltk.estimators.effect import p_values

#: log10 of the variance ratios tried (0 is tried as well): 1e-4 to 1e4 in steps of 0.1.
LOG_RATIOS = np.linspace(-4.0, 4.0, 81)
#: Golden-section steps after the grid: the bracket of 0.2 (log10) shrinks to 0.2 * 0.618^20.
GOLDEN_STEPS = 20


@dataclass(frozen=True)
class SWFits:
    """Treatment estimate, its REML standard error, two-sided z p-value and the variance ratio
    ``tau2 / sigma2`` of every replicate."""

    estimate: np.ndarray
    std_error: np.ndarray
    p_value: np.ndarray
    ratio: np.ndarray


def _design(x: np.ndarray) -> np.ndarray:
    """Rows cluster-major (cluster, period); columns: one per period, then treatment."""
    n_clusters, n_periods = x.shape
    periods = np.tile(np.eye(n_periods), (n_clusters, 1))
    return np.column_stack([periods, x.ravel()])


def _at_ratio(
    z: np.ndarray, design: np.ndarray, n_clusters: int, n_periods: int, ratio: float
) -> tuple[np.ndarray, float]:
    """GLS of every replicate at one shared variance ratio: RSS and the log-likelihood terms
    that do not depend on the data (one design for all replicates)."""
    shrink = 1.0 - 1.0 / np.sqrt(1.0 + ratio * n_periods)
    zc = z.reshape(len(z), n_clusters, n_periods)
    zs = (zc - shrink * zc.mean(axis=2, keepdims=True)).reshape(len(z), -1)
    xc = design.reshape(n_clusters, n_periods, -1)
    xs = (xc - shrink * xc.mean(axis=1, keepdims=True)).reshape(n_clusters * n_periods, -1)
    gram = xs.T @ xs
    sign, logdet = np.linalg.slogdet(gram)
    coef = np.linalg.solve(gram, xs.T @ zs.T).T
    rss = np.sum((zs - coef @ xs.T) ** 2, axis=1)
    extra = n_clusters * np.log1p(ratio * n_periods) + (logdet if sign > 0 else np.inf)
    return rss, float(extra)


def _per_replicate(
    flat: np.ndarray, design: np.ndarray, n_clusters: int, n_periods: int, ratio: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """GLS of every replicate at its own ratio: treatment estimate, its variance, RSS and the
    profiled REML log-likelihood; designs of shape (R, N, p)."""
    replicates, n = flat.shape
    p = design.shape[1]
    shrink = 1.0 - 1.0 / np.sqrt(1.0 + ratio * n_periods)
    zc = flat.reshape(replicates, n_clusters, n_periods)
    zs = (zc - shrink[:, None, None] * zc.mean(axis=2, keepdims=True)).reshape(replicates, n)
    xc = design.reshape(n_clusters, n_periods, p)
    xs = xc[None] - shrink[:, None, None, None] * xc.mean(axis=1, keepdims=True)[None]
    xs = xs.reshape(replicates, n, p)
    xt = np.swapaxes(xs, 1, 2)
    gram = xt @ xs
    inv = np.linalg.inv(gram)
    coef = (inv @ (xt @ zs[:, :, None]))[:, :, 0]
    resid = zs - (xs @ coef[:, :, None])[:, :, 0]
    rss = np.sum(resid**2, axis=1)
    logdet = np.linalg.slogdet(gram)[1]
    ll = -0.5 * (
        (n - p) * np.log(np.maximum(rss, 1e-300))
        + n_clusters * np.log1p(ratio * n_periods)
        + logdet
    )
    return coef[:, -1], rss / (n - p) * inv[:, -1, -1], rss, ll


def fit_stepped_wedge(z: np.ndarray, x: np.ndarray) -> SWFits:
    """Fit the analysis model to ``z`` (replicates × clusters × periods) on schedule ``x``."""
    replicates = z.shape[0]
    n_clusters, n_periods = x.shape
    design = _design(x)
    n, p = design.shape
    flat = z.reshape(replicates, n)
    ratios = np.r_[0.0, 10.0**LOG_RATIOS]

    grid = []
    for r in ratios:
        rss, extra = _at_ratio(flat, design, n_clusters, n_periods, float(r))
        grid.append(-0.5 * ((n - p) * np.log(np.maximum(rss, 1e-300)) + extra))
    best = np.argmax(np.stack(grid, axis=1), axis=1)
    # Golden-section search on log10(ratio) between the best grid point's neighbours (the
    # profile is smooth and single-peaked there); r = 0 stays when it is the best.
    inside = best > 0
    a = LOG_RATIOS[np.clip(best - 2, 0, len(LOG_RATIOS) - 1)]
    b = LOG_RATIOS[np.clip(best, 0, len(LOG_RATIOS) - 1)]

    def profile(log_ratio: np.ndarray) -> np.ndarray:
        return _per_replicate(flat, design, n_clusters, n_periods, 10.0**log_ratio)[3]

    golden = (np.sqrt(5.0) - 1.0) / 2.0
    c, d = b - golden * (b - a), a + golden * (b - a)
    fc, fd = profile(c), profile(d)
    for _ in range(GOLDEN_STEPS):
        left = fc > fd  # the maximum lies in [a, d]: drop (d, b]; otherwise drop [a, c)
        a, b = np.where(left, a, c), np.where(left, d, b)
        new = np.where(left, b - golden * (b - a), a + golden * (b - a))
        f_new = profile(new)
        c, d = np.where(left, new, d), np.where(left, c, new)
        fc, fd = np.where(left, f_new, fd), np.where(left, fc, f_new)
    ratio = np.where(inside, 10.0 ** ((a + b) / 2.0), 0.0)
    estimate, variance, _, _ = _per_replicate(flat, design, n_clusters, n_periods, ratio)
    std_error = np.sqrt(variance)
    return SWFits(estimate, std_error, p_values(estimate, std_error), ratio)
