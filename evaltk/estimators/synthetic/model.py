"""Fit a synthetic control or synthetic DiD and its placebo inference in one call.

:func:`synthetic_control` is the ADH estimator (:mod:`~evaltk.estimators.synthetic.adh`);
:func:`synthetic_did` that of Arkhangelsky et al. (:mod:`~evaltk.estimators.synthetic.sdid`).
Both run the checks Abadie (2021) asks of practitioners: placebo in space (the p-value and
the figure of all placebo gaps), placebo in time and leave one donor out; each check refits
the same estimator, so it costs about one fit per donor.
"""

from __future__ import annotations

import numpy as np

from evaltk.errors import EstimationError
from evaltk.estimators.synthetic.adh import SCOptions, fit_sc
from evaltk.estimators.synthetic.data import SyntheticData
from evaltk.estimators.synthetic.inference import (
    GapFit,
    leave_one_out,
    placebo_in_space,
    placebo_in_time,
)
from evaltk.estimators.synthetic.results import SyntheticResult
from evaltk.estimators.synthetic.sdid import SDiDOptions, fit_weighted, placebo_refit


def synthetic_control(
    data: SyntheticData,
    options: SCOptions | None = None,
    *,
    level: float = 0.95,
    placebo_time_pre: int | None = None,
    robustness: bool = True,
) -> SyntheticResult:
    """ADH synthetic control of ``data`` with placebo-in-space inference.

    Parameters
    ----------
    data : SyntheticData
        From :func:`~evaltk.estimators.synthetic.data.synthetic_data` (with predictors, or
        on pre-period outcomes only).
    options : SCOptions, optional
        The predictor-weight search.
    level : float
        Confidence level of the placebo-standard-error interval.
    placebo_time_pre : int, optional
        Pre periods before the pretend start of the placebo in time (default half).
    robustness : bool
        Run the placebo in time and leave one donor out (the placebo in space always runs).

    Returns
    -------
    SyntheticResult
    """
    options = options or SCOptions()

    def fitter(d: SyntheticData) -> GapFit:
        return fit_sc(d, options)

    fit = fit_sc(data, options)
    space = placebo_in_space(data, fitter, fit)
    return SyntheticResult(
        method="synthetic_control",
        data=data,
        estimate=fit.estimate,
        weights=fit.weights,
        time_weights=None,
        predictor_weights=fit.v,
        gaps=fit.gaps,
        placebo_space=space,
        placebo_se=space.placebo_sd,
        placebo_time=placebo_in_time(data, fitter, placebo_time_pre) if robustness else None,
        leave_one_out=leave_one_out(data, fitter, fit.weights) if robustness else None,
        level=level,
    )


def synthetic_did(
    data: SyntheticData,
    options: SDiDOptions | None = None,
    *,
    level: float = 0.95,
    placebo_time_pre: int | None = None,
    robustness: bool = True,
) -> SyntheticResult:
    """Synthetic DiD of ``data`` with its placebo standard error and placebo-in-space p-value.

    The placebo standard error is Algorithm 4 of Arkhangelsky et al. (R
    ``synthdid::vcov(method = "placebo")``) over every donor in turn rather than random
    draws of one: each donor is treated, the others weighted again from the original
    weights with the original penalties; the standard error is the spread (divisor n) of
    those estimates. The p-value ranks post/pre RMSPE ratios of full refits (each donor's
    penalties its own), so that every unit passes through the same procedure.

    Parameters are those of :func:`synthetic_control` (``options`` the SDiD penalties).
    """
    options = options or SDiDOptions()
    if data.x is not None:
        # Predictors enter SDiD only as covariates adjusted for first (not implemented here):
        # refuse rather than silently ignore them.
        raise EstimationError(
            "synthetic DiD: predictors are not used by this estimator; fit it on outcomes only"
        )

    def fitter(d: SyntheticData) -> GapFit:
        return fit_weighted(d, "sdid", options)

    fit = fit_weighted(data, "sdid", options)
    space = placebo_in_space(data, fitter, fit)
    algorithm4 = np.array([placebo_refit(fit, data, j) for j in range(data.n_donors)])
    return SyntheticResult(
        method="synthetic_did",
        data=data,
        estimate=fit.estimate,
        weights=fit.omega,
        time_weights=fit.lam,
        predictor_weights=None,
        gaps=fit.gaps,
        placebo_space=space,
        placebo_se=float(np.std(algorithm4)),
        placebo_time=placebo_in_time(data, fitter, placebo_time_pre) if robustness else None,
        leave_one_out=leave_one_out(data, fitter, fit.omega) if robustness else None,
        level=level,
    )
