"""The sensitivity of an event-study or staggered result to non-parallel trends (Rambachan &
Roth 2023), as the record results.json keeps: built from the event-time coefficients and
their covariance, or the reason it could not be."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError

if TYPE_CHECKING:
    from evaltk.estimators.did import EventStudyResult
    from evaltk.estimators.staggered import AggregateResult

TARGET_TEXT = "average of the event-time effects from the start on"


def not_computed(reason: str) -> dict[str, Any]:
    return {"computed": False, "reason": reason}


def from_event_times(
    estimates: pd.Series,
    covariance: pd.DataFrame,
    level: float,
    scale: str,
    seed: int,
    note: str = "",
) -> dict[str, Any]:
    """The record for coefficients indexed by event time (reference period -1 absent)."""
    times = [int(t) for t in estimates.index]
    pre = [t for t in times if t < -1]
    post = [t for t in times if t >= 0]
    if not pre or not post:
        return not_computed("the bounds need at least one period before -1 and one from 0 on")
    order = pre + post
    beta = estimates.loc[order].to_numpy(dtype=float)
    sigma = covariance.loc[order, order].to_numpy(dtype=float)
    if not (np.isfinite(beta).all() and np.isfinite(sigma).all()):
        return not_computed("an event-time coefficient or its variance is missing")
    # Imported here: its LP and cone solvers (highspy, cvxpy: 0.3 s) load in the runs that
    # compute bounds, not in every analysis process (the demo forks its workers with them).
    from evaltk.estimators.sensitivity import EventStudyCoefficients, sensitivity

    try:
        coefs = EventStudyCoefficients(tuple(order), beta, sigma, len(pre), len(post))
        result = sensitivity(coefs, level, seed=seed, note=note)
    except EstimationError as error:
        return not_computed(str(error))
    record = result.to_dict()
    null = 0.0
    if scale == "ratio":
        # The bounds are on the log scale of the coefficients; report rate ratios.
        null = 1.0
        record["estimate"] = float(np.exp(record["estimate"]))
        for row in record["rows"]:
            for end in ("ci_low", "ci_high"):
                if row[end] is not None:
                    row[end] = float(np.exp(row[end]))
    return {"computed": True, "reason": "", "scale": scale, "null": null, **record}


def event_study_sensitivity(study: EventStudyResult, level: float, seed: int) -> dict[str, Any]:
    kept = study.event_time_covariance()
    if kept is None:
        return not_computed("the event study kept no covariance of its coefficients")
    estimates, covariance = kept
    note = (
        "From the cluster-robust covariance of the event-study coefficients; the end bins hold "
        "every earlier or later period, so a change into them spans more than one period."
    )
    if study.inference != "cluster":
        note += (
            f" The headline's inference is {study.inference}, not cluster-robust: with few "
            "clusters these bounds, resting on the cluster-robust covariance, are too narrow."
        )
    return from_event_times(estimates, covariance, level, study.scale, seed, note)


def staggered_sensitivity(
    dynamic: AggregateResult, level: float, base_period: str, seed: int
) -> dict[str, Any]:
    levels = dynamic.levels
    if levels.empty:
        return not_computed("no event-time effects")
    influence = dynamic.influence_function().to_numpy(dtype=float)[:, : len(levels)]
    n = influence.shape[0]
    times = levels["event_time"].to_numpy(dtype=int)
    # The covariance of the estimates from the unit-level influence functions, as the
    # standard errors are (R HonestDiD's wrapper for `did` does the same).
    covariance = pd.DataFrame(influence.T @ influence / n**2, index=times, columns=times)
    estimates = pd.Series(levels["estimate"].to_numpy(dtype=float), index=times)
    keep = [int(t) for t in times if t != -1]
    note = (
        f"From the influence-function covariance of Callaway & Sant'Anna's event-time effects "
        f"({n} units); event time -1 is the reference and left out. The target is the "
        "average of the event-time effects from the start on (the dynamic aggregation's "
        "overall effect), which can differ from the headline when it aggregates otherwise."
    )
    if base_period == "varying":
        note += (
            " With the varying base period the pre-start effects are period-on-period "
            "changes, which the bounds read as levels (a universal base period fits them "
            "better)."
        )
    return from_event_times(
        estimates.loc[keep], covariance.loc[keep, keep], level, "difference", seed, note
    )
