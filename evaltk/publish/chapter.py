"""What one analysis's chapter says: every value the chapter template prints, as words.

The template (``templates/chapter.md.j2``) fixes the order of sections; this module decides the
wording: sentences for each outcome, readings of the diagnostics, the registration status, the
data accounting. Values are plain text (escaped by the template) or :class:`Markup` built on
purpose; numbers are formatted by :mod:`evaltk.publish.format`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from evaltk.estimators.render import format_level
from evaltk.publish import comparison
from evaltk.publish import format as fmt
from evaltk.publish.count_rule import rule_of
from evaltk.publish.demand import PAGE as DEMAND_PAGE
from evaltk.publish.demand import has_demand
from evaltk.publish.disclosure import observed
from evaltk.publish.escape import Markup, code, join, md, one_line, option
from evaltk.publish.linkage import linkage_rows
from evaltk.publish.load import RESULTS_FILE, LoadedAnalysis
from evaltk.publish.sensitivity import sensitivity_section
from evaltk.publish.synthetic import synthetic_section
from evaltk.publish.trial import trial_context
from evaltk.results.schema import AnalysisResult, Diagnostics, InputFile, OutcomeResult

_VERDICT_CLASS = {
    "Resolves": "tip",
    "Displaces": "warning",
    "Worsens": "danger",
    "Refers on": "attention",
    "No detectable change": "note",
    "Inconclusive": "note",
}


# A space that a browser or LaTeX may break a table cell at, between a number and its unit
# ("33 %") or its sign ("< 0.001", escaped as "\< 0.001"): "33" ending one line and "%"
# starting the next reads as two values.
_NUMBER_GAP = re.compile(r"(?<=\d) (?=%)|(?<=[<>]) (?=\d)")


def cell(text: Any) -> Markup:
    """``text`` escaped for a table cell, each number kept on one line with its unit.

    The space is replaced after escaping by a no-break space (U+00A0, Latin-1, which pdflatex
    sets as ``~``); escaping would turn it back into a plain space.
    """
    return Markup(_NUMBER_GAP.sub("\u00a0", md(text)))


def with_code(text: str) -> Markup:
    """User text whose `backticked` parts are shown as code, the rest escaped as usual.

    Registration statements are written in a protocol or at the command line, where people
    mark a command as `evaltk simulate`; escaped whole, the backticks would show.
    """
    # Backticks pair from the left, as in CommonMark. A pair holding a pipe (which would end a
    # table cell) or nothing, and a backtick left without a pair, stay escaped.
    pieces = one_line(text).split("`")
    out: list[object] = [pieces[0]]
    for i in range(1, len(pieces), 2):
        if i + 1 == len(pieces):
            out.append("`" + pieces[i])
            break
        inner = pieces[i]
        out += [code(inner) if inner.strip() and "|" not in inner else f"`{inner}`", pieces[i + 1]]
    return join(*out)


def slug(name: str) -> str:
    """A name safe in a URL and a Sphinx docname: ``My analysis (v2)`` -> ``my-analysis-v2``."""
    return re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-") or "analysis"


# -- the chapter's context ---------------------------------------------------------------------
def chapter_context(analysis: LoadedAnalysis) -> dict[str, Any]:
    """Everything the chapter template prints, already formatted as text or Markup."""
    result = analysis.result
    level = result.interval_level
    ordered = sorted(result.outcomes, key=lambda o: o.role != "primary")
    registration = _registration_text(analysis)
    return {
        "source": f"{analysis.project_path}/{RESULTS_FILE.as_posix()}",
        "run_command": analysis.run_command,
        "analyses_folder": analysis.project_path.split("/")[0],
        "command_block": _console(analysis.run_command),
        "title": result.title,
        "verdict": result.verdict.label,
        "verdict_class": Markup(_VERDICT_CLASS.get(result.verdict.label, "note")),
        "verdict_sentence": result.verdict.sentence,
        "verdict_rule": result.verdict.rule,
        "headline": result.headline,
        "question": result.question,
        "intervention": fmt.intervention(result.intervention),
        "start": fmt.month(result.start),
        "units": fmt.units(result.units),
        "window": f"{fmt.month(result.window_start)} to {fmt.month(result.window_end)}",
        "design": _design_text(result),
        "registration": fmt.registration(result.registration.status),
        "registration_cell": _registration_cell(result),
        "registration_status": result.registration.status,
        "registration_text": registration,
        "registration_history": _history(result),
        "primary_flag": _primary_flag(result),
        "preregistration": Markup("preregistration.md"),
        "demand": Markup(f"{DEMAND_PAGE}.md") if has_demand(analysis) else None,
        "tests": _tests_text(result),
        "ci_header": fmt.ci_label(level),
        "ci_note": _ci_note(level),
        "comparison": comparison.chapter_comparison(analysis),
        "trial": trial_context(result),
        "every_outcome_intro": comparison.every_outcome_intro(result),
        "last_column": comparison.last_column(result)[0],
        "last_column_note": comparison.last_column(result)[1],
        "adjusted_p": _adjusted_p_text(result.multiplicity),
        "alpha": f"{result.alpha:g}",
        "primary": [_outcome_context(analysis, o, level) for o in result.primary],
        "outcomes": [_outcome_context(analysis, o, level) for o in ordered],
        "pretrend": comparison.pretrend_tests(result),
        "diagnostics_intro": comparison.diagnostics_intro(result),
        # Method detail the commissioners' section leaves out: it is for a statistician.
        "evidence_reason": result.evidence.reason if result.evidence else None,
        "ledger_method": result.ledger.method if result.ledger else None,
        "data": _data_context(result),
        "files": _files(result),
        "downloads": _downloads(analysis),
        "evaltk_version": result.evaltk_version,
        "schema_version": result.results_schema_version,
        "packages": sorted(result.packages.items()),
    }


def _design_text(result: AnalysisResult) -> str:
    estimators = sorted({o.estimator for o in result.outcomes if o.estimator})
    design = fmt.design(result.design)
    return f"{design} ({'; '.join(estimators)})" if estimators else design


def _ci_note(level: float) -> str:
    return f"{fmt.ci_label(level)} is the {format_level(level)} confidence interval."


def _tests_text(result: AnalysisResult) -> str:
    """The decision settings results.json records, in one line for the summary table."""
    correction = fmt.multiplicity(result.multiplicity)
    secondary = (
        f"secondary outcomes corrected together by {correction}"
        if correction
        else "no correction across secondary outcomes"
    )
    return (
        f"Two-sided, at α = {result.alpha:g}; {format_level(result.interval_level)} "
        f"confidence intervals; {secondary}"
    )


def _adjusted_p_text(method: str) -> str:
    """Completes "*Adjusted p* ..." with the correction the run applied."""
    correction = fmt.multiplicity(method)
    if correction is None:
        return "equals p: the protocol chose no correction for testing several secondary outcomes"
    return (
        f"is corrected by {correction} for testing several secondary outcomes, "
        "as the protocol fixed"
    )


def _registration_cell(result: AnalysisResult) -> Markup:
    """The summary table's registration row: status, date, amendments, and the page link."""
    registration = result.registration
    parts: list[object] = [fmt.registration(registration.status)]
    if registration.registered_at:
        parts.append(f" (registered {registration.registered_at[:10]}")
        n = len(registration.amendments)
        parts.append(f"; {n} amendment{'s' if n != 1 else ''})" if n else ")")
    parts.append(Markup("; see the [pre-registration](preregistration.md)"))
    return join(*parts)


