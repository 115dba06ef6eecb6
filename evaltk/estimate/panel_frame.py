"""Panel -> the unit x period frame a comparison design (did, event study, staggered, CITS) is
fitted to, and the rules that say which column is the response and which the exposure.

The rules are those of the interrupted time series (:mod:`evaltk.estimate.its`), applied
unit by unit:

* count and sum: the response is the monthly numerator, no exposure;
* rate: the response is the count, the exposure the population (a log offset in Poisson models:
  the effect is a rate ratio);
* share and mean: the response is the numerator (count, or sum of the field), the exposure the
  denominator (episodes): a ratio of shares or of means;
* linear models (and Callaway & Sant'Anna) use the measure's value itself: the rate per
  100,000, the share, the mean, the count; their effect is a difference in it.

Unit-months whose denominator is zero (a share or mean with no episodes) carry no information
and are left out, with a note. Periods are months named by their first day; binned periods
(quarters, years) are named by their first month and hold the monthly average of the measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltk.measures.panel import Panel
from evaltk.protocol.aggregates import Aggregate, aggregate_kind
from evaltk.protocol.spec import Outcome, Protocol

#: Months per bin of ``design.staggered.period_bin``.
BIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class OutcomeFrame:
    """One outcome, unit by unit.

    ``frame`` columns: ``unit``, ``period`` (Timestamp, first month of the period), ``y`` (the
    response of count models), ``exposure`` (NaN where there is none), ``value`` (the measure
    as defined), ``numerator`` and ``denominator`` (as in the panel). ``starts`` maps every
    unit to its first treated month (Timestamp) or None for comparison units. ``note`` says
    what was left out.
    """

    outcome: Outcome
    aggregate: str
    per: int
    frame: pd.DataFrame
    starts: dict[str, pd.Timestamp | None]
    note: str = ""

    @property
    def kind(self) -> Aggregate:
        """What the outcome's aggregate means (protocol/aggregates.py)."""
        return aggregate_kind(self.aggregate)

    @property
    def has_exposure(self) -> bool:
        return self.kind.has_denominator

    @property
    def units(self) -> list[str]:
        return sorted(self.frame["unit"].unique().tolist())


def unit_starts(protocol: Protocol) -> dict[str, pd.Timestamp | None]:
    """Every analysed unit -> the first month of its start (INCLUSIVE), None if never treated."""
    out: dict[str, pd.Timestamp | None] = {}
    for unit in protocol.units:
        start = protocol.intervention.start.get(unit)
        out[unit] = None if start is None else pd.Timestamp(start.replace(day=1))
    return out


def outcome_frame(panel: Panel, protocol: Protocol, outcome: Outcome) -> OutcomeFrame:
    """The outcome's unit x month rows for the protocol's units, empty unit-months left out."""
    rows = panel.frame[
        (panel.frame["outcome"] == outcome.id) & panel.frame["unit"].isin(protocol.units)
    ]
    aggregate = panel.aggregates[outcome.id]
    frame = rows[["unit", "period", "numerator", "denominator", "value"]].copy()
    frame["period"] = pd.to_datetime(frame["period"])
    frame = frame.sort_values(["unit", "period"]).reset_index(drop=True)
    frame["y"] = frame["numerator"].astype(float)
    has_exposure = aggregate_kind(aggregate).has_denominator
    frame["exposure"] = frame["denominator"].astype(float) if has_exposure else np.nan
    notes: list[str] = []
    # A unit-month without data (Panel.empty_months) is missing, never a zero: left out.
    missing = frame["y"].isna()
    if missing.any():
        notes.append(_left_out(frame[missing], "without data"))
        frame = frame[~missing].reset_index(drop=True)
    if has_exposure:
        empty = ~(frame["exposure"] > 0)
        if empty.any():
            notes.append(_left_out(frame[empty], "with no denominator"))
            frame = frame[~empty].reset_index(drop=True)
    note = " ".join(notes)
    return OutcomeFrame(
        outcome=outcome,
        aggregate=aggregate,
        per=panel.per.get(outcome.id, 100_000),
        frame=frame,
        starts=unit_starts(protocol),
        note=note,
    )


def _left_out(rows: pd.DataFrame, why: str) -> str:
    by_unit = rows.groupby("unit")["period"].apply(lambda p: ", ".join(p.dt.strftime("%Y-%m")))
    listed = "; ".join(f"{unit}: {months}" for unit, months in by_unit.items())
    return f"{len(rows)} unit-month(s) {why} were left out ({listed})."


def bin_periods(frame: OutcomeFrame, period_bin: str) -> pd.DataFrame:
    """Rows by unit and calendar quarter or year (``month``: unchanged).

    A bin's ``value`` is the monthly average of the measure: rates, shares and means are sums
    over sums (a rate stays per 100,000 per month), counts and sums are averaged over the
    months of the bin that have data. ``months`` counts them.
    """
    data = frame.frame.copy()
    months = BIN_MONTHS[period_bin]
    if months == 1:
        data["months"] = 1
        return data
    data["period"] = bin_start(data["period"], period_bin)
    grouped = data.groupby(["unit", "period"], sort=True)
    out = grouped[["numerator", "denominator", "y", "exposure"]].sum(min_count=1).reset_index()
    out["months"] = grouped.size().to_numpy()
    if frame.kind.per_population:
        out["value"] = out["numerator"] / out["denominator"] * frame.per
    elif frame.kind.per_incident:
        out["value"] = out["numerator"] / out["denominator"]
    else:
        out["value"] = out["numerator"] / out["months"]
    return out


def bin_start(periods: pd.Series, period_bin: str) -> pd.Series:
    """First month of the quarter or year each period falls in."""
    months = BIN_MONTHS[period_bin]
    stamps = pd.to_datetime(periods)
    month = ((stamps.dt.month - 1) // months) * months + 1
    return pd.to_datetime({"year": stamps.dt.year, "month": month, "day": 1})


def summed_series(frame: OutcomeFrame, units: list[str]) -> pd.DataFrame:
    """``units`` added up by month: ``period, numerator, denominator, value`` (value recomputed
    from the sums so that it keeps its definition), months some unit lacks left out."""
    rows = frame.frame[frame.frame["unit"].isin(units)]
    complete = rows.groupby("period")["unit"].nunique() == len(units)
    rows = rows[rows["period"].isin(complete[complete].index)]
    out = rows.groupby("period", sort=True)[["numerator", "denominator"]].sum(min_count=1)
    out = out.reset_index()
    if frame.kind.per_population:
        out["value"] = out["numerator"] / out["denominator"] * frame.per
    elif frame.kind.per_incident:
        out["value"] = out["numerator"] / out["denominator"]
    else:
        out["value"] = out["numerator"]
    return out


def baseline(frame: OutcomeFrame, value: pd.DataFrame | None = None) -> float | None:
    """Mean of the measure over the treated units' months before their start (to read a
    difference against), or None when there are none."""
    data = frame.frame if value is None else value
    start = data["unit"].map(frame.starts)
    before = start.notna() & (data["period"] < start)
    if not before.any():
        return None
    mean = float(data.loc[before, "value"].mean())
    return mean if np.isfinite(mean) else None
