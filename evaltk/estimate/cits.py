"""Comparative interrupted time series for one outcome (design.kind cits).

The treated units' monthly series (added up) against the comparison units' (added up), by the
response and offset rules of :mod:`evaltk.estimate.panel_frame`: count families model the
summed numerator with the summed denominator as exposure (rates, shares, means), the Gaussian
family the measure's value recomputed from the sums. Washout months are left out of both
series. The pre-trend test is a placebo: the same model fitted to the months before the start
alone, with a placebo start halfway through them; a level change there means the comparison
series did not track the treated one before the scheme. With ``model: gls`` both the effect and
the placebo test are the GLS fit of the difference of the two log rates (Satterthwaite t); the
placebo's statistic is then t squared, still on 1 degree of freedom, with the p-value of t.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimate.comparison_totals import with_cits_change
from evaltk.estimate.fit import OutcomeFit, PreTrend, failed, headline, number
from evaltk.estimate.panel_frame import OutcomeFrame, baseline, summed_series
from evaltk.estimators.did import CITSModel, CITSSpec, DiDResult
from evaltk.protocol.aggregates import total_unit
from evaltk.protocol.model_description import describe_model
from evaltk.protocol.spec import Protocol

CITSFamily = Literal["quasi_poisson", "poisson", "gaussian"]

#: Months the placebo fit needs on each side of its placebo start (as CITSModel requires).
PLACEBO_MONTHS = 3


def estimator_text(protocol: Protocol, family: str) -> str:
    """The comparative ITS in words, for results.json (the plan's sentence has the same terms)."""
    return describe_model(protocol, family).estimator


def cits_family(protocol: Protocol, frame: OutcomeFrame) -> CITSFamily:
    family = frame.outcome.family
    if family == "gaussian":
        return "gaussian"
    if family == "poisson":
        return "poisson"
    if family == "quasi_poisson":
        return "quasi_poisson"
    return protocol.design.cits.family


def cits_series(frame: OutcomeFrame, protocol: Protocol, family: str) -> pd.DataFrame:
    """Long data for :class:`CITSModel`: ``series`` (treated / comparison), ``period``, ``y``
    and ``exposure`` where the measure has one."""
    parts = []
    for label, units in (
        ("treated", protocol.treated_units),
        ("comparison", protocol.comparison_units),
    ):
        summed = summed_series(frame, units)
        part = pd.DataFrame({"series": label, "period": summed["period"]})
        if family == "gaussian":
            part["y"] = summed["value"].to_numpy(dtype=float)
        else:
            part["y"] = summed["numerator"].to_numpy(dtype=float)
            if frame.has_exposure:
                part["exposure"] = summed["denominator"].to_numpy(dtype=float)
        parts.append(part)
    data = pd.concat(parts, ignore_index=True)
    start = pd.Timestamp(protocol.first_start().replace(day=1))
    washout = protocol.window.washout_months
    if washout:
        end = start + pd.DateOffset(months=washout)
        data = data[~((data["period"] >= start) & (data["period"] < end))]
    return data.reset_index(drop=True)


def fit_cits(frame: OutcomeFrame, protocol: Protocol) -> OutcomeFit:
    """Fit ``design.cits`` (and its placebo pre-trend test) to one outcome."""
    options = protocol.design.cits
    family = cits_family(protocol, frame)
    scale = "difference" if family == "gaussian" else "ratio"
    text = estimator_text(protocol, family)
    data = cits_series(frame, protocol, family)
    start = pd.Timestamp(protocol.first_start().replace(day=1))
    spec = CITSSpec(
        family=family,
        seasonality=options.seasonality,
        harmonics=options.harmonics,
        slope_change=options.slope_change,
        hac=options.hac,
        hac_lags=options.hac_lags,
        level=protocol.decision.interval_level,
        model=options.model,
    )
    exposure = "exposure" if "exposure" in data else None
    n_units = len(protocol.units)
    n_periods = data["period"].nunique()
    try:
        named = data.rename(columns={"y": _measure_name(frame, family)})
        result = CITSModel(
            named,
            treated="treated",
            start=start,
            outcome=_measure_name(frame, family),
            exposure=exposure,
            spec=spec,
        ).fit()
    except EstimationError as error:
        return failed(
            frame.outcome,
            frame.aggregate,
            "cits",
            text,
            scale,
            str(error),
            n_units=n_units,
            n_periods=n_periods,
            note=frame.note,
        )
    pretrend = _placebo(data, start, exposure, spec) if options.placebo_test else None
    effect = headline(
        result.term,
        number(result.estimate),
        number(result.ci_low),
        number(result.ci_high),
        number(result.p_value),
        scale,
        number(result.std_error),
        protocol.decision.interval_level,
        result.df,
    )
    # A Gaussian model's difference in the measure times the treated series' exposure is a
    # total too (evaltk.estimate.comparison_totals), so every family adds up.
    fit = OutcomeFit(
        outcome=frame.outcome,
        aggregate=frame.aggregate,
        design="cits",
        estimator=text,
        scale=scale,
        n_units=n_units,
        n_periods=n_periods,
        effect=effect,
        result=result,
        total_unit=total_unit(frame.outcome, frame.aggregate, True),
        totals=result.totals if effect is not None else None,
        n_clusters=result.n_clusters,
        inference=result.inference,
        inference_text=result.inference_text,
        pretrend=pretrend,
        baseline=baseline(frame),
        figure=result.plot,
        figure_data={"main": _figure_data(result)},
        effects=_effects(result),
        note=frame.note,
    )
    return with_cits_change(fit, frame, protocol.treated_units, protocol.window.washout_months)


def _figure_data(result: DiDResult) -> pd.DataFrame:
    """The treated and comparison series the main figure plots, observed and modelled."""
    data = result.get_plot_data()
    part = data[["period", "role", "observed", "fitted", "counterfactual", "post"]]
    return part.rename(columns={"role": "group"})


def _measure_name(frame: OutcomeFrame, family: str) -> str:
    """The modelled column's name, which the figure shows as its axis label."""
    if family == "gaussian":
        return frame.outcome.label
    what = "sum of the field" if frame.kind.sums_a_field else "count"
    return f"{what} per month (units of each series added up)"


def _placebo(
    data: pd.DataFrame, start: pd.Timestamp, exposure: str | None, spec: CITSSpec
) -> PreTrend:
    before = data[data["period"] < start]
    months = sorted(before["period"].unique())
    if len(months) < 2 * PLACEBO_MONTHS:
        return PreTrend(
            None,
            None,
            None,
            "placebo",
            f"not computed: {len(months)} months before the start, the placebo needs "
            f"{2 * PLACEBO_MONTHS}",
        )
    placebo = pd.Timestamp(months[len(months) // 2])
    try:
        result = CITSModel(
            before, treated="treated", start=placebo, outcome="y", exposure=exposure, spec=spec
        ).fit()
    except EstimationError as error:
        return PreTrend(None, None, None, "placebo", f"not computed: {error}")
    z = _z(result)
    return PreTrend(
        statistic=number(z * z) if z is not None else None,
        df=1,
        p_value=number(result.p_value),
        method="placebo",
        text=(
            f"placebo start {placebo:%B %Y}, halfway through the {len(months)} months before "
            f"the start: difference in level change there, {result.inference_text.rstrip('.')}"
        ),
    )


def _z(result: DiDResult) -> float | None:
    import math

    estimate = result.estimate
    se = result.std_error
    if not (se and math.isfinite(se)):
        return None
    b = math.log(estimate) if result.scale == "ratio" else estimate
    return b / se


def _effects(result: DiDResult) -> pd.DataFrame:
    table = result.to_frame()
    table.insert(0, "kind", "headline")
    return table
