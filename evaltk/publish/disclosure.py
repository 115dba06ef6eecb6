"""Statistical disclosure control of everything the book publishes from observed data.

The book is about people in mental-health crisis: no page, figure or download may let anyone
be identified. The rules (NHS practice; the protocol's ``disclosure`` block, recorded in
results.json):

* **One rule** (:mod:`evaltk.publish.count_rule`, NHS England's): an observed count from 1 to
  ``threshold - 1`` (default 1-4) is not published (``null`` in JSON, empty in CSV,
  "suppressed" on a page), 0 is published as 0, and every other count is rounded to the
  nearest ``round_to`` (5 when the protocol names none). Shares are computed from the rounded
  counts.
* **No recovery by differences** (:mod:`evaltk.publish.differencing`): every additive table
  published (rows read = rows used + each exclusion; rows in scope; each linkage table; the
  post-period months of an outcome against their total, which the counterfactual minus the
  events averted gives exactly) is solved for the range of each suppressed count; where one
  could be worked out exactly, another rounded count is withheld, and if none can be the build
  stops, naming the table.
* **Modelled quantities** (fitted values, counterfactuals, their intervals, estimates, p-values)
  are not suppressed: they are smooth functions of all the data, not counts of people.

Observed counts in the series are the ``observed`` column of outcomes whose aggregate is a
count, rate or share (modelled with the count as response and an offset), where the value is a
whole number. Means and sums (minutes) are not counts of people and are left as they are.

Comparison designs (did, event_study, staggered_did, cits):

* The figures that plot **observed** values, the CITS series (main figure) and the DiD group
  means (``groups``; the main figure of a did without an event study), are checked against
  ``results/figure_data.csv``, which ``evaltk run`` writes beside them (never published): each
  plotted point with the group's summed count for that month. A point whose count is from 1
  to ``threshold - 1`` is suppressed and the figure is redrawn from the protected table
  without it (:func:`redraw_comparison_figure`), as an ITS figure is from series.csv. A run
  without that file cannot be checked, so its observed figures of count outcomes are refused
  (:func:`check_comparison_figures`). No total is published beside these figures, so only
  primary suppression applies.
* Event-study plots, heat maps and ``effects.csv`` hold **model estimates only** (headline,
  event-time and ATT(g,t) estimates, intervals, p-values, standard errors and ``n_cells``, the
  number of ATT(g,t) cells aggregated), never an observed count, so they are not suppressed;
  the scan still reads ``effects.csv`` and fails on a small value in an ``observed`` or
  ``count`` column, should one ever be added.
* Synthetic control and synthetic DiD: the main figure plots the treated unit's observed
  series (checked as above, with its count by month) beside its synthetic unit (a weighted
  mix of donor forces: modelled, not a count). The placebo figure, the donor weights and the
  fit (RMSPE) are differences from or functions of weighted mixes of forces, modelled
  quantities like the estimates, and are not suppressed.
* The comparison pages (forces compared, start dates, inference, pre-trend tests) show no
  observed count. The pre-start baseline is an average over forces and months (like a mean
  measure, not a count of people) and is left unmarked.

:func:`protect` is the ``LoadedAnalysis -> LoadedAnalysis`` step that
:func:`evaltk.publish.pages.write_pages` applies before rendering; pages mark every observed
count with the ``evaltk-observed`` role, and :func:`scan_html` checks the built HTML for an
unsuppressed small one.
"""

from __future__ import annotations

import dataclasses
import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd

from evaltk.episodes.forces import force_name
from evaltk.errors import PublishError
from evaltk.estimators.figure_file import save_png
from evaltk.protocol.aggregates import AGGREGATES
from evaltk.publish.count_rule import publish_count, published_share, rule_of
from evaltk.publish.differencing import (
    IN_SCOPE,
    POST_TOTAL,
    QUALITY,
    ROWS_IN,
    ROWS_USED,
    SCOPE_REASONS,
    check_published,
    data_shape,
    excluded_name,
    publish_shape,
    series_shape,
)
from evaltk.publish.linkage import linkage_counts, protect_linkage
from evaltk.publish.load import LoadedAnalysis
from evaltk.results.schema import AnalysisResult, DataSummary, DisclosureSettings
from evaltk.verdict.axis_labels import result_y_label

