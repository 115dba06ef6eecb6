"""Fit one design matrix to many outcome vectors at once: Poisson, quasi-Poisson, OLS, HAC.

A power grid fits the same design to hundreds of simulated series; statsmodels fits one at a
time (tens of milliseconds each). Here iteratively reweighted least squares runs on a stack of
series with batched linear algebra, so 500 fits cost about as much as a few single ones. The
estimates and covariances are those statsmodels computes for the same model (``GLM`` with
``scale='X2'`` for quasi-Poisson; ``cov_type='HAC'`` with the Bartlett kernel and the
``n / (n - k)`` correction; the AR(1) working-correlation sandwich of
:mod:`evaltk.estimators.its.covariance`); ``tests/power/test_batch_glm.py`` checks them against
:class:`~evaltk.estimators.its.ITSModel` replicate by replicate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaltk.estimators.effect import p_values
from evaltk.estimators.its.covariance import MAX_RHO

MAX_ITERATIONS = 100
TOLERANCE = 1e-10


@dataclass(frozen=True)
class BatchFit:
    """Coefficients ``(R, k)``, their covariances ``(R, k, k)`` and a convergence flag ``(R,)``."""

    params: np.ndarray
    cov: np.ndarray
    converged: np.ndarray

    def wald(self, column: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Estimate, standard error and two-sided normal p-value of one coefficient."""
        estimate = self.params[:, column]
        se = np.sqrt(np.clip(self.cov[:, column, column], 0, None))
        p = p_values(estimate, se)
        p = np.where(self.converged & np.isfinite(p), p, np.nan)
        return estimate, se, p


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.solve(a, b[..., None])[..., 0]


def _hac_meat(x: np.ndarray, resid: np.ndarray, lags: int) -> np.ndarray:
    """Newey-West sum of score outer products, Bartlett weights, for each replicate."""
    scores = resid[:, :, None] * x[None, :, :]  # (R, n, k)
    meat = np.einsum("rnk,rnj->rkj", scores, scores)
    for lag in range(1, lags + 1):
        weight = 1.0 - lag / (lags + 1.0)
        cross = np.einsum("rnk,rnj->rkj", scores[:, lag:], scores[:, :-lag])
        meat += weight * (cross + np.swapaxes(cross, 1, 2))
    return meat


def _ar1_cov(
    x: np.ndarray,
    weights: np.ndarray,
    pearson: np.ndarray,
    time: np.ndarray,
    phi: np.ndarray,
) -> np.ndarray:
    """:func:`~evaltk.estimators.its.covariance.ar1_covariance` for every replicate, with each
    replicate's own bias-corrected lag-1 autocorrelation of its Pearson residuals."""
    n = x.shape[0]
    adjacent = np.diff(time) == 1
    denom = np.sum(pearson**2, axis=1)
    numer = np.sum((pearson[:, 1:] * pearson[:, :-1])[:, adjacent], axis=1)
    rho_hat = np.divide(numer, denom, out=np.zeros_like(denom), where=denom > 0)
    rho = np.clip(rho_hat + (1.0 + 3.0 * rho_hat) / n, -MAX_RHO, MAX_RHO)
    lags = np.abs(np.rint(time)[:, None] - np.rint(time)[None, :])
    corr = np.power(rho[:, None, None], lags[None])
    xw = np.sqrt(weights)[:, :, None] * x[None]
    xw_t = np.swapaxes(xw, 1, 2)
    bread = np.linalg.inv(xw_t @ xw)
    meat = xw_t @ (corr @ xw)  # batched matrix products: far faster than a 3-operand einsum
    cov = phi[:, None, None] * bread @ meat @ bread
    return (cov + np.swapaxes(cov, 1, 2)) / 2.0


