"""Difference-in-differences and event-study fits of one outcome (design.kind did, event_study).

The protocol's options become the estimators' specs here: ``design.did`` (TWFE or 2 x 2, Poisson
or linear), ``design.event_study`` (leads, lags, bin width) and ``design.inference`` (cluster,
wild bootstrap, randomisation; ``auto`` below 50 units is the wild cluster bootstrap). Poisson
models take the response and offset of :mod:`evaltk.estimate.panel_frame`; linear ones the
measure's value. The did design also fits the event study for its pre-trend test and figure.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimate.comparison_totals import with_total_change
from evaltk.estimate.fit import OutcomeFit, PreTrend, failed, headline, number
from evaltk.estimate.panel_frame import OutcomeFrame, baseline
from evaltk.estimate.sensitivity import event_study_sensitivity
from evaltk.estimators.did import (
    DiD2x2Model,
    DiDResult,
    DiDSpec,
    EventStudyModel,
    EventStudyResult,
    EventStudySpec,
    InferenceSpec,
    TWFEModel,
)
from evaltk.estimators.did.inference import choose_method
from evaltk.estimators.effect import std_error_from_interval
from evaltk.protocol.model_description import describe_model
from evaltk.protocol.spec import Protocol

Family = Literal["poisson", "linear"]


def family_for(protocol: Protocol, frame: OutcomeFrame, family: Family) -> Family:
    """The design's family, unless the outcome asks for a Gaussian model (then linear); a count
    or sum has no exposure, which Poisson TWFE handles without an offset."""
    if frame.outcome.family == "gaussian":
        return "linear"
    if frame.outcome.family is not None:
        return "poisson"
    return family


def inference_spec(protocol: Protocol, *, ci: bool = True) -> InferenceSpec:
    """The protocol's inference block as the estimators' spec (seed and level included)."""
    options = protocol.design.inference
    return InferenceSpec(
        method=options.method,
        level=protocol.decision.interval_level,
        draws=options.draws,
        weights=options.weights,
        permutations=options.permutations,
        seed=protocol.seed,
        ci=ci,
        bootstrap_by=options.bootstrap_by,
    )


def _columns(frame: OutcomeFrame, family: str) -> dict[str, Any]:
    if family == "poisson":
        return {"outcome": "y", "exposure": "exposure" if frame.has_exposure else None}
    return {"outcome": "value", "exposure": None}


def _model_kwargs(frame: OutcomeFrame, family: str) -> dict[str, Any]:
    return {
        "unit": "unit",
        "period": "period",
        "starts": frame.starts,
        **_columns(frame, family),
    }


def _width(width: int) -> str:
    return "1 month" if width == 1 else f"{width} months"


def fit_did(frame: OutcomeFrame, protocol: Protocol) -> OutcomeFit:
    """Fit ``design.did`` (and its pre-trend event study) to one outcome."""
    options = protocol.design.did
    family = family_for(protocol, frame, options.family)
    scale = "ratio" if family == "poisson" else "difference"
    kind = "did"
    text = describe_model(protocol, family).estimator
    try:
        model_type = TWFEModel if options.estimator == "twfe" else DiD2x2Model
        model = model_type(frame.frame, spec=DiDSpec(family=family), **_model_kwargs(frame, family))
        result = model.fit(inference_spec(protocol))
    except EstimationError as error:
        return _failed(frame, kind, text, scale, error)
    study: EventStudyResult | None = None
    notes = [frame.note]
    if options.pretrend:
        study, problem = _pretrend_study(frame, protocol, family, result.n_clusters)
        if problem:
            notes.append(f"The pre-trend event study could not be fitted: {problem}")
    return _outcome_fit(frame, protocol, kind, text, result, study, notes)


def fit_event_study(frame: OutcomeFrame, protocol: Protocol) -> OutcomeFit:
    """Fit ``design.event_study`` to one outcome; the headline is the mean post-adoption bin."""
    options = protocol.design.event_study
    family = family_for(protocol, frame, options.family)
    scale = "ratio" if family == "poisson" else "difference"
    kind = "event_study"
    text = describe_model(protocol, family).estimator
    try:
        model = EventStudyModel(
            frame.frame, spec=_study_spec(protocol, family), **_model_kwargs(frame, family)
        )
        result = model.fit(inference_spec(protocol))
    except EstimationError as error:
        return _failed(frame, kind, text, scale, error)
    return _outcome_fit(frame, protocol, kind, text, result, result, [frame.note])


def _failed(
    frame: OutcomeFrame, kind: str, text: str, scale: str, error: EstimationError
) -> OutcomeFit:
    """The outcome could not be fitted: record why, with the panel's size."""
    return failed(
        frame.outcome,
        frame.aggregate,
        kind,
        text,
        scale,
        str(error),
        n_units=len(frame.units),
        n_periods=frame.frame["period"].nunique(),
        note=frame.note,
    )