OBSERVED_CLASS = "evaltk-observed"
SUPPRESSED_TEXT = "suppressed"
#: Aggregates whose numerator counts people or their incidents (protocol/aggregates.py).
COUNT_AGGREGATES = tuple(name for name, kind in AGGREGATES.items() if kind.about_people)
UNPUBLISHABLE = ("panel.csv", "figure_data.csv", "high_intensity.csv", "concentration.csv")


def settings_of(result: AnalysisResult) -> DisclosureSettings:
    """The result's disclosure settings (the default for results from before they existed)."""
    return result.disclosure or DisclosureSettings()


# --------------------------------------------------------------------------- the rule


# --------------------------------------------------------------------------- the data report


def protect_data(name: str, data: DataSummary, settings: DisclosureSettings) -> DataSummary:
    """The data report as published: every count by the rule, the excluded share from the
    published counts, with secondary suppression where a difference would give one back."""
    has_scope = data.in_scope is not None
    quality = sum((n or 0) for r, n in data.excluded.items() if r not in SCOPE_REASONS)
    shape = data_shape(
        data.rows_in,
        data.rows_used,
        data.excluded,
        data.in_scope,
        quality if has_scope else None,
        has_scope=has_scope,
    )
    shown = publish_shape(f"{name}: data report (rows read, used and excluded)", shape, settings)
    share = data.excluded_share
    if share is not None:
        share = published_share(shown.get(QUALITY), shown.get(IN_SCOPE))
    linkage = protect_linkage(data.linkage, settings, name)
    update: dict[str, Any] = {
        "rows_in": shown[ROWS_IN],
        "rows_used": shown[ROWS_USED],
        "excluded": {r: shown[excluded_name(r)] for r in data.excluded},
        "in_scope": shown.get(IN_SCOPE) if has_scope else None,
        "excluded_share": share,
        "linkage": linkage,
    }
    changed = any(getattr(data, k) != v for k, v in update.items())
    return data.model_copy(update={**update, "suppressed": changed})


def protect_result(result: AnalysisResult, series: pd.DataFrame | None = None) -> AnalysisResult:
    """A copy of ``result`` with every observed count published by the rule
    (:mod:`evaltk.publish.count_rule`) and no small count recoverable by differences.

    ``series`` (series.csv) decides whether an outcome's post-period observed total is small;
    without it, the total's own value does.
    """
    settings = settings_of(result)
    threshold, _ = rule_of(settings)
    new_data = protect_data(result.analysis, result.data, settings)
    outcomes = []
    for outcome in result.outcomes:
        cumulative = outcome.cumulative
        if (
            cumulative is not None
            and cumulative.observed is not None
            and (outcome.aggregate in COUNT_AGGREGATES)
        ):
            in_series = _post_total(series, outcome.outcome)
            total = cumulative.observed if in_series is None else in_series
            if 0 < total < threshold:
                # The events averted are the counterfactual minus this total: they go with it.
                cumulative = cumulative.model_copy(
                    update={"observed": None, "averted": None, "ci_low": None, "ci_high": None}
                )
            else:
                shown = publish_count(cumulative.observed, settings)
                cumulative = cumulative.model_copy(
                    update={"observed": None if shown is None else float(shown)}
                )
        outcomes.append(outcome.model_copy(update={"cumulative": cumulative}))
    return result.model_copy(update={"data": new_data, "outcomes": outcomes})


# --------------------------------------------------------------------------- the series


def _count_like(frame: pd.DataFrame) -> pd.Series:
    observed = pd.to_numeric(frame["observed"], errors="coerce")
    return observed.notna() & (observed == observed.round())


def _post_margin(part: pd.DataFrame) -> list[int]:
    post = part["post"].astype(str).str.lower().isin(("true", "1"))
    if "in_fit" in part:
        post &= part["in_fit"].astype(str).str.lower().isin(("true", "1"))
    return list(part.index[post])


