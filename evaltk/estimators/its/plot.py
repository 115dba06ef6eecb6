"""Draw an ITS fit from its public plot data (matplotlib, no pyplot global state)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.dates import date2num

from evaltk.estimators.its.options import ITSSpec
from evaltk.estimators.render import format_level

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_its(
    data: pd.DataFrame,
    start: pd.Timestamp,
    spec: ITSSpec,
    ax: Axes | None = None,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """Plot observed, fitted and counterfactual series.

    Parameters
    ----------
    data : pandas.DataFrame
        :meth:`ITSResult.get_plot_data` output.
    start : pandas.Timestamp
        Intervention month; a vertical line is drawn at its start.
    spec : ITSSpec
        Used for the interval level in the legend.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new ``Figure`` is created otherwise.
    title : str, optional
        Axes title.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
    """
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8, 4.5), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.get_figure()  # type: ignore[assignment]

    washout = data.loc[data["washout"], "period"]
    if len(washout):
        end = washout.iloc[-1] + pd.DateOffset(months=1)
        ax.axvspan(washout.iloc[0], end, color="0.9", zorder=0, label="washout (not fitted)")
    ax.plot(data["period"], data["observed"], "o", ms=3.5, color="0.25", label="observed")
    # The fitted line breaks at the intervention: a level change is a jump, not a ramp.
    post = data["post"].to_numpy()
    for part, label in ((data[~post], "fitted"), (data[post], None)):
        ax.plot(part["period"], part["fitted"], "-", color="C0", lw=1.6, label=label)

    # Start the counterfactual at the last pre month so that it visibly leaves the fitted line.
    first_post = int(post.argmax())
    cf = data.iloc[max(first_post - 1, 0) :]
    ax.fill_between(
        cf["period"],
        cf["cf_low"],
        cf["cf_high"],
        color="C1",
        alpha=0.2,
        lw=0,
        label=f"counterfactual {format_level(spec.level)} CI",
    )
    ax.plot(cf["period"], cf["counterfactual"], "--", color="C1", lw=1.6, label="counterfactual")
    ax.axvline(date2num(start), color="0.4", lw=1, ls=":", label=f"intervention ({start:%Y-%m})")
    ax.set_xlabel("month")
    ax.set_ylabel("events" if spec.scale == "ratio" else "outcome")
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small", frameon=False)
    return fig, ax
