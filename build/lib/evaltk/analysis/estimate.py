"""Panel + protocol -> one fitted model per outcome.

This is where an outcome's *measure* meets the *estimator*: which column is the response,
which is the offset, and on which scale the effect is read. The rules:

* count and sum: the response is the monthly numerator, no offset;
* rate: the response is the count, the offset log(population): the effect is a rate ratio;
* share: the response is the numerator count, the offset log(denominator count): a ratio of
  shares;
* mean: with a count family, the response is the monthly sum of the field and the offset
  log(number of episodes), so the effect is a ratio of means; with the Gaussian family the
  response is the monthly mean itself and the effect a difference in its units.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimators.its import ITSModel, ITSResult, ITSSpec
from evaltk.measures.panel import Panel
from evaltk.protocol.spec import Outcome, Protocol


@dataclass(frozen=True)
class OutcomeFit:
    """An outcome, the series it was fitted on, and the fitted model (or why it could not be)."""

    outcome: Outcome
    aggregate: str
    series: pd.DataFrame
    result: ITSResult | None
    family: str
    error: str | None = None
    model: ITSModel | None = None  # kept for the ledger's month-level estimating functions

    @property
    def cumulative_unit(self) -> str:
        if self.aggregate == "mean" and self.family == "gaussian":
            return "not additive"
        if self.aggregate in ("mean", "sum"):
            # A ready series has no measure; its outcome id then names what it sums.
            field = self.outcome.measure.field if self.outcome.measure else self.outcome.id
            return "minutes" if field and field.endswith("minutes") else "units of the field"
        return "events"


def its_spec(protocol: Protocol, outcome: Outcome) -> ITSSpec:
    """The ITS options of the protocol, with the outcome's own family if it sets one."""
    options = protocol.design.its
    return ITSSpec(
        family=outcome.family or options.family,
        seasonality=options.seasonality,
        harmonics=options.harmonics,
        slope_change=options.slope_change,
        hac=options.hac,
        hac_lags=options.hac_lags,
        ar1=options.ar1,
        model=options.model,
        washout_months=protocol.window.washout_months,
        level=protocol.decision.interval_level,
    )


def model_series(panel: Panel, protocol: Protocol, outcome: Outcome, family: str) -> pd.DataFrame:
    """The monthly response (and exposure) that the ITS is fitted to, per the rules above."""
    summed = panel.series(outcome.id, protocol.units)
    aggregate = panel.aggregates[outcome.id]
    frame = pd.DataFrame({"period": summed["period"]})
    uses_offset = protocol.design.its.offset == "denominator"
    if family == "gaussian":
        frame["y"] = summed["value"].to_numpy(dtype=float)
    else:
        frame["y"] = summed["numerator"].to_numpy(dtype=float)
        if uses_offset and aggregate in ("rate", "share", "mean"):
            frame["exposure"] = summed["denominator"].to_numpy(dtype=float)
    return frame


def _drop_empty_months(frame: pd.DataFrame, outcome: Outcome) -> tuple[pd.DataFrame, str]:
    """Months whose denominator is zero carry no information about a share or mean."""
    empty = ~(frame["exposure"] > 0) if "exposure" in frame else frame["y"].isna()
    if not empty.any():
        return frame, ""
    months = ", ".join(p.strftime("%Y-%m") for p in frame.loc[empty, "period"])
    note = f"{int(empty.sum())} month(s) with no denominator were left out: {months}."
    return frame.loc[~empty].reset_index(drop=True), note


def fit_outcome(panel: Panel, protocol: Protocol, outcome: Outcome) -> OutcomeFit:
    """Fit the protocol's ITS to one outcome; an estimation failure is recorded, not raised."""
    spec = its_spec(protocol, outcome)
    aggregate = panel.aggregates[outcome.id]
    series = model_series(panel, protocol, outcome, spec.family)
    series, note = _drop_empty_months(series, outcome)
    start = pd.Timestamp(_month_start(protocol.its_start()))
    try:
        model = ITSModel(series, start=start, spec=spec, allow_gaps=bool(note))
        result = model.fit()
    except EstimationError as error:
        return OutcomeFit(outcome, aggregate, series, None, spec.family, error=str(error))
    return OutcomeFit(
        outcome, aggregate, series, result, spec.family, error=note or None, model=model
    )


def fit_all(panel: Panel, protocol: Protocol) -> list[OutcomeFit]:
    """Fit every outcome of the protocol, in protocol order."""
    return [fit_outcome(panel, protocol, outcome) for outcome in protocol.outcomes]


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def finite_or_none(value: float | None) -> float | None:
    """JSON has no NaN: missing or non-finite numbers are written as null."""
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None
