"""The book's page on what published before/after claims can support.

Rendered from one record only (``book/validation/published_claims.json``, written by
``bench/validation_checks.py --check published_claims`` through
:mod:`evaltk.validation.claims`): every figure on the page, the reproduced statistics and the
share of simulated forces in which each comparison declares a fall, is read from it. Without
the record the page says that the study has not been run. The citations and the scenarios'
wording come from :mod:`evaltk.validation.claims_record`, the same objects the study ran (that
module loads no estimator or simulator, as publish must not).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import evaltk.validation.claims_record as claims
from evaltk.publish.generated import MD_MARKER, check_replaceable
from evaltk.publish.render import render
from evaltk.publish.validation import CLAIMS_RECORD, RECORDS_DIR, RecordView, record_view
from evaltk.validation.record import load_records

PAGE = "published-claims"
RECORD = CLAIMS_RECORD


@dataclass(frozen=True)
class ScenarioView:
    """One scenario's finding in words: how often each comparison declared a fall."""

    name: str
    says: str
    forces: int
    naive: str
    registered: str
    true_change: bool


@dataclass(frozen=True)
class ReproductionView:
    """A published figure beside evaltk's, each to the decimals it was computed with."""

    place: str
    before: str
    after: str
    unit: str
    statistic: str
    published: str
    evaltk: str
    difference: str
    p_value: str


def _number(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}".replace("-", "\u2212")


def reproduction_views(rows: list[list[Any]]) -> list[ReproductionView]:
    """The record's first table (see :func:`evaltk.validation.claims.reproduction_table`),
    with the published figure printed as the paper printed it."""
    by_place = {claim.place: claim for claim in claims.CLAIMS}
    out = []
    for place, before, after, unit, statistic, published, ours, difference, p in rows:
        claim = by_place[place]
        # Counts as whole numbers, rates as published (one decimal).
        shown = 0 if float(before).is_integer() and float(after).is_integer() else 1
        out.append(
            ReproductionView(
                place=place,
                before=_number(before, shown),
                after=_number(after, shown),
                unit=unit,
                statistic=statistic,
                published=_number(published, claim.decimals),
                evaltk=_number(ours, 3),
                difference=_number(difference, 3),
                p_value="< 0.001" if p < 0.001 else f"{p:.3f}",
            )
        )
    return out


def _share(flags: list[bool]) -> str:
    return f"{100 * sum(flags) / len(flags):.0f} %"


def scenario_views(cells: dict[str, Any]) -> list[ScenarioView]:
    found = claims.read_replicates(cells)
    return [
        ScenarioView(
            name=s.name,
            says=s.says,
            forces=len(found[s.name]),
            naive=_share([r.claimed for r in found[s.name]]),
            registered=_share([r.its_claimed for r in found[s.name]]),
            true_change=s.effects is not None,
        )
        for s in claims.SCENARIOS
        if s.name in found
    ]


def claims_context(book_dir: Path) -> dict[str, Any]:
    records = load_records(book_dir / RECORDS_DIR)
    record = records.get(RECORD)
    view: RecordView | None = None
    reproduced: list[ReproductionView] = []
    if record is not None:
        # The reproductions get their own table with the papers' decimals; the study section
        # shows the rest of the record.
        full = record_view(RECORD, record)
        view = replace(full, tables=full.tables[1:])
        reproduced = reproduction_views(record.tables[0].rows)
    scenarios = scenario_views(record.replicates) if record else []
    displaced = None
    if record is not None and claims.DISPLACEMENT.name in record.replicates:
        rows = claims.read_replicates(record.replicates)[claims.DISPLACEMENT.name]
        displaced = _share([bool(r.ae_rise_found) for r in rows])
    return {
        "r": view,
        "reproduced": reproduced,
        "claims": claims.CLAIMS,
        "scenarios": scenarios,
        "displaced": displaced,
        "record_path": f"book/{RECORDS_DIR}/{RECORD}.json",
    }


def render_claims(book_dir: Path) -> str:
    return render("published_claims.md.j2", c=claims_context(book_dir))


def write_claims_page(book_dir: Path) -> Path:
    """Write ``published-claims.md`` (never over a hand-written file)."""
    page = book_dir / f"{PAGE}.md"
    check_replaceable(page, MD_MARKER)
    page.write_text(render_claims(book_dir), encoding="utf-8")
    return page
