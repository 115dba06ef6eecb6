"""The book's validation chapter and the methods page's verdict-calibration fragment.

Rendered from records only: building the book fits no model and reads no reference data.

- **Published results reproduced.** Every ``book_dir/validation/reference-*.json`` record
  (:class:`evaltk.validation.record.ReferenceRecord`, written by
  ``bench/validation_checks.py --check reference`` from the rows the reference tests assert
  on) is printed as evaltk | published | difference | tolerance | within, with its source,
  its data files' SHA-256 and the command that regenerates it.
- **Simulation checks.** Every other ``book_dir/validation/*.json`` record
  (:class:`evaltk.validation.record.CheckRecord`, written by a script such as
  ``bench/validation_checks.py``) is rendered generically: its tables, its requirements met or
  not, the command that regenerates it and when it was generated.
- ``_fragments/verdict-calibration.md``: the verdict-calibration record
  (``validation/verdict_calibration.json``) for ``methods.md`` to ``{include}``; without the
  file it says the calibration has not been run.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaltk.publish import format as fmt
from evaltk.publish.escape import Markup, code
from evaltk.publish.generated import MD_MARKER, check_replaceable
from evaltk.publish.render import render
from evaltk.validation.record import (
    CheckRecord,
    Figure,
    ReferenceRecord,
    load_records,
    load_reference_records,
)

PAGE = "validation"
RECORDS_DIR = "validation"
FRAGMENTS_DIR = "_fragments"
CALIBRATION = "verdict_calibration"
#: Shown on its own page (evaltk/publish/claims.py), not among the simulation checks here.
CLAIMS_RECORD = "published_claims"
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
    """evaltk minus reference, signed, in scientific notation below 0.01 (so that at least
    three significant digits show)."""
    value = fmt.finite(value)
    if value is None:
        return fmt.MISSING
    if value == 0:
        return "0"
    return f"{value:+.2e}" if abs(value) < 1e-2 else f"{value:+.4f}"


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
    within: Markup


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
    data: list[tuple[str, Markup]]
    command: Markup
    generated: str
    evaltk_version: str


def row(f: Figure) -> Row:
    """One checked figure with every number formatted for the page."""
    return Row(
        quantity=f.quantity,
        evaltk=ours(f.evaltk, f.decimals),
        reference=figure(f.reference, f.decimals),
        difference=difference(f.difference),
        tolerance=tolerance(f.tolerance),
        within=Markup("yes" if f.within else "**no**"),
    )


def sections(figures: list[Figure]) -> list[tuple[str, list[Group]]]:
    """The figures by section heading, then by group heading, each in first-seen order."""
    by_section: dict[str, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for f in figures:
        by_section[f.section][f.group].append(row(f))
    return [
        (heading, [Group(group, rows) for group, rows in groups.items()])
        for heading, groups in by_section.items()
    ]


def study_view(name: str, record: ReferenceRecord) -> Study:
    """A reference record with every number formatted for the page."""
    return Study(
        key=name,
        title=record.title,
        source=record.source,
        reference_label=record.reference_label,
        tolerance_text=record.tolerance_text,
        sections=sections(record.figures),
        n_rows=len(record.figures),
        n_within=record.n_within,
        data=[(d.name, code(d.sha256)) for d in record.data],
        command=code(record.command),
        generated=generated_text(record.generated),
        evaltk_version=record.evaltk_version,
    )


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
        generated=generated_text(record.generated),
        evaltk_version=record.evaltk_version,
        all_met=record.all_met,
    )


def generated_text(stamp: str) -> str:
    """A record's time stamp for people: ``2026-01-31T12:00:00Z`` -> ``2026-01-31 12:00 UTC``."""
    return stamp.replace("T", " ")[:16] + " UTC"


# -- pages -------------------------------------------------------------------------------------
def validation_context(book_dir: Path) -> dict[str, Any]:
    """Everything the validation page shows, from the records in ``book_dir/validation``."""
    folder = book_dir / RECORDS_DIR
    studies = load_reference_records(folder)
    records = {k: r for k, r in load_records(folder).items() if k != CLAIMS_RECORD}
    return {
        "studies": [study_view(name, record) for name, record in studies.items()],
        "records": [record_view(name, record) for name, record in records.items()],
        "records_dir": f"book/{RECORDS_DIR}",
    }


def render_validation(book_dir: Path) -> str:
    return render("validation.md.j2", v=validation_context(book_dir))


def render_calibration_fragment(book_dir: Path) -> str:
    """The verdict-calibration record for the methods page, or a note that it was not run."""
    path = book_dir / RECORDS_DIR / f"{CALIBRATION}.json"
    records = load_records(book_dir / RECORDS_DIR) if path.is_file() else {}
    view = record_view(CALIBRATION, records[CALIBRATION]) if CALIBRATION in records else None
    return render(
        "calibration_fragment.md.j2", r=view, path=code(f"{RECORDS_DIR}/{CALIBRATION}.json")
    )


def write_validation_pages(book_dir: Path) -> list[Path]:
    """Write ``validation.md`` and the methods fragment (never over hand-written files)."""
    page = book_dir / f"{PAGE}.md"
    fragment = book_dir / CALIBRATION_FRAGMENT
    for path in (page, fragment):
        check_replaceable(path, MD_MARKER)
    fragment.parent.mkdir(exist_ok=True)
    fragment.write_text(render_calibration_fragment(book_dir), encoding="utf-8")
    page.write_text(render_validation(book_dir), encoding="utf-8")
    return [page, fragment]