def fit_poisson(
    y: np.ndarray,
    x: np.ndarray,
    offset: np.ndarray | None = None,
    *,
    quasi: bool = True,
    hac_lags: int | None = None,
    ar1_time: np.ndarray | None = None,
) -> BatchFit:
    """Poisson log-link GLM of every row of ``y`` on ``x``.

    Parameters
    ----------
    y : numpy.ndarray
        Counts, shape ``(R, n)``.
    x : numpy.ndarray
        Design, shape ``(n, k)``, shared by every replicate.
    offset : numpy.ndarray, optional
        Shape ``(n,)``, e.g. ``log(population)``.
    quasi : bool
        Scale the covariance by the Pearson dispersion ``sum(r**2) / (n - k)`` (quasi-Poisson).
    hac_lags : int, optional
        Newey-West covariance with this many lags instead (the dispersion cancels out).
    ar1_time : numpy.ndarray, optional
        Calendar month of each row: the AR(1) working-correlation covariance instead.

    Returns
    -------
    BatchFit
        Replicates whose fit did not converge (for example all zeros) are flagged, not raised.
    """
    n, k = x.shape
    offset = np.zeros(n) if offset is None else np.asarray(offset, float)
    # statsmodels' start: the mean halfway between each count and the series mean.
    mu = (y + y.mean(axis=1, keepdims=True)) / 2.0
    mu = np.where(mu > 0, mu, 0.1)
    eta = np.log(mu)
    params = np.zeros((y.shape[0], k))
    converged = np.zeros(y.shape[0], dtype=bool)
    for _ in range(MAX_ITERATIONS):
        z = eta - offset + (y - mu) / mu
        xtwx = np.einsum("nk,rn,nj->rkj", x, mu, x)
        xtwz = np.einsum("nk,rn->rk", x, mu * z)
        try:
            new = _solve(xtwx, xtwz)
        except np.linalg.LinAlgError:
            new = np.stack(
                [np.linalg.lstsq(a, b, rcond=None)[0] for a, b in zip(xtwx, xtwz, strict=True)]
            )
        step = np.max(np.abs(new - params), axis=1)
        params = new
        eta = params @ x.T + offset
        mu = np.exp(np.clip(eta, -700, 700))
        converged = step < TOLERANCE * (1 + np.max(np.abs(params), axis=1))
        if converged.all():
            break
    converged &= np.all(np.isfinite(params), axis=1) & (y.sum(axis=1) > 0)
    bread = np.linalg.pinv(np.einsum("nk,rn,nj->rkj", x, mu, x))
    resid = y - mu
    if ar1_time is not None:
        pearson = resid / np.sqrt(mu)
        phi = np.sum(pearson**2, axis=1) / (n - k) if quasi else np.ones(len(y))
        cov = _ar1_cov(x, mu, pearson, np.asarray(ar1_time, float), phi)
    elif hac_lags is not None:
        meat = _hac_meat(x, resid, hac_lags) * (n / (n - k))
        cov = bread @ meat @ bread
    elif quasi:
        dispersion = np.sum(resid**2 / mu, axis=1) / (n - k)
        cov = bread * dispersion[:, None, None]
    else:
        cov = bread
    return BatchFit(params, cov, converged)


def fit_ols(
    y: np.ndarray,
    x: np.ndarray,
    *,
    hac_lags: int | None = None,
    ar1_time: np.ndarray | None = None,
) -> BatchFit:
    """Ordinary least squares of every row of ``y`` on ``x`` (the gaussian family)."""
    n, k = x.shape
    xtx_inv = np.linalg.pinv(x.T @ x)
    params = y @ x @ xtx_inv.T
    resid = y - params @ x.T
    if ar1_time is not None:
        phi = np.sum(resid**2, axis=1) / (n - k)
        weights = np.ones_like(resid)
        cov = _ar1_cov(x, weights, resid, np.asarray(ar1_time, float), phi)
    elif hac_lags is not None:
        meat = _hac_meat(x, resid, hac_lags) * (n / (n - k))
        cov = xtx_inv[None] @ meat @ xtx_inv[None]
    else:
        sigma2 = np.sum(resid**2, axis=1) / (n - k)
        cov = xtx_inv[None] * sigma2[:, None, None]
    return BatchFit(params, cov, np.ones(y.shape[0], dtype=bool))