def _post_total(series: pd.DataFrame | None, outcome: str) -> int | None:
    """The true post-period observed total of ``outcome`` in series.csv (its post months)."""
    if series is None or series.empty or "observed" not in series:
        return None
    part = series[series["outcome"] == outcome]
    part = part[_count_like(part)]
    margin = _post_margin(part)
    if not margin:
        return None
    return int(pd.to_numeric(part.loc[margin, "observed"]).sum())


def _total_known_exactly(result: AnalysisResult, outcome: str, total: int) -> bool:
    """Whether a reader can work out the post-period total exactly: from the counterfactual
    minus the events averted (published unless the total is small) or from a ledger line."""
    threshold, _ = rule_of(settings_of(result))
    in_ledger = result.ledger is not None and any(
        line.outcome == outcome for line in result.ledger.lines
    )
    match = next((o for o in result.outcomes if o.outcome == outcome), None)
    cumulative = match.cumulative if match is not None else None
    published = cumulative is not None and cumulative.unit != "not additive"
    return in_ledger or (published and not 0 < total < threshold)


def protect_series(series: pd.DataFrame, result: AnalysisResult) -> pd.DataFrame:
    """series.csv with every observed count by the rule (small months empty, the rest rounded),
    and post months withheld where the post-period total would give a small one back."""
    settings = settings_of(result)
    aggregates = {o.outcome: o.aggregate for o in result.outcomes}
    out = series.copy()
    if out.empty or "observed" not in out:
        return out
    values = pd.to_numeric(out["observed"], errors="coerce").astype(float)
    out["observed"] = values
    counted = out["outcome"].map(aggregates).isin(COUNT_AGGREGATES) & _count_like(out)
    shown = values.copy()
    shown[counted] = values[counted].map(lambda v: _as_float(publish_count(v, settings)))
    for outcome, part in out[counted].groupby("outcome", sort=False):
        margin = _post_margin(part)
        total = _post_total(series, str(outcome))
        if not margin or total is None or not _total_known_exactly(result, str(outcome), total):
            continue
        months = {str(i): int(values[i]) for i in margin}
        published = publish_shape(
            f"{result.analysis}: series.csv, post-period months of {outcome}",
            series_shape(months, total),
            settings,
            exact={POST_TOTAL: total},
        )
        for i in margin:
            if published[str(i)] is None:
                shown[i] = float("nan")
    out["observed"] = shown
    return out


def _as_float(value: int | None) -> float:
    return float("nan") if value is None else float(value)


def series_csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.10g")
    return buffer.getvalue()


# --------------------------------------------------------------------------- the step


@dataclass(frozen=True)
class Protected:
    """An analysis made safe to publish: its result, series and the outcomes to redraw."""

    analysis: LoadedAnalysis
    series: pd.DataFrame | None
    redraw: tuple[str, ...]  # outcomes whose figure shows a suppressed month
    # Comparison designs: the protected figure_data.csv, and the (outcome, kind) figures
    # ("main" or "groups") that show a suppressed point.
    figure_data: pd.DataFrame | None = None
    redraw_figures: tuple[tuple[str, str], ...] = ()


# --------------------------------------------------------------------------- comparison figures

#: Extra figure kinds of the comparison designs that plot observed values.
OBSERVED_FIGURE_KINDS = ("groups", "placebo")


