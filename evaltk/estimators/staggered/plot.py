"""Draw staggered-DiD results (matplotlib, no pyplot global state)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaltk.estimators.axes import figure_axes
from evaltk.estimators.render import format_level
from evaltk.estimators.staggered.format import label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from evaltk.estimators.staggered.aggregate_result import AggregateResult

XLABEL = {
    "dynamic": "periods since treatment (event time)",
    "group": "cohort (first treated period)",
    "calendar": "period",
    "simple": "",
}


def plot_aggregate(
    agg: AggregateResult, ax: Axes | None = None, title: str | None = None
) -> tuple[Figure, Axes]:
    """Estimates by level with intervals; for ``dynamic``, pre-treatment points in grey.

    Parameters
    ----------
    agg : AggregateResult
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new ``Figure`` is created otherwise.
    title : str, optional

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
    """
    fig, ax = figure_axes(ax, (7.5, 4.2))
    band = "simultaneous" if agg.cband else "pointwise"
    interval = f"{format_level(agg.level)} {band} interval"
    if agg.type == "simple":
        ax.errorbar(
            [0],
            [agg.estimate],
            yerr=[[agg.estimate - agg.ci_low], [agg.ci_high - agg.estimate]],
            fmt="o",
            color="C0",
            capsize=4,
            label=f"simple ATT, {format_level(agg.level)} interval",
        )
        ax.set_xticks([0], ["overall"])
    else:
        data = agg.get_plot_data()
        x = data[agg.label_column].to_numpy(float)
        for mask, color, name in (
            (~data["post"], "0.45", "pre-treatment"),
            (data["post"], "C0", "post-treatment"),
        ):
            part = data[mask.to_numpy()]
            if part.empty:
                continue
            est = part["estimate"].to_numpy(float)
            err = np.vstack(
                [est - part["ci_low"].to_numpy(float), part["ci_high"].to_numpy(float) - est]
            )
            ax.errorbar(
                x[mask.to_numpy()],
                est,
                yerr=err,
                fmt="o",
                color=color,
                capsize=3,
                ms=5,
                label=f"{name}" if agg.type == "dynamic" else None,
            )
        if agg.type == "dynamic":
            ax.axvline(-0.5, color="0.5", lw=1, ls=":")
        if np.isfinite(agg.estimate):
            # The overall dynamic effect averages event times >= 0 only: draw it over those.
            span = x[x >= 0] if agg.type == "dynamic" else x
            ax.hlines(
                agg.estimate,
                span.min() - 0.4,
                span.max() + 0.4,
                color="C1",
                lw=1.2,
                ls="--",
                label=f"overall {agg.estimate:.3g} [{agg.ci_low:.3g}, {agg.ci_high:.3g}]",
            )
        ax.set_xticks(x, [label(v) for v in x])
        ax.set_xlabel(XLABEL[agg.type])
    ax.axhline(0, color="0.2", lw=0.8)
    ax.set_ylabel(f"ATT (bars: {interval})")
    ax.set_title(
        title
        or {
            "dynamic": "Event study",
            "group": "ATT by cohort",
            "calendar": "ATT by period",
            "simple": "Overall ATT",
        }[agg.type]
    )
    ax.legend(loc="best", fontsize="small", frameon=False)
    return fig, ax


#: Periods up to which each heat-map cell is labelled with its value.
MAX_LABELLED_PERIODS = 12
#: The widest heat map, in inches (a book column is about 6.5).
MAX_HEATMAP_WIDTH_INCHES = 10.0


def plot_heatmap(
    frame: pd.DataFrame, ax: Axes | None = None, title: str | None = None
) -> tuple[Figure, Axes]:
    r"""Group × time heat map of ATT(g,t) on a diverging scale centred at zero.

    Rows are cohorts, columns periods; each cell shows its estimate (with ``*`` where the
    interval excludes zero), post-treatment cells (:math:`g \le t`) are outlined, and cells
    not estimated are blank. With more than ``MAX_LABELLED_PERIODS`` periods the cells show
    only the ``*`` and the figure is at most ``MAX_HEATMAP_WIDTH_INCHES`` wide.

    Parameters
    ----------
    frame : pandas.DataFrame
        :meth:`CSResult.to_frame` output.
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
    """
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.patches import Rectangle

    groups = np.sort(frame["group"].unique())
    times = np.sort(frame["time"].unique())
    # A book column is about 6.5 inches: past MAX_LABELLED_PERIODS columns the figure stops
    # growing and the cells keep only their colour and the * (the values are in the table
    # and effects.csv), or everything would be shrunk to unreadable.
    labelled = len(times) <= MAX_LABELLED_PERIODS
    width = min(1.1 * len(times) + 2.5, MAX_HEATMAP_WIDTH_INCHES)
    fig, ax = figure_axes(ax, (width, 0.6 * len(groups) + 1.8))
    grid = np.full((len(groups), len(times)), np.nan)
    gi = np.searchsorted(groups, frame["group"])
    ti = np.searchsorted(times, frame["time"])
    grid[gi, ti] = frame["att"].to_numpy(float)
    bound = float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 1.0
    bound = bound or 1.0
    image = ax.imshow(
        np.ma.masked_invalid(grid),
        cmap="RdBu_r",
        aspect="auto",
        norm=TwoSlopeNorm(0.0, -bound, bound),
    )
    att = frame["att"].to_numpy(float)
    low, high = frame["ci_low"].to_numpy(float), frame["ci_high"].to_numpy(float)
    post = frame["post"].to_numpy(bool)
    for k, (r, c) in enumerate(zip(gi, ti, strict=True)):
        excl = bool(np.isfinite(low[k]) and (low[k] > 0 or high[k] < 0))
        shade = abs(att[k]) > 0.6 * bound
        ax.text(
            c,
            r,
            f"{att[k]:.3f}{'*' if excl else ''}" if labelled else ("*" if excl else ""),
            ha="center",
            va="center",
            fontsize="small",
            color="white" if shade else "black",
        )
        if post[k]:
            ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, lw=1.2, ec="0.15"))
    ax.set_xticks(range(len(times)), [label(t) for t in times])
    ax.set_yticks(range(len(groups)), [label(g) for g in groups])
    ax.set_xlabel("period")
    ax.set_ylabel("cohort (first treated)")
    ax.set_title(title or "ATT(g,t): outlined cells are post-treatment; * interval excludes 0")
    fig.colorbar(image, ax=ax, label="ATT(g,t)")
    return fig, ax
