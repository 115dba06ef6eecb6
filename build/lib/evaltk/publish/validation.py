"""The book's validation chapter and the methods page's verdict-calibration fragment.

Generated at build time, never typed:

- **Published results reproduced.** :mod:`evaltk.validation.bernal2017` and
  :mod:`evaltk.validation.mpdta` are run on the reference data (``../shared/reference`` beside
  the project, or ``$EVALTK_REFERENCE_DIR``); the rows the reference tests assert on are the
  rows printed here: evaltk | published | difference | tolerance. Without the reference folder
  the page says so and shows no numbers.
- **Simulation checks.** Every ``book_dir/validation/*.json`` record
  (:mod:`evaltk.validation.record`, written by a script such as
  ``bench/validation_checks.py``) is rendered generically: its tables, its requirements met or
  not, the command that regenerates it and when it was generated.
- ``_fragments/verdict-calibration.md``: the verdict-calibration record
  (``validation/verdict_calibration.json``) for ``methods.md`` to ``{include}``; without the
  file it says the calibration has not been run.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaltk.publish import format as fmt
from evaltk.publish.escape import Markup, code
from evaltk.validation.comparison import Comparison
from evaltk.validation.record import CheckRecord, load_records
from evaltk.validation.reference import ENV_VAR, ReferenceMissing, reference_dir

PAGE = "validation"
RECORDS_DIR = "validation"
FRAGMENTS_DIR = "_fragments"
CALIBRATION = "verdict_calibration"
CALIBRATION_FRAGMENT = f"{FRAGMENTS_DIR}/verdict-calibration.md"


# -- numbers -----------------------------------------------------------------------------------
# Reference figures need more digits than a commissioner's page: a published 0.894 is checked
# against evaltk's 0.89438, and R's ATT to 1e-6. Missing values go through fmt (an en dash).
def figure(value: float | None, decimals: int | None = None) -> str:
    """A reference figure: as published to ``decimals``, else ten significant digits."""
    value = fmt.finite(value)
    if value is None:
        return fmt.MISSING
    if decimals is not None:
        return f"{value:.{decimals}f}"
    return f"{value:.10g}"


def ours(value: float | None, decimals: int | None) -> str:
    """evaltk's figure: three decimals more than the published one, or ten significant digits."""
    return figure(value, None if decimals is None else decimals + 3)


def difference(value: float | None) -> str:
    """evaltk minus reference, signed, in scientific notation below 0.001."""
    value = fmt.finite(value)
    if value is None:
        return fmt.MISSING
    if value == 0:
        return "0"
    return f"{value:+.2e}" if abs(value) < 1e-3 else f"{value:+.4f}"


def tolerance(value: float) -> str:
    return f"{value:.2g}"


