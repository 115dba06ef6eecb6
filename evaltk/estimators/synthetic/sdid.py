"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021).

Unit weights ``omega`` make the weighted donors' pre-period path parallel to the treated
unit's (an intercept is allowed, so levels may differ); time weights ``lambda`` make the
weighted pre periods predict the donors' post-period mean. The estimate is the weighted
double difference

    (treated post mean - sum_t lambda_t treated_t) - sum_j omega_j (donor_j post mean -
    sum_t lambda_t donor_jt).

Regularisation as the paper and R ``synthdid``: ``zeta_omega = (N1 T1)^(1/4) sigma`` and
``zeta_lambda = 1e-6 sigma``, where ``sigma`` is the standard deviation of the donors'
first differences over the pre periods. The same machinery gives two-way fixed effects DiD
(uniform weights) and the outcome-only synthetic control of the paper's Table 1 (no
intercept, no time weights, an infinitesimal ridge), which the validation compares.

The weights are fitted by :func:`evaltk.estimators.synthetic.simplex.two_stage`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from evaltk.estimators.synthetic.data import SyntheticData
from evaltk.estimators.synthetic.simplex import normalise, two_stage

Array = NDArray[np.float64]
Method = Literal["sdid", "sc", "did"]


@dataclass(frozen=True)
class SDiDOptions:
    """How the weights are fitted (the paper's defaults).

    Attributes
    ----------
    eta_omega : float or None
        Unit-weight penalty relative to the noise level; None for ``(N1 T1)^(1/4)``
        (N1 = 1 treated unit here, T1 post periods).
    eta_lambda : float
        Time-weight penalty relative to the noise level.
    min_decrease_ratio : float
        Frank-Wolfe stops when the objective falls by less than the square of this times
        the noise level.
    max_iter : int
        Frank-Wolfe iterations after sparsifying.
    """

    eta_omega: float | None = None
    eta_lambda: float = 1e-6
    min_decrease_ratio: float = 1e-5
    max_iter: int = 10_000


@dataclass(frozen=True)
class Penalties:
    """The regularisation of one fit, kept so a placebo refit can reuse it (Algorithm 4)."""

    zeta_omega: float
    zeta_lambda: float
    min_decrease: float
    noise_level: float


@dataclass(frozen=True)
class WeightedFit:
    """Point estimate and weights of SDiD, synthetic control or DiD on one data set.

    Attributes
    ----------
    method : str
        ``sdid``, ``sc`` (outcome-only synthetic control) or ``did``.
    estimate : float
        The average effect over the post periods.
    omega : numpy.ndarray
        Donor weights (sum to one).
    lam : numpy.ndarray
        Pre-period weights (sum to one; all zero for ``sc``: no time weighting).
    gaps : numpy.ndarray
        Treated minus synthetic, by period, where the synthetic unit is the weighted donors
        shifted to the treated unit's lambda-weighted pre level (SDiD, DiD) or not shifted
        (synthetic control); the post mean of the gaps minus their lambda-weighted pre mean
        is the estimate.
    penalties : Penalties
    """

    method: str
    estimate: float
    omega: Array
    lam: Array
    gaps: Array
    penalties: Penalties


def noise_level(data: SyntheticData) -> float:
    """Standard deviation of the donors' period-to-period changes before the start."""
    changes = np.diff(data.donor_matrix[:, : data.n_pre], axis=1)
    return float(np.std(changes, ddof=1))


def penalties(data: SyntheticData, method: Method, options: SDiDOptions) -> Penalties:
    """The paper's penalties for ``data`` (and ``synthdid``'s for its synthetic control)."""
    sigma = noise_level(data)
    if method == "sc":
        eta_omega = 1e-6
    elif options.eta_omega is None:
        eta_omega = float(data.n_post) ** 0.25
    else:
        eta_omega = options.eta_omega
    return Penalties(
        zeta_omega=eta_omega * sigma,
        zeta_lambda=options.eta_lambda * sigma,
        min_decrease=options.min_decrease_ratio * sigma,
        noise_level=sigma,
    )


def fit_weighted(
    data: SyntheticData,
    method: Method = "sdid",
    options: SDiDOptions | None = None,
    *,
    fixed: Penalties | None = None,
    start_omega: Array | None = None,
    start_lambda: Array | None = None,
) -> WeightedFit:
    """SDiD, outcome-only synthetic control or DiD on ``data``.

    Parameters
    ----------
    data : SyntheticData
    method : {"sdid", "sc", "did"}
    options : SDiDOptions, optional
    fixed : Penalties, optional
        Penalties to use instead of computing them from ``data`` (a placebo refit).
    start_omega, start_lambda : numpy.ndarray, optional
        Starting weights (a placebo refit starts from the original fit's).

    Returns
    -------
    WeightedFit
    """
    options = options or SDiDOptions()
    pen = fixed or penalties(data, method, options)
    y = data.y
    n0, t0 = data.n_donors, data.n_pre
    pre, post = y[:, :t0], y[:, t0:].mean(axis=1)
    if method == "did":
        omega = np.full(n0, 1.0 / n0)
        lam = np.full(t0, 1.0 / t0)
    else:
        if method == "sc":
            lam = np.zeros(t0)
        else:
            lam = two_stage(
                pre[:n0],
                post[:n0],
                pen.zeta_lambda,
                intercept=True,
                start=start_lambda,
                min_decrease=pen.min_decrease,
                max_iter=options.max_iter,
            ).weights
        omega = two_stage(
            pre[:n0].T,
            pre[n0],
            pen.zeta_omega,
            intercept=method == "sdid",
            start=start_omega,
            min_decrease=pen.min_decrease,
            max_iter=options.max_iter,
        ).weights
    synthetic = omega @ y[:n0]
    raw_gaps = y[n0] - synthetic
    estimate = float(raw_gaps[t0:].mean() - lam @ raw_gaps[:t0])
    # The level shift of SDiD and DiD: gaps measured from the lambda-weighted pre gap.
    gaps = raw_gaps if method == "sc" else raw_gaps - lam @ raw_gaps[:t0]
    return WeightedFit(
        method=method, estimate=estimate, omega=omega, lam=lam, gaps=gaps, penalties=pen
    )


def placebo_refit(fit: WeightedFit, data: SyntheticData, donor: int) -> float:
    """The estimate with donor ``donor`` pretending to be treated, as Algorithm 4 of the
    paper (R ``synthdid::placebo_se``) computes it: the original fit's penalties, weights
    started from the original ones (the remaining donors' omega renormalised)."""
    placebo = data.as_treated(donor, treated_as_donor=False)
    keep = np.arange(data.n_donors) != donor
    method: Method = fit.method  # type: ignore[assignment]
    return fit_weighted(
        placebo,
        method,
        fixed=fit.penalties,
        start_omega=normalise(fit.omega[keep]) if method != "did" else None,
        start_lambda=fit.lam if method == "sdid" else None,
    ).estimate
