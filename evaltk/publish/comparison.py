"""What a chapter says about a comparison design (did, event_study, staggered_did, cits): which
forces were compared from when, which inference was used and why, the pre-trend test, and the
event-study, heat-map and series figures.

It reads only ``results.json`` (``design``, ``starts``, ``ledger_note`` and each outcome's
``inference_text``, ``pretrend``, ``baseline``, ``event_time_unit`` and ``figures``). The ITS
chapter is unchanged: every function here returns None or the ITS wording for ``its``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaltk.episodes.forces import force_name
from evaltk.publish import format as fmt
from evaltk.publish.escape import Markup, option
from evaltk.publish.load import LoadedAnalysis
from evaltk.results.schema import AnalysisResult, OutcomeResult, PreTrendTest

ITS_INTRO = (
    "Each change compares what happened after the scheme began with what the model expected "
    "had the trend and seasonal pattern before it carried on."
)
_INTRO = {
    "did": "Each change compares the treated forces before and after their start with the "
    "comparison forces over the same months (difference-in-differences): the change in the "
    "treated forces beyond the change the comparison forces show.",
    "event_study": "Each change is the average of the event-study effects after adoption: the "
    "treated forces' change since just before their start, beyond the comparison forces' "
    "change over the same months.",
    "staggered_did": "Each change is the average, over the treated forces and the periods "
    "after their start, of a force's change since the period before its start minus the "
    "change in forces not yet (or never) treated over the same periods (Callaway & "
    "Sant'Anna). Changes are differences in the measure itself, e.g. detentions per 100,000 "
    "residents a month.",
    "cits": "Each change is the change in level at the start in the treated forces' series "
    "beyond the change the comparison forces' series shows at the same date (comparative "
    "interrupted time series).",
    "synthetic_control": "Each change is the average gap, over the months from the start, "
    "between the treated force and its synthetic force: a weighted mix of donor forces fitted "
    "to track it before the start (synthetic control). Changes are differences in the measure "
    "itself, e.g. detentions per 100,000 residents a month.",
    "synthetic_did": "Each change is the treated force's change from its weighted months "
    "before the start to the months after, beyond the same change in a weighted mix of donor "
    "forces (synthetic difference-in-differences). Changes are differences in the measure "
    "itself, e.g. detentions per 100,000 residents a month.",
    "stepped_wedge": "Each change is the rate ratio of the stepped-wedge model: every cluster's "
    "periods with the scheme against its own periods before it and against clusters not yet "
    "started in the same periods; its p-value and range come from re-drawing the rollout "
    "order under the registered randomisation scheme.",
}
_CAPTION = {
    "event_study": "Event study: the effect by {units} since the start, before it (a test of "
    "parallel trends: these should sit near no change) and after it.",
    "heatmap": "Average effect on the treated by cohort g (the period a force started) and "
    "period t, ATT(g,t) (see the glossary): blue lower, red higher than the comparison; "
    "outlined cells are after the start.",
    "groups": "Mean by month in the treated and comparison forces; dotted lines mark the "
    "start dates.",
    "series": "The treated forces' series against the comparison forces' series.",
    "cits": "The treated forces' monthly series (summed) against the comparison forces', with "
    "the fitted lines and, from the start, the treated series expected without the scheme "
    "(dashed).",
    "synthetic": "The treated force's monthly series against its synthetic force (dashed), "
    "the weighted mix of donor forces in the table above; after the start the synthetic "
    "force is the series expected without the scheme.",
    "placebo": "Placebo in space: the gap between each donor force and its own synthetic "
    "force (grey), each donor in turn treated as if it had started the scheme, and the "
    "treated force's gap (black). The treated force's gap after the start should stand out "
    "from the grey lines if the scheme had an effect.",
    "schedule": "The rollout schedule drawn at random: each cluster (row, by step) against the "
    "design periods, shaded from the period its scheme started.",
}
_ALT = {
    "event_study": "Chart of estimated effects with interval bars against {units} since the "
    "start of the scheme; points before the start test parallel trends, points from the "
    "start on show the effect; a dotted vertical line marks the start.",
    "heatmap": "Heat map with one row per cohort of forces (by start period) and one column per "
    "period; each cell's colour is the estimated effect, blue for lower and red for higher; "
    "cells after the start are outlined.",
    "groups": "Line chart of the outcome by month, one line for the mean of the treated forces "
    "and one for the comparison forces, with dotted vertical lines at the start dates.",
    "series": "Line chart of the treated and comparison series by month.",
    "cits": "Line chart by month of the treated forces' series and the comparison forces' "
    "series as points with fitted lines, and a dashed line from the start for the treated "
    "series expected without the scheme; a dotted vertical line marks the start.",
    "synthetic": "Line chart by month of the treated force's series (solid) and its "
    "synthetic force's (dashed); a dotted vertical line marks the start.",
    "placebo": "Line chart by month of the gap between each force and its synthetic force: "
    "one grey line per donor force, the treated force's in black, a horizontal line at no "
    "gap and a dotted vertical line at the start.",
    "schedule": "Grid with one row per cluster, ordered by the step at which it started, and "
    "one column per design period; cells are shaded from the cluster's start onwards.",
}


def is_comparison(result: AnalysisResult) -> bool:
    return result.design.strip().lower() != "its"


def every_outcome_intro(result: AnalysisResult) -> str:
    """The sentence that opens the "Every outcome" table: how each change was made."""
    return _INTRO.get(result.design, ITS_INTRO) if is_comparison(result) else ITS_INTRO


def last_column(result: AnalysisResult) -> tuple[str, Markup]:
    """The outcome table's last column and the note under it: events averted (ITS, in a table
    of their own after the note) or the pre-trend test's p-value (comparison designs)."""
    if not is_comparison(result):
        return (
            "Averted over the post period",
            Markup(
                "Over the months after the start, the model's expected total without the "
                "scheme minus the observed total is the demand *averted*: fewer events than "
                "expected is demand the scheme averted, more is demand it added."
            ),
        )
    if result.design == "stepped_wedge":
        return (
            "Pre-trend p",
            Markup(
                "A randomised rollout needs no *pre-trend* test: the order the clusters started "
                "in was drawn at random, so none is computed (–)."
            ),
        )
    return (
        "Pre-trend p",
        Markup(
            "*Pre-trend p* is the test that treated and comparison forces moved in parallel "
            "before the start: a small value is evidence they did not, and the comparison is "
            "then weaker."
        ),
    )