def _primary_flag(result: AnalysisResult) -> str | None:
    registration = result.registration
    if not registration.primary_changed:
        return None
    primary = ", ".join(o.outcome for o in result.primary) or "none"
    return (
        "The primary outcome was changed after registration: registered "
        f"{', '.join(registration.registered_primary) or 'none'}, analysed {primary} (or its "
        "definition changed). The headline no longer tests the registered hypothesis; read it "
        "as exploratory and see the amendments below."
    )


def _history(result: AnalysisResult) -> list[Markup]:
    """The registration and every amendment, in log order, one list item each."""
    registration = result.registration
    if registration.registered_at is None:
        return []
    statement = registration.data_access.statement if registration.data_access else "not stated"
    items = [
        join(
            Markup("**Registered** "),
            f"{registration.registered_at} by {registration.registered_by}. Existing data: ",
            with_code(statement),
            " Protocol SHA-256 ",
            code(registration.registered_sha256 or ""),
            ".",
        )
    ]
    for amendment in registration.amendments:
        changes = [
            code(f"{c.path}: {c.before or '(absent)'} -> {c.after or '(absent)'}")
            for c in amendment.changes
        ]
        access = (
            [" Existing data: ", with_code(amendment.data_access.statement)]
            if amendment.data_access
            else []
        )
        items.append(
            join(
                Markup(f"**Amendment {amendment.sequence}** "),
                f"{amendment.recorded_at} by {amendment.by}. Reason: ",
                with_code(amendment.reason),
                ".",
                *access,
                " Changed: ",
                *_interleave(changes),
                ". Protocol SHA-256 ",
                code(amendment.protocol_sha256),
                ".",
            )
        )
    return items


