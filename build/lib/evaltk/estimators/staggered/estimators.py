r"""The 2 × 2 panel DiD estimators behind each ATT(g,t), with their influence functions.

Each function takes one comparison: the change in outcome :math:`\Delta Y_i = Y_{i,t} - Y_{i,b}`
of the units of cohort g (``d == 1``) and of their comparison units (``d == 0``), and returns
the ATT and each unit's influence function :math:`\psi_i`, normalised so that
:math:`\widehat{ATT} - ATT \approx \frac{1}{n_1}\sum_i \psi_i` over the :math:`n_1` units in
the comparison. They follow R ``DRDID`` (``reg_did_panel``, ``std_ipw_did_panel``,
``drdid_panel``) without sampling weights.

The propensity score :math:`\pi(X) = \Lambda(X'\gamma)` is a logit fitted by maximum
likelihood on the comparison sample; the outcome model :math:`m(X) = X'\beta` is least squares
of :math:`\Delta Y` on the comparison units (``d == 0``). :math:`X` includes an intercept.
As in ``DRDID``, fitted scores are capped at :math:`1 - 10^{-6}` and comparison units with
:math:`\pi \ge 0.995` get zero weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from evaltk.errors import EstimationError
from evaltk.estimators.staggered.options import TRIM_LEVEL

PS_CAP = 1 - 1e-6
OVERLAP_LIMIT = 0.999
MAX_NEWTON = 100
EPS = np.finfo(float).eps


@dataclass(frozen=True, eq=False)
class Nuisance:
    r"""What depends only on who is compared and their covariates, not on the outcome.

    Reused across the ATT(g,t) of one cohort that share a comparison group and covariate
    period, so each logit and each Gram matrix is computed once.

    Attributes
    ----------
    x : numpy.ndarray
        Design matrix with intercept, ``(n1, k)``.
    d : numpy.ndarray
        1.0 for the cohort, 0.0 for comparison units.
    ps : numpy.ndarray or None
        Capped propensity scores (None for ``reg``).
    ps_hessian_inv : numpy.ndarray or None
        :math:`n_1 (X' W X)^{-1}` with :math:`W = \pi(1 - \pi)`.
    xtx_inv : numpy.ndarray or None
        :math:`(X_0'X_0 / n_1)^{-1}` over comparison units (None for ``ipw``).
    """

    x: np.ndarray
    d: np.ndarray
    ps: np.ndarray | None
    ps_hessian_inv: np.ndarray | None
    xtx_inv: np.ndarray | None


def fit_nuisance(method: str, d: np.ndarray, x: np.ndarray) -> Nuisance:
    """Fit the propensity score and/or factor the outcome-regression Gram matrix.

    Parameters
    ----------
    method : {"dr", "ipw", "reg"}
    d : numpy.ndarray of bool
        True for units of the cohort, False for comparison units.
    x : numpy.ndarray
        Covariates with an intercept column first, ``(n1, k)``.

    Returns
    -------
    Nuisance

    Raises
    ------
    EstimationError
        If the logit does not converge, a propensity score reaches 0.999 (no overlap), or the
        comparison units' covariates are collinear.
    """
    n1 = len(d)
    df = d.astype(float)
    ps = hess = xtx_inv = None
    if method in ("dr", "ipw"):
        raw = _logit(df, x)
        if raw.max() >= OVERLAP_LIMIT:
            raise EstimationError(
                "overlap fails: a propensity score reaches 0.999 (some covariate values occur "
                "only in the treated cohort); drop or coarsen covariates, or use "
                "est_method='reg'"
            )
        ps = np.minimum(raw, PS_CAP)
        w = ps * (1 - ps)
        try:
            hess = np.linalg.inv(x.T @ (w[:, None] * x)) * n1
        except np.linalg.LinAlgError as err:
            raise EstimationError(
                "the propensity-score information matrix is singular; remove collinear covariates"
            ) from err
    if method in ("dr", "reg"):
        x0 = x[~d]
        gram = x0.T @ x0
        if len(x0) == 0 or 1 / np.linalg.cond(gram, 1) < EPS:
            raise EstimationError(
                "the comparison units' covariates are singular or ill-conditioned; remove "
                "collinear covariates or rescale them"
            )
        xtx_inv = np.linalg.inv(gram / n1)
    return Nuisance(x=x, d=df, ps=ps, ps_hessian_inv=hess, xtx_inv=xtx_inv)


def did_2x2(method: str, dy: np.ndarray, nuis: Nuisance) -> tuple[float, np.ndarray]:
    r"""ATT and influence function of one 2 × 2 comparison with covariates.

    Parameters
    ----------
    method : {"dr", "ipw", "reg"}
    dy : numpy.ndarray
        :math:`\Delta Y` of the units in the comparison, aligned with ``nuis.d``.
    nuis : Nuisance
        From :func:`fit_nuisance` with the same method, units and covariates.

    Returns
    -------
    (float, numpy.ndarray)
        The ATT and the influence function (length :math:`n_1`).

    Notes
    -----
    With :math:`D` the cohort indicator, :math:`w_1 = D`, :math:`w_0 = \pi(X)(1-D)/(1-\pi(X))`
    and :math:`\mathbb{E}_n` the sample mean,

    .. math::

        \text{reg:}\quad ATT = \frac{\mathbb{E}_n[D(\Delta Y - m(X))]}{\mathbb{E}_n[D]}

        \text{ipw:}\quad ATT = \frac{\mathbb{E}_n[w_1 \Delta Y]}{\mathbb{E}_n[w_1]}
              - \frac{\mathbb{E}_n[w_0 \Delta Y]}{\mathbb{E}_n[w_0]}

        \text{dr:}\quad ATT = \frac{\mathbb{E}_n[w_1 (\Delta Y - m(X))]}{\mathbb{E}_n[w_1]}
              - \frac{\mathbb{E}_n[w_0 (\Delta Y - m(X))]}{\mathbb{E}_n[w_0]}

    The influence functions add to each leading term the estimation effect of
    :math:`\hat\beta` (through :math:`\partial/\partial\beta` of the means times the OLS
    linear representation :math:`(1-D)(\Delta Y - X'\hat\beta)X'(X_0'X_0/n_1)^{-1}`) and of
    :math:`\hat\gamma` (the logit score :math:`(D-\pi)X'` times :math:`n_1(X'WX)^{-1}`), as
    Sant'Anna & Zhao (2020), eqs. 3.4-3.5.
    """
    x, d = nuis.x, nuis.d
    c = 1 - d
    if method == "reg":
        assert nuis.xtx_inv is not None
        beta = nuis.xtx_inv @ (x.T @ (c * dy)) / len(d)
        out = x @ beta
        md = d.mean()
        eta_t = (d * dy).mean() / md
        eta_c = (d * out).mean() / md
        m1 = (d[:, None] * x).mean(axis=0)
        ols = c * (dy - out) * (x @ (nuis.xtx_inv @ m1))
        inf_treat = d * (dy - eta_t) / md
        inf_control = (d * (out - eta_c) + ols) / md
        return float(eta_t - eta_c), inf_treat - inf_control

    ps, hess, xtx_inv = nuis.ps, nuis.ps_hessian_inv, nuis.xtx_inv
    assert ps is not None and hess is not None
    keep = np.where(d == 1, 1.0, np.less(ps, TRIM_LEVEL).astype(float))
    w_t = keep * d
    w_c = keep * ps * c / (1 - ps)
    mw_t, mw_c = w_t.mean(), w_c.mean()
    if mw_c <= 0:
        raise EstimationError(
            "every comparison unit was trimmed (propensity score >= 0.995); drop or coarsen "
            "covariates"
        )
    score = d - ps
    if method == "ipw":
        eta_t = (w_t * dy).mean() / mw_t
        eta_c = (w_c * dy).mean() / mw_c
        m2 = (w_c * (dy - eta_c)) @ x / len(d)
        inf_treat = w_t * (dy - eta_t) / mw_t
        inf_control = (w_c * (dy - eta_c) + score * (x @ (hess @ m2))) / mw_c
        return float(eta_t - eta_c), inf_treat - inf_control

    assert xtx_inv is not None
    beta = xtx_inv @ (x.T @ (c * dy)) / len(d)
    r = dy - x @ beta
    eta_t = (w_t * r).mean() / mw_t
    eta_c = (w_c * r).mean() / mw_c
    ols_rep = c * r
    m1 = w_t @ x / len(d)
    m2 = (w_c * (r - eta_c)) @ x / len(d)
    m3 = w_c @ x / len(d)
    inf_treat = (w_t * (r - eta_t) - ols_rep * (x @ (xtx_inv @ m1))) / mw_t
    inf_control = (
        w_c * (r - eta_c) + score * (x @ (hess @ m2)) - ols_rep * (x @ (xtx_inv @ m3))
    ) / mw_c
    return float(eta_t - eta_c), inf_treat - inf_control


def did_2x2_unconditional(
    dy_t: np.ndarray, dy_c: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""ATT and influence functions of 2 × 2 comparisons without covariates, many at once.

    With an intercept only, ``reg``, ``ipw`` and ``dr`` all reduce to the difference of mean
    changes (the propensity score is the cohort's share of the units compared), so every
    comparison is computed in closed form, one column per comparison:

    .. math::

        ATT = \bar{\Delta Y}_1 - \bar{\Delta Y}_0, \qquad
        \frac{n}{n_1}\psi_i = \frac{n}{n_{1,D}}(\Delta Y_i - \bar{\Delta Y}_1)
        \text{ (cohort)}, \quad
        -\frac{n}{n_{1,C}}(\Delta Y_i - \bar{\Delta Y}_0) \text{ (comparison units)},

    with :math:`n_{1,D}` and :math:`n_{1,C}` the numbers of cohort and comparison units.
    For ``ipw`` and ``dr``, R ``did`` reports no estimate when the cohort is 99.5 % or more of
    the units compared (every comparison unit is trimmed); the caller checks that.

    Parameters
    ----------
    dy_t, dy_c : numpy.ndarray
        :math:`\Delta Y` of the cohort's units and of the comparison units, one column per
        comparison: ``(n_treated, m)`` and ``(n_control, m)``.
    n : int
        Number of units in the panel (the influence functions are scaled to it).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        ATTs ``(m,)`` and the influence functions of the cohort's and the comparison units,
        scaled by :math:`n/n_1`.
    """
    mu1 = dy_t.mean(axis=0)
    mu0 = dy_c.mean(axis=0)
    psi_t = (dy_t - mu1) * (n / len(dy_t))
    psi_c = (dy_c - mu0) * (-n / len(dy_c))
    return mu1 - mu0, psi_t, psi_c


def _logit(d: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Fitted probabilities of a logit, by Newton-Raphson from the intercept-only solution."""
    k = x.shape[1]
    gamma = np.zeros(k)
    share = d.mean()
    gamma[0] = np.log(share / (1 - share))
    for _ in range(MAX_NEWTON):
        p = expit(x @ gamma)
        w = p * (1 - p)
        try:
            step = np.linalg.solve(x.T @ (w[:, None] * x), x.T @ (d - p))
        except np.linalg.LinAlgError:
            break
        gamma = gamma + step
        if not np.all(np.isfinite(gamma)):
            break
        if np.max(np.abs(step)) < 1e-10 * (1 + np.max(np.abs(gamma))):
            return expit(x @ gamma)
    raise EstimationError(
        "the propensity-score logit did not converge (perfect separation by the "
        "covariates?); drop or coarsen covariates, or use est_method='reg'"
    )
