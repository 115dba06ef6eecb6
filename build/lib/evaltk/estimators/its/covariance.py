"""AR(1) working-correlation covariance for the ITS coefficients (``ITSSpec(ar1=True)``).

The model-based (quasi-)likelihood covariance assumes independent months; Newey-West HAC
needs long series to estimate the autocovariances it sums. When month-to-month noise that
persists over months dominates the count noise, a one-parameter AR(1) working correlation of
the Pearson residuals is a better compromise: the coefficients are the GLM's (unchanged), and
their covariance is the sandwich of the GLM's information with the AR(1)-correlated score,

.. math::

    V = \\phi\\, B\\, X_w' R\\, X_w B, \\qquad X_w = W^{1/2} X, \\quad B = (X_w' X_w)^{-1},
    \\quad R_{ts} = \\rho^{|t - s|},

with ``W`` the GLM working weights (``mu`` for a Poisson log link, ``mu / (1 + alpha mu)`` for
NB2, 1 for the identity link) and ``|t - s|`` counted in calendar months, so a washout or a
missing month lowers the correlation across it. With ``rho = 0`` it is exactly ``phi B``, the
model-based covariance. This is the GEE "model-based with a misspecified-independence fit"
variance (Liang & Zeger 1986, with the AR(1) correlation taken as known) and, for the
identity link, the textbook covariance of OLS under AR(1) errors,
``(X'X)^{-1} X' Sigma X (X'X)^{-1}``.
"""

from __future__ import annotations

import numpy as np

#: Bound on the bias-corrected AR(1) coefficient (keeps ``R`` well conditioned).
MAX_RHO = 0.95


def lag1_autocorrelation(resid: np.ndarray, time: np.ndarray) -> float:
    """Lag-1 autocorrelation ``sum r_t r_{t-1} / sum r_t**2`` of residuals in time order.

    Parameters
    ----------
    resid : numpy.ndarray
        Pearson residuals of the fitted months, in time order.
    time : numpy.ndarray
        Calendar month number of each residual (increasing). Only pairs exactly one calendar
        month apart enter the numerator; a pair either side of a washout or gap does not.

    Returns
    -------
    float
        The raw (uncentred) lag-1 autocorrelation; 0 if every residual is 0.
    """
    r = np.asarray(resid, dtype=float)
    t = np.asarray(time, dtype=float)
    denom = float(r @ r)
    if not denom > 0:
        return 0.0
    adjacent = np.diff(t) == 1
    return float(np.sum(r[1:][adjacent] * r[:-1][adjacent]) / denom)


def bias_corrected_rho(rho_hat: float, n: int) -> float:
    """First-order bias correction of a lag-1 autocorrelation, bounded to +/-``MAX_RHO``.

    ``rho = rho_hat + (1 + 3 rho_hat) / n``, clipped to ``[-0.95, 0.95]``.

    Notes
    -----
    The lag-1 sample autocorrelation of a series whose mean is estimated has expectation
    ``rho - (1 + 3 rho) / n + O(n^-2)`` (Kendall, M. G. 1954, "Note on bias in the estimation
    of autocorrelation", Biometrika 41:403-404; Marriott & Pope 1954, Biometrika 41:390-402).
    Regression residuals lose more (a trend and seasonal terms are fitted too), so the
    correction is, if anything, still short.
    """
    return float(min(MAX_RHO, max(-MAX_RHO, rho_hat + (1.0 + 3.0 * rho_hat) / n)))


def ar1_covariance(
    x: np.ndarray, weights: np.ndarray, time: np.ndarray, phi: float, rho: float
) -> np.ndarray:
    """``phi * B Xw' R Xw B`` with ``R_ts = rho**|time_t - time_s|`` (see the module notes).

    Parameters
    ----------
    x : numpy.ndarray
        Design matrix of the fitted months, ``n x k``.
    weights : numpy.ndarray
        GLM working weights of those months (``mu``, ``mu / (1 + alpha mu)`` or 1).
    time : numpy.ndarray
        Calendar month number of each row.
    phi : float
        Dispersion (1 for Poisson and NB2, the Pearson dispersion for quasi-Poisson, the
        residual variance for gaussian).
    rho : float
        AR(1) working correlation between months one calendar month apart.

    Returns
    -------
    numpy.ndarray
        ``k x k`` covariance of the coefficients.
    """
    xw = np.sqrt(np.asarray(weights, dtype=float))[:, None] * np.asarray(x, dtype=float)
    t = np.rint(np.asarray(time, dtype=float)).astype(np.int64)
    corr = np.power(float(rho), np.abs(t[:, None] - t[None, :]))  # 0.0 ** 0 == 1
    bread = np.linalg.inv(xw.T @ xw)
    cov = phi * bread @ (xw.T @ corr @ xw) @ bread
    return (cov + cov.T) / 2.0