def _study_spec(protocol: Protocol, family: Family) -> EventStudySpec:
    options = protocol.design.event_study
    return EventStudySpec(
        family=family, leads=options.leads, lags=options.lags, width=options.width
    )


def _pretrend_study(
    frame: OutcomeFrame, protocol: Protocol, family: Family, n_clusters: int
) -> tuple[EventStudyResult | None, str]:
    # Each Poisson bin's bootstrap or permutation interval is a root search of refits (minutes
    # per outcome); the pre-trend test and the bins' p-values need none, so they are skipped.
    method, _ = choose_method(inference_spec(protocol), n_clusters)
    slow = family == "poisson" and method != "cluster"
    try:
        model = EventStudyModel(
            frame.frame, spec=_study_spec(protocol, family), **_model_kwargs(frame, family)
        )
        return model.fit(inference_spec(protocol, ci=not slow)), ""
    except EstimationError as error:
        return None, str(error)


def _outcome_fit(
    frame: OutcomeFrame,
    protocol: Protocol,
    kind: str,
    text: str,
    result: DiDResult,
    study: EventStudyResult | None,
    notes: list[str],
) -> OutcomeFit:
    level = protocol.decision.interval_level
    estimate, low, high = number(result.estimate), number(result.ci_low), number(result.ci_high)
    std_error = number(result.std_error)
    if result.inference != "cluster" and estimate is not None and low and high and high > low:
        # The equivalence tests read a standard error: take the one the chosen interval
        # implies, not the cluster-robust one it replaced (too small with few clusters).
        std_error = number(std_error_from_interval(low, high, level, result.scale))
    if low is None or high is None:
        notes.append("No interval: " + result.inference_text)
        # Without the chosen inference's interval, the cluster-robust SE (too small with few
        # clusters) must not carry an equivalence claim.
        if result.inference != "cluster":
            std_error = None
    pretrend = None
    event_time = None
    figures: dict[str, Any] = {}
    main = result.plot
    if study is not None:
        test = study.pretrend
        pretrend = PreTrend(
            statistic=number(test.statistic),
            df=int(test.df),
            p_value=number(test.p_value),
            method=test.method,
            text=f"joint test that all {test.df} leads are zero; {test.text}",
        )
        event_time = study.coefficients
        main = study.plot
        if kind == "did":
            figures["groups"] = result.plot
    width = protocol.design.event_study.width
    fit = OutcomeFit(
        outcome=frame.outcome,
        aggregate=frame.aggregate,
        design=kind,
        estimator=text,
        scale=result.scale,
        n_units=result.n_clusters,
        n_periods=result.n_periods,
        # The headline's reference is the normal (no df), as the equivalence tests read it.
        effect=headline(
            result.term,
            estimate,
            low,
            high,
            number(result.p_value),
            result.scale,
            std_error,
            level,
        ),
        result=result,
        n_clusters=result.n_clusters,
        inference=result.inference,
        inference_text=result.inference_text,
        pretrend=pretrend,
        event_time=event_time,
        event_time_unit=_width(width) if study is not None else None,
        baseline=baseline(frame),
        figure=main,
        figures=figures,
        figure_data=_figure_data(result, "groups" if study is not None else "main")
        if kind == "did"
        else {},
        effects=_effects(result, study),
        sensitivity=event_study_sensitivity(study, level, protocol.seed)
        if kind == "event_study" and study is not None
        else None,
        note=" ".join(n for n in notes if n),
    )
    return with_total_change(fit, frame)


def _figure_data(result: DiDResult, figure: str) -> dict[str, pd.DataFrame]:
    """The treated and comparison means the group-means figure plots (event-study plots show
    model estimates only)."""
    data = result.get_plot_data()
    if "group" not in data:
        return {}
    part = data[["period", "group", "value"]].rename(columns={"value": "observed"})
    part["group"] = part["group"].str.replace(" units", "", regex=False)
    return {figure: part}


def _effects(result: DiDResult, study: EventStudyResult | None) -> pd.DataFrame:
    table = result.to_frame()
    table.insert(0, "kind", "headline")
    if study is None:
        return table
    coefficients = study.coefficients.rename(columns={"kind": "bin"})
    coefficients["term"] = [f"event_{int(b):+d}" for b in coefficients["event_time"]]
    coefficients.insert(0, "kind", "event_time")
    return pd.concat([table, coefficients], ignore_index=True)
