"""The change over the treated force-months that a comparison design's headline implies.

The DiD-type designs (2x2, TWFE, event study, staggered) estimate an average effect per treated
unit-month: a difference on the measure's own scale (rate per 100,000 per month, share, mean,
count) or, for Poisson TWFE, a rate ratio. Turned into a total over the treated force-months
(every treated unit's months from its start, INCLUSIVE, to the end of the data):

* difference: ``averted = -ATT * exposure`` with exposure the sum over treated unit-months of
  population / 100,000 (rate), episodes (share, mean) or 1 (count, sum);
* ratio: ``averted = observed (1 / ratio - 1)``: the observed total is the total with the
  scheme, and the counterfactual ``observed / ratio`` is what moves across the interval.

The comparative ITS models the treated units added up: its counterfactual total is the sum of
the treated series' counterfactual over its post months (washout left out), and a difference
(Gaussian family) multiplies the summed series' exposure, one per month for a count.
The effect's interval maps through the same formula (see
:class:`~evaltk.estimate.total_change.TotalChange`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from evaltk.estimate.fit import OutcomeFit
from evaltk.estimate.panel_frame import OutcomeFrame
from evaltk.estimate.total_change import effect_total
from evaltk.protocol.aggregates import total_unit


def treated_months(
    frame: OutcomeFrame, units: list[str] | None = None, washout_months: int = 0
) -> pd.DataFrame:
    """The treated unit-months (from each unit's start, INCLUSIVE, washout left out) of
    ``units`` (default: every unit of the frame)."""
    data = frame.frame
    if units is not None:
        data = data[data["unit"].isin(units)]
    start = pd.to_datetime(data["unit"].map(frame.starts))
    treated = start.notna() & (data["period"] >= start)
    if washout_months:
        treated &= data["period"] >= start + pd.DateOffset(months=washout_months)
    return data[treated.to_numpy()]


def exposure(frame: OutcomeFrame, rows: pd.DataFrame, summed: bool = False) -> float:
    """What one unit of a difference on the measure's scale is worth in events (or the field's
    units) over ``rows``; ``summed``: the units are added up month by month (a count then
    counts one per month, not per unit-month)."""
    if frame.kind.per_population:
        return float(rows["denominator"].sum()) / frame.per
    if frame.kind.per_incident:
        return float(rows["denominator"].sum())
    return float(rows["period"].nunique() if summed else len(rows))


def with_total_change(
    fit: OutcomeFit, frame: OutcomeFrame, units: list[str] | None = None
) -> OutcomeFit:
    """``fit`` with the change over the treated force-months its headline implies (a DiD-type
    design's ATT times the exposure, or a ratio on the observed total)."""
    if fit.effect is None:
        return fit
    rows = treated_months(frame, units)
    if rows.empty:
        return fit
    # A ratio rests on the observed total (the total with the scheme); a difference on exposure.
    amount = float(rows["numerator"].sum()) if fit.scale == "ratio" else exposure(frame, rows)
    change = effect_total(fit.effect, amount, len(rows))
    return replace(fit, change=change, total_unit=total_unit(fit.outcome, fit.aggregate, True))


def with_cits_change(
    fit: OutcomeFit, frame: OutcomeFrame, treated_units: list[str], washout_months: int
) -> OutcomeFit:
    """``fit`` (a comparative ITS) with the change over the treated series' post months: the
    ratio on the sum of its counterfactual, or the difference times its summed exposure."""
    if fit.effect is None or fit.result is None:
        return fit
    plot = fit.result.get_plot_data()
    rows = (plot["role"] == "treated") & plot["post"].astype(bool)
    months = int(rows.sum())
    if fit.scale == "ratio":
        # The model's total with the scheme: the counterfactual's sum times the ratio.
        counterfactual = float(np.asarray(plot.loc[rows, "counterfactual"], dtype=float).sum())
        amount = counterfactual * fit.effect.estimate
    else:
        treated = treated_months(frame, treated_units, washout_months)
        amount = exposure(frame, treated, summed=True)
    influence = fit.totals.month_influence if fit.totals is not None else None
    # Force-months: the summed series' post months in each treated force (the scheme's
    # running cost is charged per force and month, as for the other designs).
    change = effect_total(fit.effect, amount, months * len(treated_units), influence)
    return replace(fit, change=change)
