"""Staggered adoption by Callaway & Sant'Anna for one outcome (design.kind staggered_did).

The panel is the measure's value by unit and period (months, or quarters or years with
``design.staggered.period_bin``), time an integer index over the analysis window (1 = its first
period) and each unit's group the index of the period holding its start (0 = never treated).
Every effect is a difference in the measure (a rate per 100,000 per month, a share, a mean).

Inference (``design.inference``):

* ``cluster`` — the analytical influence-function errors, clustered by unit;
* ``wild_bootstrap`` — the multiplier bootstrap of those influence functions (Rademacher);
* ``randomization`` — adoption dates permuted across units
  (:mod:`evaltk.estimators.staggered.randomization`);
* ``auto`` — randomisation below 50 units, analytical errors from 50 up
  (:func:`evaltk.estimators.did.inference.auto_method`).

The pre-trend test is R ``did``'s Wald test of every pre-treatment ATT(g,t) (cluster and
bootstrap), or, under randomisation, the mean square of the pre-treatment event-time effects
compared over the permuted assignments.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimate.comparison_totals import with_total_change
from evaltk.estimate.fit import OutcomeFit, PreTrend, failed, headline, number
from evaltk.estimate.panel_frame import OutcomeFrame, bin_periods, bin_start
from evaltk.estimate.sensitivity import staggered_sensitivity
from evaltk.estimators.did.inference import STAGGERED_AUTO, auto_method
from evaltk.estimators.did.randomization import RandomizationTest
from evaltk.estimators.effect import std_error_from_interval
from evaltk.estimators.render import format_level
from evaltk.estimators.staggered import AggregateResult, CallawaySantAnna, CSResult
from evaltk.estimators.staggered.permuted import AggregateRequest
from evaltk.estimators.staggered.plot import MAX_HEATMAP_WIDTH_INCHES
from evaltk.estimators.staggered.randomization import (
    StaggeredRandomization,
    randomization_inference,
)
from evaltk.protocol.model_description import describe_model
from evaltk.protocol.spec import Protocol

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_PERIOD_WORDS = {"month": "month", "quarter": "quarter", "year": "year"}

#: Fits of the observed treatment indicator under each permuted assignment: the same for every
#: outcome with the same units and periods, so a run computes them once.
Cache = MutableMapping[Any, Any]


def estimator_text(protocol: Protocol) -> str:
    """The staggered DiD in words, for results.json (the plan's sentence has the same terms)."""
    return describe_model(protocol).estimator


def staggered_frame(frame: OutcomeFrame, protocol: Protocol) -> tuple[pd.DataFrame, str]:
    """The balanced panel C&S reads: ``unit, period, t, g, value`` (+ covariates), and a note
    naming any unit left out because some period had no value."""
    options = protocol.design.staggered
    data = bin_periods(frame, options.period_bin)
    grid = _grid(protocol)
    index = {period: i + 1 for i, period in enumerate(grid)}
    data = data[data["period"].isin(index)].copy()
    data["t"] = data["period"].map(index).astype(int)
    groups = {}
    for unit, start in frame.starts.items():
        if start is None:
            groups[unit] = 0
        else:
            first = bin_start(pd.Series([start]), options.period_bin).iloc[0]
            groups[unit] = index[first]
    data["g"] = data["unit"].map(groups).astype(int)
    complete = data.dropna(subset=["value"]).groupby("unit")["t"].nunique() == len(grid)
    short = sorted(set(frame.starts) - set(complete[complete].index))
    note = ""
    if short:
        note = (
            f"Unit(s) {', '.join(short)} left out: some {_PERIOD_WORDS[options.period_bin]} "
            "had no value, and Callaway & Sant'Anna needs every period of every unit."
        )
        data = data[~data["unit"].isin(short)]
    return data.reset_index(drop=True), note


def _grid(protocol: Protocol) -> list[pd.Timestamp]:
    months = pd.date_range(protocol.window.start, protocol.window.end, freq="MS")
    binned = bin_start(pd.Series(months), protocol.design.staggered.period_bin)
    return [pd.Timestamp(p) for p in sorted(pd.unique(binned))]


def _covariates(
    data: pd.DataFrame, others: dict[str, pd.DataFrame], names: list[str]
) -> pd.DataFrame:
    out = data.copy()
    for name in names:
        source = others[name]
        values = source.set_index(["unit", "period"])["value"]
        keys = pd.MultiIndex.from_frame(out[["unit", "period"]])
        column = values.reindex(keys).to_numpy(dtype=float)
        out[name] = np.log(column) if name == "population" else column
    return out


def fit_staggered(
    frame: OutcomeFrame,
    protocol: Protocol,
    covariate_frames: dict[str, pd.DataFrame] | None = None,
    cache: Cache | None = None,
) -> OutcomeFit:
    """Fit ``design.staggered`` to one outcome; an estimation failure is recorded, not raised.

    ``covariate_frames`` maps each covariate name to a binned frame (``unit, period, value``);
    ``cache`` shares the permuted treatment-indicator fits between outcomes.
    """
    options = protocol.design.staggered
    text = estimator_text(protocol)
    data, note = staggered_frame(frame, protocol)
    notes = [frame.note, note]
    n_units, n_periods = data["unit"].nunique(), data["t"].nunique()
    if options.covariates:
        try:
            data = _covariates(data, covariate_frames or {}, list(options.covariates))
        except KeyError as error:
            return failed(
                frame.outcome,
                frame.aggregate,
                "staggered_did",
                text,
                "difference",
                f"covariate {error} is not available",
                n_units=n_units,
                n_periods=n_periods,
            )
    try:
        fit = _Fitter(data, protocol)
        result, method, reason = fit.observed()
        overall = fit.aggregate(result)
        permuted: StaggeredRandomization | None = None
        pretrend = _pretest(result)
        if method == "randomization":
            permuted = fit.randomization(result, overall, cache)
            pretrend = _permuted_pretrend(permuted)
    except EstimationError as error:
        return failed(
            frame.outcome,
            frame.aggregate,
            "staggered_did",
            text,
            "difference",
            str(error),
            n_units=n_units,
            n_periods=n_periods,
            note=" ".join(n for n in notes if n),
        )
    test = permuted.test if permuted is not None else None
    level = protocol.decision.interval_level
    estimate = number(overall.estimate)
    low, high, p = number(overall.ci_low), number(overall.ci_high), number(overall.p_value)
    std_error = number(overall.std_error)
    if test is not None:
        low, high, p = number(test.ci_low), number(test.ci_high), number(test.p_value)
        if estimate is not None and low is not None and high is not None and high > low:
            std_error = number(std_error_from_interval(low, high, level, "difference"))
    notes += [_readable(n, protocol) for n in result.notes]
    dynamic = result.aggregate("dynamic", min_e=options.min_e, max_e=options.max_e)
    outcome_fit = OutcomeFit(
        outcome=frame.outcome,
        aggregate=frame.aggregate,
        design="staggered_did",
        estimator=text,
        scale="difference",
        n_units=result.n_units,
        n_periods=n_periods,
        effect=headline(
            f"att_{overall.type}", estimate, low, high, p, "difference", std_error, level
        ),
        result=result,
        n_clusters=result.n_clusters,
        inference=method,
        inference_text=_inference_text(method, reason, result, test),
        pretrend=pretrend,
        event_time=_event_time(dynamic),
        event_time_unit=_PERIOD_WORDS[options.period_bin],
        baseline=_baseline(data),
        figure=lambda: _event_study_figure(result, protocol),
        figures={"heatmap": lambda: _heatmap_figure(result, protocol)},
        effects=_effects(result, overall, dynamic),
        sensitivity=staggered_sensitivity(dynamic, level, options.base_period, protocol.seed),
        note=" ".join(n for n in notes if n),
    )
    return with_total_change(outcome_fit, frame, sorted(data["unit"].unique()))


def _readable(note: str, protocol: Protocol) -> str:
    """The library names cohorts by period index; say which period each index is."""
    head = "Groups with fewer than "
    if not note.startswith(head) or ": " not in note:
        return note
    grid = _grid(protocol)
    label = _period_label(protocol.design.staggered.period_bin)
    text, listed = note.split(": ", 1)
    names = [
        label(grid[int(item) - 1]) if item.strip().isdigit() else item.strip()
        for item in listed.rstrip(".").split(",")
    ]
    size = text.removeprefix(head).split(" ", 1)[0]
    return (
        f"Cohorts (by first treated period) with fewer than {size} units, where Callaway & "
        f"Sant'Anna's estimates may be unstable: {', '.join(names)}."
    )


def _baseline(data: pd.DataFrame) -> float | None:
    """Mean of the measure in treated units' periods before their start."""
    before = (data["g"] > 0) & (data["t"] < data["g"])
    return number(data.loc[before, "value"].mean()) if before.any() else None


class _Fitter:
    """The observed fit of one outcome's panel, with the protocol's options and inference."""

    def __init__(self, data: pd.DataFrame, protocol: Protocol) -> None:
        self.data, self.protocol = data, protocol
        self.options = protocol.design.staggered
        self.inference = protocol.design.inference

    def _model(self, data: pd.DataFrame, outcome: str) -> CallawaySantAnna:
        return CallawaySantAnna(
            data,
            outcome=outcome,
            unit="unit",
            time="t",
            group="g",
            covariates=list(self.options.covariates),
            control_group=self.options.control_group,
            est_method=self.options.est_method,
            base_period=self.options.base_period,
            anticipation=self.options.anticipation,
        )

    def observed(self) -> tuple[CSResult, str, str]:
        n_units = self.data["unit"].nunique()
        method, reason = auto_method(self.inference.method, n_units, rule=STAGGERED_AUTO)
        level = self.protocol.decision.interval_level
        model = self._model(self.data, "value")
        if method == "wild_bootstrap":
            result = model.fit(
                bootstrap=True, n_boot=self.inference.draws, seed=self.protocol.seed, level=level
            )
        else:
            result = model.fit(level=level)
        return result, method, reason

    @property
    def request(self) -> AggregateRequest:
        """The protocol's headline aggregation."""
        options = self.options
        if options.aggregation == "dynamic":
            return AggregateRequest("dynamic", min_e=options.min_e, max_e=options.max_e)
        return AggregateRequest(options.aggregation)

    def aggregate(self, result: CSResult) -> AggregateResult:
        """The headline aggregation of the protocol."""
        r = self.request
        return result.aggregate(r.type, min_e=r.min_e, max_e=r.max_e)

    def randomization(
        self, result: CSResult, overall: AggregateResult, cache: Cache | None
    ) -> StaggeredRandomization:
        # Permuted assignments need the estimates only: no alpha, no bootstrap, no refit.
        return randomization_inference(
            self.data,
            result.spec,
            self.request,
            result,
            overall,
            permutations=self.inference.permutations,
            seed=self.protocol.seed,
            level=self.protocol.decision.interval_level,
            cache=cache,
            cache_key=self.options.model_dump_json(),
        )


def _permuted_pretrend(permuted: StaggeredRandomization) -> PreTrend:
    test = permuted.pretrend
    if not test.computed:
        return PreTrend(
            None, None, None, "randomization", "not computed: no pre-treatment event time to test"
        )
    return PreTrend(
        statistic=test.statistic,
        df=None,
        p_value=test.p_value,
        method="randomization",
        text=(
            "mean square of the pre-treatment event-time effects, compared over "
            f"{test.permutations:,} permuted adoption dates (exact under no effect; "
            "conservative when adoption had one)"
        ),
    )


def _pretest(result: CSResult) -> PreTrend:
    test = result.pretest
    if test.statistic is None:
        return PreTrend(None, test.df, None, "wald", f"Wald test not computed ({test.reason})")
    return PreTrend(
        statistic=float(test.statistic),
        df=int(test.df),
        p_value=number(test.p_value),
        method="wald",
        text=f"Wald test that all {test.df} pre-treatment ATT(g,t) are zero (chi-square)",
    )


def _inference_text(
    method: str, reason: str, result: CSResult, test: RandomizationTest | None
) -> str:
    n = result.n_clusters
    if method == "randomization" and test is not None:
        if test.enumerated:
            draws = (
                f"all {test.n_distinct:,} distinct assignments enumerated (exact; the smallest "
                f"p-value it can give is 1/{test.n_distinct:,} = {1 / test.n_distinct:.3f})"
            )
        else:
            draws = (
                f"{test.permutations:,} random permutations of {test.n_distinct:,} possible "
                f"(seed {test.seed})"
            )
        text = (
            f"randomisation inference: adoption dates permuted across the {n} units, {draws}; "
            "interval by test inversion under a constant additive effect; event-time "
            "intervals in the figure are analytical (pointwise)"
        )
    elif method == "wild_bootstrap":
        inference = result.inference
        text = (
            "multiplier bootstrap of the Callaway & Sant'Anna influence functions "
            f"({inference.multiplier.capitalize()} weights, {inference.n_boot:,} draws, seed "
            f"{inference.seed}), clustered by unit ({n} clusters)"
        )
    else:
        text = (
            "analytical (influence-function) standard errors of Callaway & Sant'Anna, "
            f"clustered by unit ({n} clusters)"
        )
    return f"{text} ({reason})." if reason != "as specified" else f"{text}."


def _event_time(dynamic: AggregateResult) -> pd.DataFrame:
    levels = dynamic.levels
    return pd.DataFrame(
        {
            "event_time": levels["event_time"].to_numpy(dtype=int),
            "estimate": levels["estimate"].to_numpy(dtype=float),
            "ci_low": levels["ci_low"].to_numpy(dtype=float),
            "ci_high": levels["ci_high"].to_numpy(dtype=float),
            "p_value": levels["p_value"].to_numpy(dtype=float),
            "kind": np.where(levels["event_time"].to_numpy() < 0, "lead", "lag"),
        }
    )


def _effects(result: CSResult, headline: AggregateResult, dynamic: AggregateResult) -> pd.DataFrame:
    cells = result.to_frame()
    cells.insert(0, "kind", "attgt")
    events = dynamic.to_frame()
    events.insert(0, "kind", "event_time")
    overall = headline.to_frame().iloc[[0]].copy()
    overall.insert(0, "kind", f"headline_{headline.type}")
    return pd.concat([overall, events, cells], ignore_index=True)


# -- figures: the library draws them; here they get a readable size and dates for indices ------


def _event_study_figure(result: CSResult, protocol: Protocol) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    options = protocol.design.staggered
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    result.plot_event_study(ax=ax, min_e=options.min_e, max_e=options.max_e)
    ticks = ax.get_xticks()
    if len(ticks) > 16:
        step = int(np.ceil(len(ticks) / 16))
        ax.set_xticks(ticks[::step], [f"{t:g}" for t in ticks[::step]])
    ax.set_xlabel(f"{_PERIOD_WORDS[options.period_bin]}s since the start (0 = first treated)")
    # The library labels the line with its analytical interval; the headline's interval may
    # come from other inference, so the figure names the level only.
    for line in ax.collections:
        if str(line.get_label()).startswith("overall"):
            line.set_label("average from the start")
    level = format_level(protocol.decision.interval_level)
    ax.set_ylabel(f"difference (bars: {level} analytical pointwise interval)")
    ax.legend(loc="best", fontsize="small", frameon=False)
    return fig, ax


def _heatmap_figure(result: CSResult, protocol: Protocol) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    options = protocol.design.staggered
    grid = _grid(protocol)
    label = _period_label(options.period_bin)
    cells = result.to_frame()
    times = np.sort(cells["time"].unique())
    groups = np.sort(cells["group"].unique())
    # No wider than the book's column can show at a readable size; plot_heatmap drops the
    # cell values (keeping the *) when there are too many periods to print them.
    width = min(max(8.0, 0.45 * len(times) + 3.0), MAX_HEATMAP_WIDTH_INCHES)
    fig = Figure(figsize=(width, 0.5 * len(groups) + 2.2), layout="constrained")
    ax = fig.add_subplot()
    result.plot_heatmap(ax=ax)
    step = max(1, int(np.ceil(len(times) / 16)))
    positions = np.arange(len(times))[::step]
    ax.set_xticks(positions, [label(grid[int(t) - 1]) for t in times[::step]], rotation=45)
    ax.set_yticks(range(len(groups)), [label(grid[int(g) - 1]) for g in groups])
    ax.set_xlabel(_PERIOD_WORDS[options.period_bin])
    ax.set_ylabel("cohort (first treated period)")
    ax.set_title("ATT(g,t) by cohort and period: outlined cells are after the start")
    return fig, ax


def _period_label(period_bin: str) -> Callable[[pd.Timestamp], str]:
    if period_bin == "quarter":
        return lambda p: f"{p.year} Q{(p.month - 1) // 3 + 1}"
    if period_bin == "year":
        return lambda p: f"{p.year}"
    return lambda p: f"{p:%Y-%m}"
