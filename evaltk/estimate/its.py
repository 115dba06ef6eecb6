"""Interrupted time series: panel + protocol -> one fitted segmented regression per outcome.

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

import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimate.fit import OutcomeFit, failed
from evaltk.estimators.its import ITSModel, ITSSpec
from evaltk.measures.panel import Panel
from evaltk.protocol.aggregates import aggregate_kind, total_unit
from evaltk.protocol.model_description import describe_model
from evaltk.protocol.spec import Outcome, Protocol


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
        if uses_offset and aggregate_kind(aggregate).has_denominator:
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


def fit_its(panel: Panel, protocol: Protocol, outcome: Outcome) -> OutcomeFit:
    """Fit the protocol's ITS to one outcome; an estimation failure is recorded, not raised."""
    spec = its_spec(protocol, outcome)
    aggregate = panel.aggregates[outcome.id]
    series = model_series(panel, protocol, outcome, spec.family)
    series, note = _drop_empty_months(series, outcome)
    start = pd.Timestamp(_month_start(protocol.its_start()))
    text = estimator_text(protocol, spec.family, spec.model)
    scale = "difference" if spec.family == "gaussian" else "ratio"
    n_units, n_periods = len(protocol.units), len(series)
    try:
        model = ITSModel(series, start=start, spec=spec, allow_gaps=bool(note))
        choice = model.model_choice
        inference, inference_text = choice.model, choice.reason
        text = estimator_text(protocol, spec.family, choice.model)
        result = model.fit()
    except EstimationError as error:
        return failed(
            outcome,
            aggregate,
            "its",
            text,
            scale,
            str(error),
            n_units=n_units,
            n_periods=n_periods,
        )
    # A Gaussian model of a mean is a model of the mean itself: its months do not add up.
    additive = not (aggregate == "mean" and spec.family == "gaussian")
    return OutcomeFit(
        outcome=outcome,
        aggregate=aggregate,
        design="its",
        estimator=text,
        scale=scale,
        n_units=n_units,
        n_periods=n_periods,
        effect=result.effect,
        result=result,
        slope_change=result.slope_effect,
        trend_per_year=result.trend_per_year,
        cumulative=result.cumulative,
        diagnostics=result.diagnostics,
        series=result.counterfactual,
        total_unit=total_unit(outcome, aggregate, additive),
        model=model,
        figure=result.plot,
        note=note,
        inference=inference,
        inference_text=inference_text,
    )


def fit_all(panel: Panel, protocol: Protocol) -> list[OutcomeFit]:
    """Fit the protocol's ITS to every outcome, in protocol order."""
    return [fit_its(panel, protocol, outcome) for outcome in protocol.outcomes]


def estimator_text(protocol: Protocol, family: str, model: str) -> str:
    """The ITS model in words, for results.json (the plan's sentence has the same terms);
    ``model`` is the one fitted (``auto`` resolved, or ``auto`` itself when the series failed
    before the rule could read it)."""
    return describe_model(protocol, family, model).estimator


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)