def cell(value: Any) -> str:
    """A cell of a simulation-check table: counts with separators, rates as fmt.number."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return fmt.MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return fmt.count(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 10:
            return fmt.count(int(value))  # a replicate count stored as a float
        return fmt.number(value)
    return str(value)


# -- reference comparisons ---------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    quantity: str
    evaltk: str
    reference: str
    difference: str
    tolerance: str
    within: str


@dataclass(frozen=True)
class Group:
    heading: str
    rows: list[Row]


@dataclass(frozen=True)
class Study:
    key: str
    title: str
    source: str
    reference_label: str
    tolerance_text: str
    sections: list[tuple[str, list[Group]]]
    n_rows: int
    n_within: int


def _row(c: Comparison) -> Row:
    return Row(
        quantity=c.quantity,
        evaltk=ours(c.evaltk, c.decimals),
        reference=figure(c.reference, c.decimals),
        difference=difference(c.difference),
        tolerance=tolerance(c.tolerance),
        within="yes" if c.within else "**no**",
    )


def _groups(rows: list[Comparison]) -> list[Group]:
    by_group: dict[str, list[Row]] = defaultdict(list)
    for c in rows:
        by_group[c.group].append(_row(c))
    return [Group(heading, group_rows) for heading, group_rows in by_group.items()]


def reference_comparisons(folder: Path | None = None) -> tuple[list[Comparison], list[Comparison]]:
    """The Bernal 2017 and the mpdta rows (raises ``ReferenceMissing`` without the data)."""
    from evaltk.validation import bernal2017, mpdta  # statsmodels and the estimators

    return bernal2017.comparisons(folder), mpdta.comparisons(folder)


def reference_studies(folder: Path | None = None) -> tuple[list[Study], float]:
    """The two reference studies for the page, and the seconds the computation took."""
    from evaltk.validation import mpdta

    began = time.perf_counter()
    bernal_rows, mpdta_rows = reference_comparisons(folder)
    seconds = time.perf_counter() - began
    bernal = Study(
        key="bernal",
        title="Interrupted time series: Bernal, Cummins & Gasparrini (2017)",
        source=(
            "Lopez Bernal J, Cummins S, Gasparrini A. Interrupted time series regression for "
            "the evaluation of public health interventions: a tutorial. Int J Epidemiol "
            "2017;46(1):348-355. Monthly acute coronary events in Sicily, 2002-2006 (59 "
            "months), smoking ban from January 2005, age-standardised population as offset. "
            "Published figures: the authors' R code (Epi::ci.lin, normal-quantile 95 % "
            "intervals)."
        ),
        reference_label="Published",
        tolerance_text=(
            "The paper prints rounded figures, so each must equal evaltk's rounded to the "
            "same decimals: the tolerance is half a unit in the last published decimal."
        ),
        sections=[("", _groups(bernal_rows))],
        n_rows=len(bernal_rows),
        n_within=sum(c.within for c in bernal_rows),
    )
    sections = []
    for scenario in mpdta.SCENARIOS:
        rows = [c for c in mpdta_rows if c.study == scenario]
        sections.append((f"{scenario}: {mpdta.SCENARIO_WORDS[scenario]}", _groups(rows)))
    staggered = Study(
        key="mpdta",
        title="Staggered adoption: Callaway & Sant'Anna (2021), mpdta, against R did",
        source=(
            "Callaway B, Sant'Anna PHC. Difference-in-differences with multiple time periods. "
            "J Econometrics 2021;225(2):200-230. County teen employment (log), 500 counties, "
            "2003-2007, the mpdta panel of the R package did. Reference values: R did::att_gt "
            "and did::aggte with analytical standard errors (bstrap = FALSE, cband = FALSE, "
            "base_period = varying) in four scenarios; the pre-trend Wald test and the headline "
            "figures as R prints them."
        ),
        reference_label="R did",
        tolerance_text=(
            "Every ATT(g,t) and aggregate within 1e-6 of R's, every standard error within "
            "1e-4 of R's relative to its size; figures R prints rounded (the Wald test, the "
            "headline figures) to half a unit in their last decimal. A cell or level that only "
            "one side has would show a dash and fail."
        ),
        sections=sections,
        n_rows=len(mpdta_rows),
        n_within=sum(c.within for c in mpdta_rows),
    )
    return [bernal, staggered], seconds


# -- simulation records ------------------------------------------------------------------------
@dataclass(frozen=True)
class TableView:
    caption: str
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class RequirementView:
    claim: str
    value: str
    bound: str
    met: Markup


@dataclass(frozen=True)
class RecordView:
    name: str
    title: str
    description: str
    tables: list[TableView]
    requirements: list[RequirementView]
    command: Markup
    generated: str
    evaltk_version: str
    all_met: bool


def record_view(name: str, record: CheckRecord) -> RecordView:
    """A record with every number formatted for the page."""
    return RecordView(
        name=name,
        title=record.title,
        description=record.description,
        tables=[
            TableView(t.caption, t.columns, [[cell(v) for v in row] for row in t.rows])
            for t in record.tables
        ],
        requirements=[
            RequirementView(
                r.claim, cell(r.value), r.bound, Markup("yes" if r.met else "**not met**")
            )
            for r in record.requirements
        ],
        command=code(record.command),
        generated=_generated(record.generated),
        evaltk_version=record.evaltk_version,
        all_met=record.all_met,
    )


def _generated(stamp: str) -> str:
    # "2026-01-31T12:00:00Z" -> "2026-01-31 12:00 UTC"
    return stamp.replace("T", " ")[:16] + " UTC"


# -- pages -------------------------------------------------------------------------------------
def validation_context(book_dir: Path) -> dict[str, Any]:
    """Everything the validation page shows (reference studies, or why there are none)."""
    folder = reference_dir()
    try:
        studies, _ = reference_studies(folder)
        missing = None
    except ReferenceMissing as error:
        studies, missing = [], str(error)
    records = load_records(book_dir / RECORDS_DIR)
    return {
        "studies": studies,
        "missing": missing,
        "folder": str(folder),
        "env_var": ENV_VAR,
        "records": [record_view(name, record) for name, record in records.items()],
        "records_dir": f"book/{RECORDS_DIR}",
    }


def render_validation(book_dir: Path) -> str:
    from evaltk.publish.pages import _render  # the book's one Jinja environment

    return _render("validation.md.j2", v=validation_context(book_dir))


def render_calibration_fragment(book_dir: Path) -> str:
    """The verdict-calibration record for the methods page, or a note that it was not run."""
    from evaltk.publish.pages import _render

    path = book_dir / RECORDS_DIR / f"{CALIBRATION}.json"
    records = load_records(book_dir / RECORDS_DIR) if path.is_file() else {}
    view = record_view(CALIBRATION, records[CALIBRATION]) if CALIBRATION in records else None
    return _render(
        "calibration_fragment.md.j2", r=view, path=code(f"{RECORDS_DIR}/{CALIBRATION}.json")
    )


def write_validation_pages(book_dir: Path) -> list[Path]:
    """Write ``validation.md`` and the methods fragment (never over hand-written files)."""
    from evaltk.publish.pages import MD_MARKER, _check_replaceable

    page = book_dir / f"{PAGE}.md"
    fragment = book_dir / CALIBRATION_FRAGMENT
    for path in (page, fragment):
        _check_replaceable(path, MD_MARKER)
    fragment.parent.mkdir(exist_ok=True)
    fragment.write_text(render_calibration_fragment(book_dir), encoding="utf-8")
    page.write_text(render_validation(book_dir), encoding="utf-8")
    return [page, fragment]
