"""The one way an estimator's ``plot()`` gets its axes: the caller's, or a new figure.

A new figure is made with matplotlib's object API (no pyplot state, so nothing leaks between
plots in a notebook or a worker) and a constrained layout, so labels fit inside the frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DEFAULT_SIZE = (8.0, 4.5)


def figure_axes(ax: Axes | None, size: tuple[float, float] = DEFAULT_SIZE) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new ``size``-inch figure with one axes."""
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=size, layout="constrained")
        return fig, fig.add_subplot()
    return ax.get_figure(), ax  # type: ignore[return-value]
