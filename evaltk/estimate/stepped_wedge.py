"""A randomised stepped-wedge trial for one outcome (design.kind stepped_wedge).

The outcome's unit x month rows are added up into the design's periods (blocks of
``step_months`` months from ``first_start``; earlier blocks are the baseline) on the complete
cluster x period grid, and the registered model is fitted
(:mod:`evaltk.estimators.stepped_wedge.model`): the log-rate mixed model or the Poisson GLM
with cluster and period fixed effects (``model: auto`` chooses by the smallest cluster-period
count). The headline is the rate ratio; its p-value and interval come from randomisation
inference over the registered scheme (the primary inference), the model's own Wald interval is
kept in effects.csv beside it. The staggered DiD of Callaway & Sant'Anna (not-yet-treated
clusters) is fitted as a sensitivity analysis and reported in effects.csv and the note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimate.comparison_totals import with_total_change
from evaltk.estimate.fit import OutcomeFit, failed, headline, number
from evaltk.estimate.panel_frame import OutcomeFrame
from evaltk.estimators.did.randomization import RandomizationTest
from evaltk.estimators.effect import std_error_from_interval
from evaltk.estimators.render import format_level
from evaltk.estimators.stepped_wedge import (
    SWData,
    SWFit,
    fit_log_rate,
    fit_model,
    randomisation_test,
    reference_schedules,
    sw_data,
)
from evaltk.estimators.stepped_wedge.scheme import trial_scheme
from evaltk.protocol.designs import StaggeredOptions
from evaltk.protocol.model_description import describe_model
from evaltk.protocol.spec import Design, Protocol
from evaltk.protocol.trial import LOG_RATE_MIN_COUNT, TrialOptions
from evaltk.results.schema import TrialClusterRow, TrialReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def design_periods(months: pd.Series, trial: TrialOptions) -> pd.Series:
    """The design period of each month: 1 for the first step's ``step_months`` months, k for
    the k-th step's, 0, -1, ... for the baseline blocks before it."""
    first = trial.first_start.year * 12 + trial.first_start.month - 1
    index = months.dt.year * 12 + months.dt.month - 1 - first
    return (index // trial.step_months + 1).astype(int)


def trial_data(frame: OutcomeFrame, protocol: Protocol) -> SWData:
    """The outcome on the cluster x design-period grid: events and exposure summed over each
    period's months (exposure: population, denominator episodes, or months for a count)."""
    trial = protocol.design.trial
    assert trial is not None and trial.schedule is not None
    data = frame.frame.copy()
    data["period"] = design_periods(data["period"], trial)
    if frame.kind.per_population:
        data["exposure"] = data["denominator"].astype(float) / frame.per
    elif not frame.has_exposure:
        data["exposure"] = 1.0
    data = data.rename(columns={"unit": "cluster"})
    summed = data.groupby(["cluster", "period"], as_index=False)[["y", "exposure"]].sum()
    return sw_data(summed, {name: trial.schedule[name] for name in trial.names})


def chosen_model(data: SWData, protocol: Protocol) -> tuple[str, str]:
    """The model fitted and why (``model: auto`` reads the smallest cluster-period count)."""
    model = protocol.design.stepped_wedge.model
    if model != "auto":
        return model, "as registered"
    smallest = float(np.min(data.y))
    if smallest >= LOG_RATE_MIN_COUNT:
        return (
            "log_rate",
            f"model auto: every cluster-period has at least {LOG_RATE_MIN_COUNT} events",
        )
    return "poisson", (
        f"model auto: the smallest cluster-period count is {smallest:.0f}, below "
        f"{LOG_RATE_MIN_COUNT}, where the log rate is not close to Gaussian"
    )


def fit_stepped_wedge(frame: OutcomeFrame, protocol: Protocol) -> OutcomeFit:
    """Fit the registered stepped-wedge analysis to one outcome; an estimation failure is
    recorded, not raised."""
    trial = protocol.design.trial
    assert trial is not None
    options = protocol.design.stepped_wedge
    level = protocol.decision.interval_level
    if trial.schedule is None:
        return failed(
            frame.outcome,
            frame.aggregate,
            "stepped_wedge",
            describe_model(protocol).estimator,
            "ratio",
            "no rollout schedule has been drawn: run `evaltk trial design`",
        )
    try:
        data = trial_data(frame, protocol)
        model, why = chosen_model(data, protocol)
        fit = fit_model(data, model)
        reference = reference_schedules(trial_scheme(trial), protocol.seed, options.permutations)
        test = randomisation_test(data, fit, reference, level)
    except EstimationError as error:
        return failed(
            frame.outcome,
            frame.aggregate,
            "stepped_wedge",
            describe_model(protocol).estimator,
            "ratio",
            str(error),
            n_units=len(trial.clusters),
            note=frame.note,
        )
    estimate = float(np.exp(fit.estimate))
    low, high = number(np.exp(test.ci_low)), number(np.exp(test.ci_high))
    std_error = fit.std_error
    if low is not None and high is not None and high > low:
        std_error = std_error_from_interval(low, high, level, "ratio")
    notes = [frame.note]
    sensitivity = _staggered_sensitivity(frame, protocol) if options.sensitivity else None
    if sensitivity is not None:
        notes.append(sensitivity[1])
    outcome_fit = OutcomeFit(
        outcome=frame.outcome,
        aggregate=frame.aggregate,
        design="stepped_wedge",
        estimator=describe_model(protocol, model=model).estimator,
        scale="ratio",
        n_units=len(data.clusters),
        n_periods=len(data.periods),
        effect=headline(
            "rate_ratio", estimate, low, high, number(test.p_value), "ratio", std_error, level
        ),
        result=fit,
        n_clusters=len(data.clusters),
        inference="randomization",
        inference_text=_inference_text(test, fit, why, level),
        baseline=_baseline(data),
        figure=lambda: schedule_figure(protocol),
        effects=_effects(
            fit, test, level, sensitivity[0] if sensitivity else None, _icc(data, fit)
        ),
        note=" ".join(n for n in notes if n),
    )
    return with_total_change(outcome_fit, frame)


def _baseline(data: SWData) -> float | None:
    """Events per unit of exposure before each cluster's start (per 100,000 residents a
    period for rates)."""
    before = data.d == 0
    exposure = float(data.exposure[before].sum())
    return number(float(data.y[before].sum()) / exposure) if exposure > 0 else None


def _inference_text(test: RandomizationTest, fit: SWFit, why: str, level: float) -> str:
    how = (
        f"all {test.permutations:,} schedules the registered randomisation scheme could draw "
        "(exact)"
        if test.enumerated
        else f"{test.permutations:,} schedules drawn from the registered randomisation scheme "
        f"(seed {test.seed}; Monte Carlo)"
    )
    low, high = fit.interval(level)
    return (
        f"randomisation inference over {how}, statistic the {test.statistic_name}; interval "
        f"by inverting the test under a constant rate ratio. The model's own {format_level(level)} "
        f"Wald interval: {np.exp(low):.3f} to {np.exp(high):.3f} ({why})."
    )


def _icc(data: SWData, fit: SWFit) -> float | None:
    """The intra-cluster correlation of the log rate (CONSORT-SW): the log-rate model's own,
    or, where the Poisson model was fitted, that of a log-rate model of ``log((Y + 0.5) / E)``
    (zero counts allowed), for the report only."""
    if fit.model == "log_rate":
        return fit.icc
    shifted = SWData(data.clusters, data.periods, data.y + 0.5, data.exposure, data.steps)
    try:
        return fit_log_rate(shifted).icc
    except (EstimationError, ValueError, np.linalg.LinAlgError):
        return None


def _effects(
    fit: SWFit,
    test: RandomizationTest,
    level: float,
    sensitivity: pd.DataFrame | None,
    icc: float | None,
) -> pd.DataFrame:
    low, high = fit.interval(level)
    rows = [
        {
            "kind": "headline_randomization",
            "estimate": np.exp(fit.estimate),
            "ci_low": np.exp(test.ci_low),
            "ci_high": np.exp(test.ci_high),
            "p_value": test.p_value,
        },
        {
            "kind": f"model_{fit.model}",
            "estimate": np.exp(fit.estimate),
            "ci_low": np.exp(low),
            "ci_high": np.exp(high),
            "p_value": fit.p_value,
        },
    ]
    if icc is not None:
        rows.append({"kind": "icc_log_rate", "estimate": icc})
    table = pd.DataFrame(rows)
    if sensitivity is not None:
        table = pd.concat([table, sensitivity], ignore_index=True)
    return table


def _staggered_sensitivity(
    frame: OutcomeFrame, protocol: Protocol
) -> tuple[pd.DataFrame, str] | None:
    """Callaway & Sant'Anna on the same clusters (not-yet-treated comparisons, analytical
    errors clustered by cluster, the simple aggregation), by quarter when the steps are whole
    calendar quarters; None when it cannot be fitted."""
    from evaltk.estimate.staggered import staggered_frame
    from evaltk.estimators.staggered import CallawaySantAnna

    trial = protocol.design.trial
    assert trial is not None
    quarters = trial.step_months % 3 == 0 and trial.first_start.month % 3 == 1
    design = Design(
        kind="staggered_did",
        staggered=StaggeredOptions(period_bin="quarter" if quarters else "month"),
    )
    level = protocol.decision.interval_level
    data, _ = staggered_frame(frame, protocol.model_copy(update={"design": design}))
    try:
        result = CallawaySantAnna(
            data,
            outcome="value",
            unit="unit",
            time="t",
            group="g",
            control_group="not_yet_treated",
        ).fit(level=level)
        overall = result.aggregate("simple")
    except EstimationError:
        return None
    estimate, low, high, p = (
        float(overall.estimate),
        float(overall.ci_low),
        float(overall.ci_high),
        float(overall.p_value),
    )
    row = pd.DataFrame(
        [
            {
                "kind": "sensitivity_staggered_did",
                "estimate": estimate,
                "ci_low": low,
                "ci_high": high,
                "p_value": p,
            }
        ]
    )
    text = (
        "Sensitivity analysis, staggered DiD (Callaway & Sant'Anna, not-yet-treated clusters, "
        f"by {design.staggered.period_bin}, analytical errors by cluster): a difference of "
        f"{estimate:.3g} in the measure ({format_level(level)} interval {low:.3g} to "
        f"{high:.3g}, p = {p:.3g})."
    )
    return row, text


def schedule_figure(protocol: Protocol) -> tuple[Figure, Axes]:
    """The rollout diagram (CONSORT-SW): clusters by step against the design periods, the
    periods with the scheme shaded."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    trial = protocol.design.trial
    assert trial is not None and trial.schedule is not None
    months = pd.Series(pd.date_range(protocol.window.start, protocol.window.end, freq="MS"))
    periods = np.sort(design_periods(months, trial).unique())
    schedule = trial.schedule
    order = sorted(trial.names, key=lambda n: (schedule[n], trial.names.index(n)))
    grid = np.array([[p >= schedule[n] for p in periods] for n in order], dtype=float)
    fig = Figure(figsize=(8, 0.32 * len(order) + 1.8), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(grid, aspect="auto", cmap="Blues", vmin=0, vmax=1.4, interpolation="nearest")
    ax.set_yticks(range(len(order)), [f"{n} (step {schedule[n]})" for n in order])
    labels = [f"{max(trial.step_start(int(p)), protocol.window.start):%b %Y}" for p in periods]
    ax.set_xticks(range(len(periods)), labels, rotation=45, ha="right")
    ax.set_xlabel(
        f"design period from (periods of {trial.step_months} months; those before "
        f"{trial.first_start:%B %Y} are the baseline)"
    )
    ax.set_title("Rollout schedule drawn at random (shaded: the scheme in place)")
    ax.legend(
        handles=[Patch(color=colormaps["Blues"](1 / 1.4), label="scheme in place")],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize="small",
        frameon=False,
    )
    return fig, ax


def trial_report(protocol: Protocol, fits: list[OutcomeFit]) -> TrialReport | None:
    """The trial's design, randomisation and clustering for results.json (CONSORT-SW);
    None for other designs or before the schedule is drawn."""
    trial = protocol.design.trial
    if protocol.design.kind != "stepped_wedge" or trial is None or trial.schedule is None:
        return None
    months = pd.Series(pd.date_range(protocol.window.start, protocol.window.end, freq="MS"))
    periods = design_periods(months, trial).unique()
    scheme = trial_scheme(trial)
    pool = scheme.reference_set(protocol.seed)
    words = ["restricted randomisation" if trial.restricted else "simple randomisation"]
    if trial.restricted:
        words.append(
            f"balanced on {' and '.join(trial.restricted.balance)} (every step's mean within "
            f"{trial.restricted.max_imbalance * 100:g} % of the mean of all clusters)"
        )
    if trial.together:
        groups = "; ".join(", ".join(g) for g in trial.together)
        words.append(f"these clusters starting together: {groups}")
    words.append(
        "the order drawn by evaltk trial design with a seed read from the registration "
        "fingerprint and recorded in the registration chain before any outcome was analysed"
    )
    icc: dict[str, float | None] = {}
    for fit in fits:
        rows = fit.effects if fit.effects is not None else pd.DataFrame(columns=["kind"])
        value = rows.loc[rows["kind"] == "icc_log_rate", "estimate"]
        icc[fit.outcome.id] = number(value.iloc[0]) if len(value) else None
    schedule = trial.schedule
    return TrialReport(
        clusters=[
            TrialClusterRow(
                name=c.name,
                population=c.population,
                step=schedule[c.name],
                start=trial.step_start(schedule[c.name]).isoformat(),
            )
            for c in sorted(
                trial.clusters, key=lambda c: (schedule[c.name], trial.names.index(c.name))
            )
        ],
        steps=trial.steps,
        step_months=trial.step_months,
        first_start=trial.first_start.isoformat(),
        periods=len(periods),
        baseline_periods=int((periods < 1).sum()),
        randomisation="; ".join(words) + ".",
        schedules=0 if pool is None else len(pool),
        icc=icc,
    )


__all__ = [
    "design_periods",
    "fit_stepped_wedge",
    "schedule_figure",
    "trial_data",
    "trial_report",
]