def protect_figure_data(frame: pd.DataFrame, result: AnalysisResult) -> pd.DataFrame:
    """figure_data.csv with the points of a small count suppressed (``observed`` empty).

    A point's count is its ``count`` column (the group's summed count that month); where that
    is missing, the plotted value itself when it is a whole number. Outcomes that are not
    counts (means, sums of minutes) are left as they are.
    """
    settings = settings_of(result)
    aggregates = {o.outcome: o.aggregate for o in result.outcomes}
    out = frame.copy()
    if out.empty or "observed" not in out:
        return out
    out["observed"] = pd.to_numeric(out["observed"], errors="coerce").astype(float)
    count = (
        pd.to_numeric(out["count"], errors="coerce")
        if "count" in out
        else pd.Series(float("nan"), index=out.index)
    )
    count = count.where(count.notna(), out["observed"].where(_count_like(out)))
    counted = out["outcome"].astype(str).map(aggregates).isin(COUNT_AGGREGATES)
    small = counted & (count > 0) & (count < settings.threshold)
    whole = counted & ~small & _count_like(out) & (out["observed"] == count)
    out.loc[whole, "observed"] = out.loc[whole, "observed"].map(
        lambda v: _as_float(publish_count(v, settings))
    )
    out.loc[small, "observed"] = float("nan")
    return out.drop(columns=["count"], errors="ignore")


def observed_figures(result: AnalysisResult, outcome_id: str) -> list[str]:
    """The figure kinds of a comparison outcome that plot observed values."""
    outcome = next((o for o in result.outcomes if o.outcome == outcome_id), None)
    if outcome is None or result.design == "its":
        return []
    kinds: list[str] = [f.kind for f in outcome.figures if f.kind in OBSERVED_FIGURE_KINDS]
    if outcome.figure and (
        result.design in ("cits", "synthetic_control", "synthetic_did")
        or (result.design == "did" and not outcome.event_time)
    ):
        kinds.insert(0, "main")
    return kinds


def check_comparison_figures(analysis: LoadedAnalysis) -> None:
    """Refuse a comparison run whose observed figures of count outcomes cannot be checked
    (no ``results/figure_data.csv``: a run by an older evaltk)."""
    result = analysis.result
    if result.design == "its" or analysis.figure_data is not None:
        return
    for outcome in result.outcomes:
        if outcome.aggregate in COUNT_AGGREGATES and observed_figures(result, outcome.outcome):
            raise PublishError(
                f"{analysis.name}: results/figure_data.csv is missing, so the figures of "
                f"{outcome.outcome!r} that plot observed counts cannot be checked for small "
                f"counts (disclosure control); re-run `{analysis.run_command}`"
            )


def protect(analysis: LoadedAnalysis) -> Protected:
    """Apply disclosure control to one analysis before any page is rendered."""
    series = None
    redraw: tuple[str, ...] = ()
    if analysis.series is not None:
        raw = pd.read_csv(analysis.series)
        series = protect_series(raw, analysis.result)
        if "observed" in raw and not raw.empty:
            before = pd.to_numeric(raw["observed"], errors="coerce")
            lost = before.notna() & series["observed"].isna()
            redraw = tuple(dict.fromkeys(str(o) for o in raw.loc[lost, "outcome"]))
        result = protect_result(analysis.result, raw)
    else:
        result = protect_result(analysis.result)
    check_comparison_figures(analysis)
    figure_data = None
    redraw_figures: tuple[tuple[str, str], ...] = ()
    if analysis.figure_data is not None:
        try:
            raw = pd.read_csv(analysis.figure_data)
        except pd.errors.EmptyDataError:  # no figure plots observed values
            raw = pd.DataFrame(columns=["outcome", "figure", "observed"])
        figure_data = protect_figure_data(raw, analysis.result)
        if "observed" in raw and not raw.empty:
            before = pd.to_numeric(raw["observed"], errors="coerce")
            lost = before.notna() & figure_data["observed"].isna()
            redraw_figures = tuple(
                dict.fromkeys(
                    (str(o), str(k))
                    for o, k in zip(raw.loc[lost, "outcome"], raw.loc[lost, "figure"], strict=True)
                )
            )
    return Protected(
        dataclasses.replace(analysis, result=result),
        series,
        redraw,
        figure_data,
        redraw_figures,
    )


def results_json(result: AnalysisResult) -> str:
    return result.to_json()


# --------------------------------------------------------------------------- figures


