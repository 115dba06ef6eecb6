"""One outcome's fit as results.json reads it: the headline, its multiplicity-corrected
p-value and equivalence tests, and whatever else the design gives (the ITS's slope, trend,
cumulative change and diagnostics; the comparison designs' inference, pre-trend test,
event-time effects and extra figures).

The verdict rule and the headline read these :class:`~evaltk.results.schema.OutcomeResult`,
whatever the design; the run and the verdict-calibration study build them here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from evaltk.estimate.fit import FIGURE_KINDS, OutcomeFit, PreTrend, number
from evaltk.estimators.effect import Effect
from evaltk.protocol.spec import Protocol
from evaltk.results.schema import (
    Cumulative,
    Diagnostics,
    EventTimeEffect,
    FigureFile,
    Interval,
    OutcomeResult,
    PreTrendTest,
    Sensitivity,
    SensitivityBound,
    SyntheticFit,
)
from evaltk.verdict.equivalence import equivalence_fields
from evaltk.verdict.multiplicity import adjust


def outcome_results(fits: Sequence[OutcomeFit], protocol: Protocol) -> list[OutcomeResult]:
    """Every fit's results.json entry, in order, with the protocol's multiplicity correction."""
    adjusted = adjusted_p_values(fits, protocol.decision.multiplicity)
    return [outcome_result(fit, protocol, adjusted[fit.outcome.id]) for fit in fits]


def adjusted_p_values(fits: Sequence[OutcomeFit], method: str) -> dict[str, float | None]:
    """Primary and secondary outcomes are corrected as two separate families."""
    adjusted: dict[str, float | None] = {}
    for role in ("primary", "secondary"):
        members = [f for f in fits if f.outcome.role == role]
        raw = [f.p_value for f in members]
        for fit, value in zip(members, adjust(raw, method), strict=True):
            adjusted[fit.outcome.id] = number(value)
    return adjusted


def outcome_result(fit: OutcomeFit, protocol: Protocol, p_adjusted: float | None) -> OutcomeResult:
    """The results.json entry of one fit (the numbers are None where it has none)."""
    outcome = fit.outcome
    common: dict[str, Any] = {
        "outcome": outcome.id,
        "label": outcome.label,
        "role": outcome.role,
        "outcome_class": outcome.outcome_class,
        "direction": outcome.direction,
        "aggregate": fit.aggregate,
        "design": fit.design,
        "estimator": fit.estimator,
        "scale": fit.scale,
        "n_units": fit.n_units,
        "n_periods": fit.n_periods,
        "note": fit.note,
    }
    effect = fit.effect
    if effect is None:
        return OutcomeResult(
            **common,
            estimate=None,
            ci_low=None,
            ci_high=None,
            p_value=None,
            p_adjusted=None,
            slope_change=None,
            trend_per_year=None,
            cumulative=None,
            diagnostics=None,
            figure=None,
        )
    estimate = number(effect.estimate)
    std_error = number(effect.std_error)
    margin = outcome.margin or protocol.decision.minimum_important_change
    return OutcomeResult(
        **common,
        **equivalence_fields(estimate, std_error, fit.scale, outcome.direction, margin, effect.df),
        estimate=estimate,
        ci_low=number(effect.ci_low),
        ci_high=number(effect.ci_high),
        p_value=number(effect.p_value),
        p_adjusted=p_adjusted,
        std_error=std_error,
        df=number(effect.df),
        slope_change=_interval(fit.slope_change),
        trend_per_year=_interval(fit.trend_per_year),
        cumulative=_cumulative(fit),
        diagnostics=_diagnostics(fit.diagnostics),
        inference=fit.inference,
        inference_text=fit.inference_text,
        n_clusters=fit.n_clusters,
        pretrend=_pretrend(fit.pretrend),
        sensitivity=_sensitivity(fit.sensitivity),
        synthetic=SyntheticFit(**fit.synthetic) if fit.synthetic is not None else None,
        event_time=_event_time(fit.event_time),
        event_time_unit=fit.event_time_unit,
        baseline=fit.baseline,
        figure=f"figures/{outcome.id}.png" if fit.figure is not None else None,
        figures=[
            FigureFile(kind=kind, path=f"figures/{outcome.id}-{kind.replace('_', '-')}.png")
            for kind in FIGURE_KINDS
            if kind in fit.figures
        ],
    )


def _interval(effect: Effect | None) -> Interval | None:
    if effect is None:
        return None
    return Interval(
        estimate=number(effect.estimate),
        ci_low=number(effect.ci_low),
        ci_high=number(effect.ci_high),
    )


def _cumulative(fit: OutcomeFit) -> Cumulative | None:
    """The change over the treated force-months implied by the headline effect (every
    design; :meth:`OutcomeFit.total_change`); for an ITS whose values do not add up, the
    block says so with no numbers."""
    cumulative = fit.cumulative
    change = fit.total_change()
    if change is None:
        if cumulative is None:
            return None
        return Cumulative(
            averted=None,
            ci_low=None,
            ci_high=None,
            observed=None,
            counterfactual=None,
            unit=fit.total_unit,
        )
    averted, low, high = change.interval
    observed: float | None
    counterfactual: float | None
    if cumulative is not None:
        observed, counterfactual = cumulative.observed, cumulative.counterfactual
    else:
        observed = None
        counterfactual = change.counterfactual
    return Cumulative(
        averted=number(averted),
        ci_low=number(low),
        ci_high=number(high),
        observed=number(observed),
        counterfactual=number(counterfactual),
        unit=fit.total_unit,
        force_months=change.force_months,
    )


def _diagnostics(diagnostics: Mapping[str, Any] | None) -> Diagnostics | None:
    if diagnostics is None:
        return None
    return Diagnostics(
        dispersion=number(diagnostics.get("dispersion")),
        ljung_box_p=number(diagnostics.get("ljung_box_p")),
        ljung_box_lags=diagnostics.get("ljung_box_lags"),
        durbin_watson=number(diagnostics.get("durbin_watson")),
        n_pre=int(diagnostics.get("n_pre", 0)),
        n_post=int(diagnostics.get("n_post", 0)),
        n_washout=int(diagnostics.get("n_washout", 0)),
    )


def _sensitivity(record: Mapping[str, Any] | None) -> Sensitivity | None:
    if record is None:
        return None
    if not record["computed"]:
        return Sensitivity(computed=False, reason=record["reason"])
    fields = {k: record[k] for k in Sensitivity.model_fields if k in record and k != "bounds"}
    bounds = [
        SensitivityBound(
            restriction=row["restriction"],
            bound=row["bound"],
            ci_low=number(row["ci_low"]),
            ci_high=number(row["ci_high"]),
            excludes_null=None
            if row["ci_low"] is None or row["ci_high"] is None
            else not (row["ci_low"] <= record["null"] <= row["ci_high"]),
        )
        for row in record["rows"]
    ]
    return Sensitivity(**fields, bounds=bounds)


def _pretrend(test: PreTrend | None) -> PreTrendTest | None:
    if test is None:
        return None
    return PreTrendTest(
        statistic=number(test.statistic),
        df=test.df,
        p_value=number(test.p_value),
        method=test.method,
        text=test.text,
    )


def _event_time(table: pd.DataFrame | None) -> list[EventTimeEffect]:
    if table is None:
        return []
    return [
        EventTimeEffect(
            event_time=int(row["event_time"]),
            estimate=number(row["estimate"]),
            ci_low=number(row["ci_low"]),
            ci_high=number(row["ci_high"]),
            p_value=number(row["p_value"]),
            kind=row["kind"],
        )
        for row in table.to_dict("records")
    ]
