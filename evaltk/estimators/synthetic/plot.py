"""Figures of a synthetic estimate: the treated unit against its synthetic unit, and every
placebo gap beside the treated unit's (no pyplot state)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from evaltk.estimators.axes import figure_axes

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_paths(
    periods: pd.Index,
    treated: NDArray[np.float64],
    synthetic: NDArray[np.float64],
    start: Any,
    labels: tuple[str, str, str],
    ax: Axes | None = None,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """The treated unit's series and its synthetic counterfactual; the start marked.

    ``labels`` are the treated line's, the synthetic line's and the y axis's.
    """
    fig, ax = figure_axes(ax)
    ax.plot(periods, treated, "-", color="C0", lw=1.6, label=labels[0])
    ax.plot(periods, synthetic, "--", color="C1", lw=1.6, label=labels[1])
    ax.axvline(start, color="0.4", lw=0.8, ls=":", label="start")
    ax.set_xlabel("period")
    ax.set_ylabel(labels[2])
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small", frameon=False)
    return fig, ax


def plot_placebo_gaps(
    periods: pd.Index,
    gaps: NDArray[np.float64],
    start: Any,
    treated_label: str,
    ax: Axes | None = None,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """Each placebo's gap in grey and the treated unit's (row 0) in black."""
    fig, ax = figure_axes(ax)
    for i, row in enumerate(gaps[1:]):
        ax.plot(
            periods, row, "-", color="0.75", lw=0.8, label="placebos (donors)" if i == 0 else None
        )
    ax.plot(periods, gaps[0], "-", color="black", lw=1.8, label=treated_label)
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.axvline(start, color="0.4", lw=0.8, ls=":", label="start")
    ax.set_xlabel("period")
    ax.set_ylabel("gap (treated minus synthetic)")
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small", frameon=False)
    return fig, ax