def redraw_figure(series: pd.DataFrame, outcome: str, result: AnalysisResult, path: Path) -> None:
    """Draw an outcome's figure from the protected series: suppressed months are not plotted
    (a mark on the axis shows where they are)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    part = series[series["outcome"] == outcome].copy()
    part["period"] = pd.to_datetime(part["period"])
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    if {"cf_low", "cf_high"} <= set(part):
        post = part[part["post"].astype(str).str.lower().isin(("true", "1"))]
        ax.fill_between(post["period"], post["cf_low"], post["cf_high"], color="C1", alpha=0.2)
    shown = part[part["observed"].notna()]
    ax.plot(shown["period"], shown["observed"], "o", ms=3.5, color="0.25", label="observed")
    _mark_suppressed(ax, part[part["observed"].isna()], result)
    if "fitted" in part:
        ax.plot(part["period"], part["fitted"], "-", color="C0", lw=1.6, label="fitted")
    if "counterfactual" in part:
        post = part[part["post"].astype(str).str.lower().isin(("true", "1"))]
        ax.plot(post["period"], post["counterfactual"], "--", color="C1", label="counterfactual")
    ax.axvline(pd.Timestamp(result.start), color="0.4", lw=1)  # type: ignore[arg-type]
    ax.set_title(next((o.label for o in result.outcomes if o.outcome == outcome), outcome))
    _label_axes(ax, result, outcome, "main")
    ax.legend(loc="best", fontsize=8)
    _stamp_and_save(fig, path, result, outcome)


def redraw_comparison_figure(
    data: pd.DataFrame, outcome: str, kind: str, result: AnalysisResult, path: Path
) -> None:
    """Draw a comparison design's observed figure (the CITS series or the DiD group means) from
    the protected figure_data.csv: suppressed points are not plotted (a mark on the axis
    shows where they are)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    part = data[(data["outcome"].astype(str) == outcome) & (data["figure"] == kind)].copy()
    part["period"] = pd.to_datetime(part["period"])
    part = part.sort_values("period")
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    if kind == "placebo":
        _placebo_gaps(ax, part, result)
        ax.set_title(next((o.label for o in result.outcomes if o.outcome == outcome), outcome))
        _label_axes(ax, result, outcome, kind)
        _stamp_and_save(fig, path, result, outcome)
        return
    cits = "fitted" in part and part["fitted"].notna().any()
    for i, group in enumerate(("treated", "comparison", "synthetic")):
        rows = part[part["group"] == group]
        if rows.empty:
            continue
        color = ("C0", "C2", "C1")[i]
        if cits:
            shown = rows[rows["observed"].notna()]
            ax.plot(shown["period"], shown["observed"], "o", ms=3, color=color, label=group)
            ax.plot(rows["period"], rows["fitted"], "-", color=color, lw=1.4)
        else:  # group means: a line, broken where a month is suppressed
            ax.plot(rows["period"], rows["observed"], "-", color=color, lw=1.4, label=group)
    _mark_suppressed(ax, part[part["observed"].isna()], result)
    if cits and "counterfactual" in part:
        post = part[
            (part["group"] == "treated") & part["post"].astype(str).str.lower().isin(("true", "1"))
        ]
        ax.plot(
            post["period"],
            post["counterfactual"],
            "--",
            color="C1",
            lw=1.4,
            label="treated without the intervention",
        )
    starts = sorted({s for s in result.starts.values() if s}) or [result.start]
    for start in starts:
        ax.axvline(pd.Timestamp(start), color="0.4", lw=1, ls=":")  # type: ignore[arg-type]
    ax.set_title(next((o.label for o in result.outcomes if o.outcome == outcome), outcome))
    _label_axes(ax, result, outcome, kind)
    ax.legend(loc="best", fontsize=8, frameon=False)
    _stamp_and_save(fig, path, result, outcome)