def _interleave(parts: list[Markup]) -> list[object]:
    out: list[object] = []
    for i, part in enumerate(parts):
        if i:
            out.append("; ")
        out.append(part)
    return out or ["nothing"]


def _registration_text(analysis: LoadedAnalysis) -> Markup:
    registration = analysis.result.registration
    sha = code(registration.protocol_sha256)
    if registration.status == "registered":
        when = registration.registered_at or "an unrecorded time"
        n = len(registration.amendments)
        amended = f", and amended {n} time{'s' if n != 1 else ''} since (listed below)" if n else ""
        text = join(
            Markup("**Registered.** "),
            f"The protocol was registered at {when}{amended}. This run was checked against "
            "the latest registration entry before anything was read; the protocol that ran has "
            "SHA-256 ",
            sha,
            ". The outcomes, the design and the decision rule were fixed before this run.",
        )
        if registration.log_sha256:
            text = join(
                text,
                " The registration log's latest entry hash is ",
                code(registration.log_sha256),
                ": registration.json must still reach it.",
            )
    elif registration.status == "exploratory":
        changes = [
            code(f"{c.path}: {c.before or '(absent)'} -> {c.after or '(absent)'}")
            for c in registration.unregistered_changes
        ]
        text = join(
            Markup("**Exploratory — not the registered analysis.** "),
            "This run was made with ",
            code("--exploratory"),
            ": its results can suggest an effect, not confirm one. Protocol SHA-256 ",
            sha,
            ".",
        )
        if changes:
            text = join(
                text, " It differs from the latest registration in: ", *_interleave(changes), "."
            )
    else:
        text = join(
            Markup("**Not registered.** "),
            "This run was not made under a registered protocol, so nothing shows that the "
            "outcomes, the design and the decision rule were fixed before the data were seen. "
            "Read the results as exploratory until the protocol is registered (",
            code("evaltk register"),
            ") and the analysis is run again. Protocol SHA-256 ",
            sha,
            ".",
        )
    if registration.note:
        text = join(text, " ", with_code(registration.note))
    return text


def _console(command: str) -> Markup:
    # A fence longer than any backtick run inside keeps the block closed (CommonMark's rule).
    longest = max((len(run) for run in re.findall(r"`+", command)), default=0)
    fence = "`" * max(3, longest + 1)
    # Inside a code block the command is shown literally: one line is all it needs.
    return Markup(f"{fence}console\n$ {one_line(command)}\n{fence}")


def _downloads(analysis: LoadedAnalysis) -> Markup:
    files = [_download("results.json", "files/results.json")]
    if analysis.series is not None:
        files.append(_download("series.csv", "files/series.csv"))
    if analysis.effects is not None:
        files.append(_download("effects.csv", "files/effects.csv"))
    return Markup(" and ".join(files))


def _download(text: str, target: str) -> Markup:
    return Markup(f"{{download}}`{text} <{target}>`")


def _files(result: AnalysisResult) -> list[dict[str, Any]]:
    """The data files the run read, with their SHA-256, for the Reproducibility section.

    results.json before schema 1.4 records only the main data file; it is shown alone.
    """
    data = result.data
    files = data.files or [InputFile(role="episodes", path=data.path, sha256=data.sha256)]
    holds = {
        "episodes": "episodes (one row per incident)",
        "series": "the monthly series",
        "population": "population by force and year",
        "ambulance": "ambulance extract (linked)",
        "ae": "A&E extract (linked)",
        "admission": "admissions extract (linked)",
    }
    return [{"path": code(f.path), "role": holds[f.role], "sha256": code(f.sha256)} for f in files]