def last_cell(result: AnalysisResult, outcome: OutcomeResult) -> str:
    if not is_comparison(result):
        return fmt.averted(outcome.cumulative)
    test = outcome.pretrend
    return fmt.p_value(test.p_value) if test is not None else fmt.MISSING


def chapter_comparison(analysis: LoadedAnalysis) -> dict[str, Any] | None:
    """The "How the comparison was made" part of a chapter's results, or None for an ITS."""
    result = analysis.result
    if not is_comparison(result):
        return None
    starts = sorted(
        result.starts.items(), key=lambda item: (item[1] is None, item[1] or "", item[0])
    )
    rows = [
        {
            "force": f"{force_name(unit)} ({unit})" if force_name(unit) != unit else unit,
            "start": fmt.month(start) if start else "comparison: never started in the window",
        }
        for unit, start in starts
    ]
    primary = next((o for o in result.primary if o.inference_text), None)
    methods = sorted({o.inference for o in result.outcomes if o.inference})
    return {
        "design": fmt.design(result.design),
        "starts": rows,
        "n_treated": sum(1 for _, s in starts if s),
        "n_comparison": sum(1 for _, s in starts if not s),
        "inference": primary.inference_text if primary else None,
        "inference_same": len(methods) <= 1,
    }


def pretrend_tests(result: AnalysisResult) -> list[dict[str, str]]:
    """Every outcome's pre-trend test, primary first, for the chapter's Diagnostics section
    (none for an ITS, which has no comparison forces)."""
    if not is_comparison(result):
        return []
    ordered = sorted(result.outcomes, key=lambda o: o.role != "primary")
    return [
        {"label": o.label, "text": pretrend_text(o.pretrend, result.alpha)}
        for o in ordered
        if o.pretrend is not None
    ]


