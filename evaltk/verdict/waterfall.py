"""The waterfall chart of where demand went: each costed outcome's pounds, then the net."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np

from evaltk.results.schema import Ledger

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SAVED, ADDED, NET = "#2b8a3e", "#c92a2a", "#1c3d5a"
#: Outcome labels are wrapped at this many characters, so that the label column does not
#: squeeze the bars (the labels of the examples run to 60 characters).
LABEL_WIDTH = 30
#: Room left on each side of the widest bar or interval end, as a share of the span.
PAD = 0.06


def plot_waterfall(ledger: Ledger) -> tuple[Figure, Axes]:
    """Bars step from zero through each line's pounds (green saved, red added) to the net.

    Lines kept out of the net (``in_net: false``) are not drawn as steps; the net bar carries
    its interval, which allows for the correlation between outcomes.
    """
    # A bare Figure, not pyplot: drawing must not touch the session's backend or its list of
    # open figures (a notebook would show every figure a run draws for its files).
    from matplotlib.figure import Figure

    lines = [line for line in ledger.lines if line.in_net]
    values = np.array([line.pounds.estimate or 0.0 for line in lines]) / 1000
    labels = [textwrap.fill(line.label, LABEL_WIDTH) for line in lines] + ["Net change"]
    starts = np.concatenate([[0.0], np.cumsum(values)[:-1]])
    # Constrained layout sizes the axes around the labels and the title before drawing, so
    # nothing is cut at the figure's edge (tight_layout gave up on the long labels).
    fig = Figure(figsize=(8, 0.6 * len(labels) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    positions = np.arange(len(labels))[::-1]
    for position, start, value in zip(positions[:-1], starts, values, strict=True):
        ax.barh(position, value, left=start, color=SAVED if value >= 0 else ADDED, height=0.6)
    net = ledger.net_pounds
    net_value = (net.estimate or 0.0) / 1000
    error = None
    ends = [0.0, net_value, *starts, *(starts + values)]
    if net.ci_low is not None and net.ci_high is not None:
        error = [[net_value - net.ci_low / 1000], [net.ci_high / 1000 - net_value]]
        ends += [net.ci_low / 1000, net.ci_high / 1000]
    ax.barh(positions[-1], net_value, color=NET, height=0.6, xerr=error, capsize=4)
    ax.axvline(0, color="black", linewidth=0.8)
    # The x range is set from every bar end and interval end, so no bar runs off the axes.
    low, high = min(ends), max(ends)
    pad = PAD * ((high - low) or 1.0)
    ax.set_xlim(low - pad, high + pad)
    ax.set_yticks(positions, labels)
    ax.set_xlabel("£ thousands over the months after the start\n(right of 0: saved; left: added)")
    fig.suptitle("Where demand went: pounds saved and added across the system")
    return fig, ax