def _data_context(result: AnalysisResult) -> dict[str, Any]:
    # Counts here are observed: each is marked for the disclosure scan of the built HTML, and
    # arrives already protected (null = suppressed) by evaltk.publish.disclosure.
    data = result.data
    excluded = sorted(data.excluded.items(), key=lambda item: (-(item[1] or 0), item[0]))
    cells = [data.rows_used, *data.excluded.values()]
    if data.suppressed or any(v is None for v in [data.rows_in, *cells]):
        threshold, base = rule_of(result.disclosure)
        balance: Markup | str = (
            f"Rows read = rows used + rows excluded. Counts from 1 to {threshold - 1} are "
            f"suppressed and the rest rounded to the nearest {base} (NHS England's disclosure "
            "rule; see Methods), so the rounded parts may not add up exactly to the rounded "
            "total."
        )
    elif (data.rows_used or 0) + sum(v or 0 for v in data.excluded.values()) == data.rows_in:
        balance = (
            f"{fmt.count(data.rows_used)} used + "
            f"{fmt.count(sum(v or 0 for v in data.excluded.values()))} "
            f"excluded = {fmt.count(data.rows_in)} read: every row is accounted for."
        )
    else:
        total = (data.rows_used or 0) + sum(v or 0 for v in data.excluded.values())
        balance = join(
            Markup("**These do not add up:** "),
            f"{fmt.count(data.rows_used)} used + "
            f"{fmt.count(sum(v or 0 for v in data.excluded.values()))} "
            f"excluded = {fmt.count(total)}, but {fmt.count(data.rows_in)} rows were read. "
            "Re-run the analysis and report the difference.",
        )
    share = (
        f"{data.excluded_share:.1%} of the rows in scope"
        + (
            f" (the protocol allows at most {data.max_excluded_share:.1%})"
            if data.max_excluded_share is not None
            else ""
        )
        if data.excluded_share is not None
        else None
    )
    return {
        "rows_in": Markup(observed(data.rows_in)),
        "rows_used": Markup(observed(data.rows_used)),
        "excluded": [(reason, Markup(observed(n))) for reason, n in excluded],
        "balance": balance,
        "format": data.format,
        "quality_share": share,
        "identifiers": (
            "Person identifiers arrived raw and were replaced by keyed pseudonyms "
            "(HMAC-SHA-256) as they were read."
            if data.identifiers == "raw"
            else None
        ),
        "linkage": linkage_rows(data.linkage, lambda n: Markup(observed(n))),
        "empty_months": _empty_months_warning(data.empty_months),
    }


def _empty_months_warning(months: list[str], shown: int = 20) -> str | None:
    """One line naming the unit-months without data, or None when there are none."""
    if not months:
        return None
    listed = ", ".join(months[:shown]) + (
        f" and {len(months) - shown} more (all in results.json)" if len(months) > shown else ""
    )
    return (
        f"{len(months)} unit-month(s) of the window have no data at all ({listed}). They are "
        "treated as missing and left out of the estimates, not counted as months without "
        "events: check the extract for a gap."
    )


