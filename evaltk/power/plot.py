"""The power figure: power against the size of the true change, a line per post-period."""

from __future__ import annotations

from typing import Any

import numpy as np

from evaltk.estimators.effect import critical_value
from evaltk.power.report import BY_MONTHS, PowerReport, column_labels

#: The design named in the figure's title (an ITS needs no name).
DESIGN_WORDS = {
    "did": "difference-in-differences, ",
    "event_study": "difference-in-differences, ",
    "cits": "comparative ITS, ",
    "staggered_did": "staggered adoption (Callaway & Sant'Anna), ",
    "synthetic_control": "synthetic control, placebo rank test, ",
}

#: Level of the Monte Carlo bars on each power estimate.
MC_LEVEL = 0.95


def plot_power(report: PowerReport) -> tuple[Any, Any]:
    """Power curves with 95 % Monte Carlo bars (±1.96 SE) and the target power as a line.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
    """
    from matplotlib.figure import Figure

    frame = report.to_frame()
    settings = report.settings
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    frame["change"] = (frame["effect"] - 1.0) * 100.0
    frame["column"] = column_labels(frame, report.design)
    registered = settings.get("registered_months_after")
    for months, part in frame.groupby("column", sort=False):
        part = part.sort_values("change")
        label = (
            f"{months} months after" + (" (registered)" if months == registered else "")
            if report.design in BY_MONTHS
            else f"{months} forces"
        )
        ax.errorbar(
            part["change"],
            part["power"],
            yerr=critical_value(MC_LEVEL) * part["mc_se"],
            marker="o",
            ms=4,
            capsize=2,
            lw=2.0 if months == registered else 1.2,
            label=label,
        )
    target = settings.get("target_power", 0.8)
    ax.axhline(target, color="0.4", ls=":", lw=1, label=f"target power {target:.0%}")
    ax.axhline(settings.get("alpha", 0.05), color="0.7", ls="--", lw=1, label="alpha")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("true change in the primary outcome after the start (%)")
    ax.set_ylabel("power (share of replicates significant)")
    design = DESIGN_WORDS.get(report.design, "")
    before = settings.get("months_before")
    ax.set_title(
        f"{settings.get('outcome_label') or settings.get('outcome')}\n"
        f"{design}{'' if before is None else f'{before} months before the start, '}"
        f"{settings.get('replicates')} replicates per point",
        fontsize="medium",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", frameon=False, loc="best")
    changes = frame["change"].to_numpy()
    if np.all(changes <= 0):
        ax.invert_xaxis()  # reductions read left to right, from small to large
    return fig, ax
