"""What a chapter says about a DiD result's sensitivity to non-parallel trends (Rambachan &
Roth 2023), next to the result: the breakdown value in a sentence and the robust intervals
over the bounds. Reads only the outcome's ``sensitivity`` in results.json."""

from __future__ import annotations

import re
from typing import Any

from evaltk.publish import format as fmt
from evaltk.results.schema import OutcomeResult

_RESTRICTION = {
    "relative_magnitudes": "post-start change at most {bound} × the largest pre-start change",
    "smoothness": "trend bends by at most {bound} a period",
}


_SINGULAR = re.compile(
    r"covariance of the (\d+) event-time coefficients is singular \(rank (\d+)\)"
)


def _singular(reason: str, n_units: int) -> str | None:
    """Why a singular covariance means no bounds, for a reader rather than a statistician;
    None for any other reason."""
    found = _SINGULAR.search(reason)
    if found is None:
        return None
    effects, rank = int(found[1]), int(found[2])
    return (
        f"Not shown for this result. The bounds rest on how the {effects} event-time effects "
        f"vary together (their covariance), which is estimated from the {n_units} forces: so "
        f"few forces pin down only {rank} independent directions of it, not {effects}, and no "
        "bound on non-parallel trends can be computed from it. With more forces than event "
        "times, or fewer event times (a coarser period, or a narrower window of event times), "
        "it can. The result's robustness to non-parallel trends is therefore not assessed; "
        "its pre-trend test is under Diagnostics."
    )


def sensitivity_section(outcome: OutcomeResult, level: float) -> dict[str, Any] | None:
    """The section's values; None for designs without the bounds."""
    record = outcome.sensitivity
    if record is None:
        return None
    if not record.computed:
        return {
            "computed": False,
            "reason": _singular(record.reason, outcome.n_units)
            or f"Not computed: {record.reason}.".replace("..", "."),
            "rows": [],
        }
    scale = record.scale or outcome.scale

    def interval(low: float | None, high: float | None) -> str:
        if scale == "ratio":
            return fmt.ratio_interval(low, high)
        return fmt.difference_interval(low, high)

    rows = [
        {
            "bound": _RESTRICTION[b.restriction].format(bound=fmt.number(b.bound)),
            "interval": interval(b.ci_low, b.ci_high),
            "excludes": {True: "yes", False: "no", None: "–"}[b.excludes_null],
        }
        for b in record.bounds
    ]
    smooth = (
        "not reached up to the largest value checked"
        if record.breakdown_m is None
        else fmt.number(record.breakdown_m)
    )
    return {
        "computed": True,
        "sentence": record.sentence,
        "smoothness": f"Under the smoothness bound the conclusion holds while the trend "
        f"difference bends by at most {smooth} a period (largest bend before the start: "
        f"{fmt.number(record.largest_pre_bend)}).",
        "ci_header": fmt.ci_label(record.level or level),
        "rows": rows,
        "note": record.note,
        "method": record.method,
    }