# -- one outcome -------------------------------------------------------------------------------
def _outcome_context(
    analysis: LoadedAnalysis, outcome: OutcomeResult, level: float
) -> dict[str, Any]:
    result = analysis.result
    figure = analysis.figures.get(outcome.outcome)
    label_cell: Markup | str = outcome.label
    if outcome.role == "primary":
        label_cell = join(outcome.label, Markup(" *(primary)*"))
    flag = _outcome_flag(result, outcome.outcome)
    if flag:
        label_cell = join(label_cell, Markup(f" *({flag})*"))
    return {
        "label": outcome.label + (f" ({flag})" if flag else ""),
        "label_cell": label_cell,
        "flag": flag,
        "class": fmt.outcome_class(outcome.outcome_class),
        "good": fmt.good_direction(outcome.direction),
        # The class and the good direction share a cell: one column fewer in the outcome table.
        "class_cell": cell(f"{fmt.outcome_class(outcome.outcome_class)}; {_better(outcome)}"),
        "change": cell(fmt.change(outcome) if outcome.estimate is not None else "not estimated"),
        "interval": cell(fmt.interval(outcome)),
        "p": cell(fmt.p_value(outcome.p_value)),
        "p_adjusted": cell(fmt.p_value(outcome.p_adjusted)),
        "averted": cell(fmt.averted(outcome.cumulative)),
        "last_cell": cell(comparison.last_cell(result, outcome)),
        "sentence": (f"{flag[0].upper()}{flag[1:]}. " if flag else "") + _sentence(outcome, level),
        "details": [*_details(outcome, level), *comparison.outcome_lines(result, outcome)],
        "figure": Markup(figure_target(outcome.outcome, figure)) if figure else None,
        "alt": option(_alt(result, outcome)),
        "caption": (f"{flag.upper()}. " if flag else "") + _caption(result, outcome, level),
        "extra_figures": comparison.extra_figures(analysis, outcome, figure_target),
        "diagnostics": _diagnostics(
            outcome.diagnostics, outcome.scale, outcome.outcome in analysis.residual_figures
        ),
        "residual_figure": (
            Markup(residual_target(outcome.outcome))
            if outcome.outcome in analysis.residual_figures
            else None
        ),
        "residual_alt": option(
            f"Two panels for {outcome.label}: the model's residuals month by month, with the "
            "start marked, and their autocorrelation at lags of 1 to 24 months against the "
            "approximate 95 % band of uncorrelated residuals."
        ),
        "sensitivity": sensitivity_section(outcome, level),
        "synthetic": synthetic_section(outcome, level),
        "note": outcome.note,
    }


def _outcome_flag(result: AnalysisResult, outcome_id: str) -> str | None:
    """How an outcome stands to the registration, when a reader must be told."""
    registration = result.registration
    if outcome_id in registration.exploratory_outcomes:
        return "exploratory: added after registration"
    if outcome_id in registration.amended_outcomes:
        return "definition amended after registration"
    return None


def figure_target(outcome_id: str, source: Path) -> str:
    """Where an outcome's figure is copied, relative to its chapter page."""
    return f"figures/{slug(outcome_id)}{source.suffix.lower()}"


def residual_target(outcome_id: str) -> str:
    """Where an outcome's residual figure is copied, relative to its chapter page."""
    return f"figures/{slug(outcome_id)}-residuals.png"


def _sentence(outcome: OutcomeResult, level: float) -> str:
    if fmt.finite(outcome.estimate) is None:
        return f"{outcome.label}: not estimated."
    words = fmt.change(outcome)
    versus = "than expected" if words != "no change" else "from what was expected"
    tests = [fmt.p_value(outcome.p_value, prose=True)]
    if outcome.role == "secondary" and fmt.finite(outcome.p_adjusted) is not None:
        tests.append("adjusted " + fmt.p_value(outcome.p_adjusted, prose=True))
    span = fmt.interval(outcome)
    inside = "; ".join(([f"{fmt.ci_label(level)} {span}"] if span != fmt.MISSING else []) + tests)
    # "Label: change" avoids verb agreement with labels that may be singular or plural.
    return (
        f"{outcome.label}: {words} {versus} without the scheme ({inside}). "
        f"{_better(outcome).capitalize()} for this outcome."
    )


def _better(outcome: OutcomeResult) -> str:
    return f"{'lower' if outcome.direction == 'decrease' else 'higher'} is better"


def _details(outcome: OutcomeResult, level: float) -> Iterable[str]:
    label = fmt.ci_label(level)
    ratio = outcome.scale == "ratio"
    change = fmt.ratio_change if ratio else fmt.difference_change
    span = fmt.ratio_interval if ratio else fmt.difference_interval
    if outcome.slope_change is not None and fmt.finite(outcome.slope_change.estimate) is not None:
        slope = outcome.slope_change
        yield (
            f"Change in trend after the start: {change(slope.estimate)} per month "
            f"({label} {span(slope.ci_low, slope.ci_high)})."
        )
    trend = outcome.trend_per_year
    if trend is not None and fmt.finite(trend.estimate) is not None:
        yield (
            f"Underlying trend before the start: {change(trend.estimate)} per year "
            f"({label} {span(trend.ci_low, trend.ci_high)})."
        )
    cumulative = outcome.cumulative
    if cumulative is not None and cumulative.unit != "not additive":
        months = outcome.diagnostics.n_post if outcome.diagnostics else None
        over = f"over the {months} months after the start" if months else "after the start"
        yield (
            f"Total {over}: {fmt.amount(cumulative.observed)} observed against "
            f"{fmt.amount(cumulative.counterfactual)} expected without the scheme, "
            f"that is {fmt.averted(cumulative)}."
        )
    period = outcome.event_time_unit if outcome.event_time_unit in ("quarter", "year") else "month"
    yield (f"Model: {outcome.estimator}; {outcome.n_units} unit(s), {outcome.n_periods} {period}s.")