def _placebo_gaps(ax: Any, part: pd.DataFrame, result: AnalysisResult) -> None:
    """A synthetic design's placebo figure: each donor's gap in grey, the treated unit's in
    black, broken where its month is suppressed."""
    placebos = part[part["group"] == "placebo"]
    for i, (_, rows) in enumerate(placebos.groupby("unit", sort=True)):
        label = "placebos (donors)" if i == 0 else None
        ax.plot(rows["period"], rows["observed"], "-", color="0.75", lw=0.8, label=label)
    treated = part[part["group"] == "treated"]
    code = str(treated["unit"].iloc[0]) if "unit" in treated and len(treated) else "treated"
    name = "+".join(force_name(unit) for unit in code.split("+"))
    ax.plot(treated["period"], treated["observed"], "-", color="black", lw=1.8, label=name)
    _mark_suppressed(ax, treated[treated["observed"].isna()], result)
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.axvline(pd.Timestamp(result.start), color="0.4", lw=0.8, ls=":")
    ax.legend(loc="best", fontsize=8, frameon=False)


def _label_axes(ax: Any, result: AnalysisResult, outcome: str, kind: str) -> None:
    """The same axis labels as the figure the run drew (evaltk.verdict.axis_labels)."""
    ax.set_xlabel("month")
    found = next((o for o in result.outcomes if o.outcome == outcome), None)
    label = result_y_label(found, kind) if found is not None else None
    if label is not None:
        ax.set_ylabel(label)


def _mark_suppressed(ax: Any, gone: pd.DataFrame, result: AnalysisResult) -> None:
    """Crosses on the time axis where a month's observed value was suppressed."""
    if len(gone):
        ax.plot(
            gone["period"],
            [0] * len(gone),
            "x",
            color="0.5",
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            label=f"suppressed (count 1-{settings_of(result).threshold - 1})",
        )


def _stamp_and_save(fig: Any, path: Path, result: AnalysisResult, outcome: str) -> None:
    """Keep the run's exploratory stamp on a redrawn figure, then write and close it."""
    import matplotlib.pyplot as plt

    from evaltk.registration.stamp import EXPLORATORY_OUTCOME, EXPLORATORY_RUN, stamp_figure

    registration = result.registration
    if registration.status != "registered":
        stamp_figure(fig, EXPLORATORY_RUN)
    elif outcome in registration.exploratory_outcomes:
        stamp_figure(fig, EXPLORATORY_OUTCOME)
    save_png(fig, path, metadata={"Software": None}, tight=True)
    plt.close(fig)


# --------------------------------------------------------------------------- page markup


def observed(value: float | None, *, digits: int = 0) -> str:
    """MyST for one observed count in a page: marked for :func:`scan_html`."""
    text = SUPPRESSED_TEXT if value is None else f"{value:,.{digits}f}"
    return f"{{{OBSERVED_CLASS}}}`{text}`"


ROLE_DIRECTIVE = f"```{{eval-rst}}\n.. role:: {OBSERVED_CLASS}\n```\n"


# --------------------------------------------------------------------------- the scan


class _Observed(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.text: list[str] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.depth:
            self.depth += 1
        elif OBSERVED_CLASS in classes:
            self.depth = 1
            self.text = []

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1
            if self.depth == 0:
                self.found.append("".join(self.text).strip())

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)


_NUMBER = re.compile(r"^-?\d[\d,]*(\.\d+)?$")


def small_counts_in_html(html: str, threshold: int) -> list[str]:
    """The marked observed counts in ``html`` that are from 1 to ``threshold - 1``."""
    parser = _Observed()
    parser.feed(html)
    bad = []
    for text in parser.found:
        if _NUMBER.match(text):
            value = float(text.replace(",", ""))
            if 0 < value < threshold:
                bad.append(text)
    return bad


