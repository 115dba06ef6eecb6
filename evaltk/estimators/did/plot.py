"""Figures of the DiD-type results, drawn from their public plot data (no pyplot state)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaltk.estimators.axes import figure_axes
from evaltk.estimators.render import format_level

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_event_study(
    data: pd.DataFrame,
    scale: str,
    level: float,
    pretrend: Any,
    ax: Axes | None = None,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """Coefficients (points) and intervals (bars) against event-time bin.

    The reference bin ``-1`` is drawn hollow at 0 (or 1 for ratios); the dotted vertical line
    sits between the last lead and adoption; binned endpoints are labelled ``<=`` / ``>=``.
    """
    fig, ax = figure_axes(ax)
    null = 1.0 if scale == "ratio" else 0.0
    est = data[data["kind"] != "reference"]
    ref = data[data["kind"] == "reference"]
    lower = (est["estimate"] - est["ci_low"]).clip(lower=0)
    upper = (est["ci_high"] - est["estimate"]).clip(lower=0)
    colors = np.where(est["kind"] == "lead", "C0", "C1")
    for color, label in (("C0", "leads (before adoption)"), ("C1", "lags (from adoption)")):
        rows = colors == color
        ax.errorbar(
            est["event_time"][rows],
            est["estimate"][rows],
            yerr=[lower[rows].fillna(0), upper[rows].fillna(0)],
            fmt="o",
            color=color,
            capsize=3,
            ms=5,
            label=f"{label}, {format_level(level)} CI",
        )
    ax.plot(
        ref["event_time"],
        ref["estimate"],
        "o",
        mfc="white",
        color="0.3",
        label="reference (bin -1)",
    )
    ax.axhline(null, color="0.5", lw=1)
    ax.axvline(-0.5, color="0.4", lw=1, ls=":")
    if scale == "ratio":
        from matplotlib.ticker import NullFormatter, ScalarFormatter

        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
    ticks = data["event_time"].to_numpy()
    labels = [str(t) for t in ticks]
    labels[0], labels[-1] = f"≤{ticks[0]}", f"≥{ticks[-1]}"
    ax.set_xticks(ticks, labels)
    ax.set_xlabel("event time (bins since adoption)")
    ax.set_ylabel("rate ratio" if scale == "ratio" else "difference")
    if pretrend is not None:
        ax.text(
            0.01,
            0.98,
            f"pre-trend test p = {pretrend.p_value:.3g}",
            transform=ax.transAxes,
            va="top",
            fontsize="small",
        )
    if title:
        ax.set_title(title)
    ax.legend(loc="lower left", fontsize="small", frameon=False)
    return fig, ax


def plot_groups(
    data: pd.DataFrame,
    details: Mapping[str, Any],
    ax: Axes | None = None,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """Mean outcome by period for treated and comparison units, adoption dates marked."""
    fig, ax = figure_axes(ax)
    for i, (group, rows) in enumerate(data.groupby("group", sort=False)):
        ax.plot(rows["period"], rows["value"], "-", color=f"C{i}", lw=1.4, label=group)
    starts = sorted({s for s in details.get("starts", {}).values() if s is not None})
    for j, start in enumerate(starts):
        ax.axvline(start, color="0.4", lw=0.8, ls=":", label="adoption" if j == 0 else None)
    ax.set_xlabel("period")
    ax.set_ylabel(str(data["measure"].iloc[0]) if len(data) else "outcome")
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small", frameon=False)
    return fig, ax


def plot_cits(
    data: pd.DataFrame,
    details: Mapping[str, Any],
    ax: Axes | None = None,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """Observed treated and comparison series, fitted treated line and its counterfactual."""
    fig, ax = figure_axes(ax)
    treated = data[data["role"] == "treated"]
    comparison = data[data["role"] == "comparison"].groupby("period", sort=True)
    comp = comparison[["observed", "fitted"]].mean().reset_index()
    ax.plot(treated["period"], treated["observed"], "o", ms=3, color="C0", label="treated")
    ax.plot(
        comp["period"], comp["observed"], "o", ms=3, color="C2", label="comparison (mean of series)"
    )
    ax.plot(treated["period"], treated["fitted"], "-", color="C0", lw=1.4, label="fitted")
    ax.plot(comp["period"], comp["fitted"], "-", color="C2", lw=1.2)
    post = treated[treated["post"]]
    ax.plot(
        post["period"],
        post["counterfactual"],
        "--",
        color="C1",
        lw=1.4,
        label="treated without the intervention",
    )
    start = details.get("start")
    if start is not None:
        ax.axvline(pd.Timestamp(start), color="0.4", lw=1, ls=":", label="intervention")  # type: ignore[arg-type]
    ax.set_xlabel("month")
    ax.set_ylabel(str(details.get("measure", "outcome")))
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small", frameon=False)
    return fig, ax