def _alt(result: AnalysisResult, outcome: OutcomeResult) -> str:
    if comparison.is_comparison(result):
        return comparison.figure_words(result, outcome, "main")[0]
    return (
        f"Line chart of {outcome.label} by month from {fmt.month(result.window_start)} to "
        f"{fmt.month(result.window_end)}: observed values as points, the fitted model as a solid "
        f"line and, from {fmt.month(result.start)}, the counterfactual expected without the "
        "scheme as a dashed line with a shaded interval; a dotted vertical line marks the start."
    )


def _caption(result: AnalysisResult, outcome: OutcomeResult, level: float) -> str:
    if comparison.is_comparison(result) and fmt.finite(outcome.estimate) is not None:
        return (
            comparison.figure_words(result, outcome, "main")[1]
            + f" Overall: {fmt.change_with_interval(outcome, level)}."
        )
    if fmt.finite(outcome.estimate) is None:
        return f"{outcome.label}: observed by month (no model estimate)."
    return (
        f"{outcome.label}, observed and expected without the scheme. After "
        f"{fmt.month(result.start)}: {fmt.change_with_interval(outcome, level)}."
    )


def _diagnostics(
    diagnostics: Diagnostics | None, scale: str, plotted: bool = False
) -> list[dict[str, str]]:
    # Every check is listed even when results.json has no value for it: a silently missing
    # row reads as "nothing to worry about".
    if diagnostics is None:
        return []
    missing = "not recorded in results.json"
    dispersion = fmt.finite(diagnostics.dispersion)
    if dispersion is None:
        meaning = missing
    elif scale != "ratio":
        meaning = "residual variance (Pearson χ² / residual df)"
    elif dispersion > 1.5:
        meaning = "counts vary more than a Poisson model assumes; intervals must allow for it"
    else:
        meaning = "counts vary about as much as a Poisson model assumes"
    rows = [{"name": "Dispersion", "value": _fixed(dispersion), "meaning": meaning}]

    # The p-value is shown as a number and read on a continuum, never turned into "correlated"
    # or "not" at a cut-off: 0.050 and 0.052 are the same evidence. The plots below show it.
    ljung = fmt.finite(diagnostics.ljung_box_p)
    lags = f" ({diagnostics.ljung_box_lags} lags)" if diagnostics.ljung_box_lags else ""
    meaning = (
        missing
        if ljung is None
        else "test of correlation between the residuals of nearby months: the smaller the "
        "p-value, the stronger the evidence of correlation"
        + (
            " (see the autocorrelation plot below)"
            if plotted
            else " (no residual plot is shown for this outcome)"
        )
    )
    rows.append({"name": f"Ljung–Box p{lags}", "value": fmt.p_value(ljung), "meaning": meaning})

    durbin = fmt.finite(diagnostics.durbin_watson)
    if durbin is None:
        meaning = missing
    elif durbin < 1.5:
        meaning = "below 2: positive autocorrelation between consecutive months"
    elif durbin > 2.5:
        meaning = "above 2: negative autocorrelation between consecutive months"
    else:
        meaning = "close to 2: little autocorrelation between consecutive months"
    rows.append({"name": "Durbin–Watson", "value": _fixed(durbin), "meaning": meaning})
    rows.append(
        {
            "name": "Months",
            "value": (
                f"{diagnostics.n_pre} before, {diagnostics.n_post} after, "
                f"{diagnostics.n_washout} washout"
            ),
            "meaning": "Cochrane EPOC asks for at least 3 before and 3 after; washout months "
            "are not fitted",
        }
    )
    return rows


def _fixed(value: float | None) -> str:
    return fmt.MISSING if value is None else f"{value:.2f}"