def diagnostics_intro(result: AnalysisResult) -> str:
    """The sentence that opens the chapter's Diagnostics section."""
    if not is_comparison(result):
        return (
            "How well each outcome's model fits its monthly series: variation beyond a Poisson "
            "model, correlation between nearby months (which would make plain intervals too "
            "narrow) and the months on each side of the start."
        )
    if result.design == "stepped_wedge":
        return (
            "Why the comparison is fair: the rollout order was drawn at random (see the trial "
            "section above); then any checks of the models' fit."
        )
    return (
        "Whether the comparison is fair: for each outcome, the test that the treated and "
        "comparison forces moved together before the start (a small p is evidence they did "
        "not, and the estimate is then weaker), then any checks of the model's fit."
    )


def pretrend_text(test: PreTrendTest | None, alpha: float) -> str:
    """'p = 0.63 (joint test that ...): no evidence against parallel pre-trends at α = 0.05.'"""
    if test is None:
        return "no pre-trend test"
    if test.p_value is None:
        return f"not computed ({test.text.rstrip('.')})"
    verdict = (
        f"evidence that trends were not parallel before the start (at α = {alpha:g})"
        if test.p_value < alpha
        else f"no evidence against parallel trends before the start at α = {alpha:g}"
    )
    return f"{fmt.p_value(test.p_value, prose=True)} ({test.text.rstrip('.')}): {verdict}."


def outcome_lines(result: AnalysisResult, outcome: OutcomeResult) -> list[str]:
    """Extra bullet lines for one outcome: inference and baseline (its pre-trend test is under
    the chapter's Diagnostics)."""
    if not is_comparison(result) or outcome.estimate is None:
        return []
    lines = []
    if outcome.inference_text:
        lines.append(f"Inference: {outcome.inference_text}")
    if outcome.baseline is not None and outcome.scale == "difference":
        lines.append(
            f"Before their start the treated forces averaged {fmt.number(outcome.baseline)} "
            "on this measure: read the difference against it."
        )
    return lines


def figure_words(result: AnalysisResult, outcome: OutcomeResult, kind: str) -> tuple[str, str]:
    """(alt text, caption) of an outcome's figure of ``kind`` (``main`` for its figure)."""
    if kind == "main":
        kind = {"cits": "cits", "stepped_wedge": "schedule"}.get(result.design, "event_study")
        if result.design == "did" and not outcome.event_time:
            kind = "groups"
        if outcome.synthetic is not None:
            kind = "synthetic"
    units = _plural(outcome.event_time_unit)
    caption = f"{outcome.label}. " + _CAPTION[kind].format(units=units)
    return _ALT[kind].format(units=units), caption


def _plural(unit: str | None) -> str:
    """'quarter' -> 'quarters'; '1 month' -> 'months'; '3 months' -> '3-month bins'."""
    if not unit:
        return "periods"
    if unit[:1].isdigit():
        number, rest = unit.split(" ", 1)
        return f"{rest.rstrip('s')}s" if number == "1" else f"{number}-{rest.rstrip('s')} bins"
    return f"{unit}s"


def extra_figures(
    analysis: LoadedAnalysis, outcome: OutcomeResult, target: Any
) -> list[dict[str, Any]]:
    """The outcome's extra figures as the template shows them: path, alt text, caption."""
    out = []
    for extra in outcome.figures:
        source = analysis.extra_figures.get(extra.path)
        if source is None:
            continue
        alt, caption = figure_words(analysis.result, outcome, extra.kind)
        out.append(
            {
                "figure": Markup(target(Path(extra.path).stem, source)),
                "alt": option(alt),
                "caption": caption,
            }
        )
    return out