def small_counts_in_downloads(folder: Path, threshold: int) -> list[str]:
    """Small observed counts in the published series.csv / results.json / effects.csv under
    ``folder``, and any unpublishable file there."""
    problems = []
    for path in sorted(folder.rglob("results.json")):
        try:
            result = AnalysisResult.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        data = result.data
        for name, value in [
            ("data.rows_in", data.rows_in),
            ("data.rows_used", data.rows_used),
            ("data.in_scope", data.in_scope),
            *((f"data.excluded[{r}]", n) for r, n in data.excluded.items()),
            *((f"data.{name}", n) for name, n in linkage_counts(data.linkage)),
            *(
                (f"outcomes[{o.outcome}].cumulative.observed", o.cumulative.observed)
                for o in result.outcomes
                if o.cumulative is not None and o.aggregate in COUNT_AGGREGATES
            ),
        ]:
            if value is not None and 0 < value < threshold:
                problems.append(f"{path}: {name} = {value}")
            elif value and value % rule_of(result.disclosure)[1]:
                base = rule_of(result.disclosure)[1]
                problems.append(f"{path}: {name} = {value:g} is not rounded to {base}")
    for path in sorted(folder.rglob("series.csv")):
        result_path = path.parent / "results.json"
        if not result_path.is_file():
            continue
        result = AnalysisResult.model_validate_json(result_path.read_text(encoding="utf-8"))
        aggregates = {o.outcome: o.aggregate for o in result.outcomes}
        frame = pd.read_csv(path)
        if frame.empty or "observed" not in frame:
            continue
        counted = frame["outcome"].map(aggregates).isin(COUNT_AGGREGATES)
        values = pd.to_numeric(frame["observed"], errors="coerce")
        small = counted & (values > 0) & (values < threshold)
        for i in frame.index[small][:3]:
            problems.append(f"{path}: observed {values[i]:g} for {frame.at[i, 'outcome']!s}")
    # Never published: the unit x month panel and the figures' observed values hold small
    # counts by design.
    for name in UNPUBLISHABLE:
        for path in sorted(folder.rglob(name)):
            problems.append(f"{path}: {name} holds unprotected observed counts")
    # The journeys' pathway table (evaltk.publish.demand): every count by the rule.
    for path in sorted(folder.rglob("pathways.csv")):
        result_path = path.parent / "results.json"
        settings = (
            AnalysisResult.model_validate_json(result_path.read_text(encoding="utf-8")).disclosure
            if result_path.is_file()
            else None
        )
        frame = pd.read_csv(path)
        for column in ("incidents", "people"):
            if column not in frame:
                continue
            values = pd.to_numeric(frame[column], errors="coerce")
            bad = ((values > 0) & (values < threshold)) | (values % rule_of(settings)[1] != 0)
            for i in frame.index[bad & values.notna()][:3]:
                problems.append(f"{path}: {column} {values[i]:g} is not suppressed or rounded")
    # effects.csv holds model estimates only (module docstring); should one ever carry an
    # observed or count column, its small values are caught here.
    for path in sorted(folder.rglob("effects.csv")):
        frame = pd.read_csv(path)
        for column in ("observed", "count"):
            if column not in frame:
                continue
            values = pd.to_numeric(frame[column], errors="coerce")
            for i in frame.index[(values > 0) & (values < threshold)][:3]:
                problems.append(f"{path}: {column} {values[i]:g}")
    return problems


def scan_book(html_dir: Path, threshold: int = 5) -> None:
    """Fail if the built book shows an unsuppressed small observed count anywhere.

    Reads every HTML page (cells marked ``evaltk-observed``) and every published
    ``results.json``, ``series.csv`` and ``effects.csv`` under ``html_dir``, and fails if a
    ``panel.csv`` or ``figure_data.csv`` (never published) is there, if a published count is
    not rounded by the rule, or if a small count can be worked out by differences of the
    published totals (:func:`evaltk.publish.differencing.check_published`).

    Raises
    ------
    PublishError
        Naming the first page or file and the value.
    """
    for page in sorted(html_dir.rglob("*.html")):
        bad = small_counts_in_html(page.read_text(encoding="utf-8", errors="replace"), threshold)
        if bad:
            raise PublishError(
                f"{page}: disclosure check failed: an observed count of {bad[0]} is published "
                f"(counts from 1 to {threshold - 1} must be suppressed); the page was not "
                "protected by evaltk.publish.disclosure, so do not publish this build"
            )
    problems = small_counts_in_downloads(html_dir, threshold)
    if problems:
        raise PublishError(
            f"disclosure check failed: {problems[0]} (counts from 1 to {threshold - 1} must be "
            "suppressed, the rest rounded); do not publish this build"
        )
    check_published(html_dir)
