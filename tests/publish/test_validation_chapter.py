"""The validation chapter, the methods page's calibration fragment and the protocol reference.

The chapter's reference figures must be the figures of the committed records
(``book/validation/reference-*.json``; that they are the figures the reference computation
returns is tests/validation/test_reference_records.py), parsed back from the generated page;
without the records the page must say so, show no number and print no local path.
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
from pathlib import Path

import pytest

from evaltk.errors import PublishError
from evaltk.protocol.schema import protocol_schema
from evaltk.publish import build_book
from evaltk.publish.load import load_analyses
from evaltk.publish.pages import write_pages
from evaltk.publish.protocol_reference import render_protocol_reference, schema_fields
from evaltk.publish.validation import CALIBRATION_FRAGMENT, cell, ours
from evaltk.validation.record import load_record, load_reference_records

from .conftest import BOOK_SOURCES, HANDWRITTEN, make_result, write_analysis

RECORDS = BOOK_SOURCES / "validation"
CONFUSION = {
    "title": "Verdict calibration (test placeholder)",
    "command": "python make_it.py --seeds 100",
    "generated": "2026-01-31T12:00:00Z",
    "evaltk_version": "0.1.0",
    "description": "Four scenarios, 100 seeds each.",
    "tables": [
        {
            "caption": "Confusion matrix: share of datasets by true scenario and verdict",
            "columns": ["true scenario", "Resolves", "Displaces", "Inconclusive"],
            "rows": [
                ["resolves", 0.93, 0.01, 0.06],
                ["displaces", 0.02, 0.917, 0.063],
            ],
        }
    ],
    "requirements": [
        {
            "claim": "Displaces declared Resolves",
            "value": 0.02,
            "bound": "at most 0.05",
            "met": True,
        },
        {
            "claim": "Verdict matches truth, resolves",
            "value": 0.93,
            "bound": "at least 0.9",
            "met": True,
        },
    ],
}


def _unescape(cell: str) -> str:
    return re.sub(r"\\(.)", r"\1", cell.strip())


def _comparison_rows(page: str) -> list[list[str]]:
    """Every row of the page's six-column comparison tables, cells unescaped."""
    section = page.split("## Published results reproduced")[1].split("## Simulation checks")[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith("| Figure |"):
            continue
        cells = [_unescape(c) for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        assert len(cells) == 6, line
        rows.append(cells)
    return rows


def _book(root: Path, *, records: bool = True) -> tuple[Path, Path]:
    analyses = root / "analyses"
    write_analysis(analyses / "example-street-triage", make_result())
    book = root / "book"
    book.mkdir()
    for name in HANDWRITTEN:
        shutil.copyfile(BOOK_SOURCES / name, book / name)
    if records:
        shutil.copytree(RECORDS, book / "validation")
        (book / "validation" / "verdict_calibration.json").write_text(json.dumps(CONFUSION))
    return analyses, book


# -- reference comparisons -------------------------------------------------------------------
def test_chapter_figures_equal_the_records(tmp_path: Path) -> None:
    analyses, book = _book(tmp_path)
    write_pages(load_analyses(analyses), book)
    rows = _comparison_rows((book / "validation.md").read_text(encoding="utf-8"))
    records = load_reference_records(RECORDS)
    assert list(records) == ["reference-bernal2017", "reference-mpdta", "reference-prop99"]
    expected = [f for record in records.values() for f in record.figures]
    assert len(rows) == len(expected) == 19 + 248 + 12
    for cells, f in zip(rows, expected, strict=True):
        quantity, evaltk, published, difference, tolerance, within = cells
        assert quantity == f.quantity
        assert evaltk == ours(f.evaltk, f.decimals)
        # The printed figure is the recorded one, to the digits printed.
        digits = f.decimals + 3 if f.decimals is not None else 10
        assert f.evaltk is not None and f.reference is not None and f.difference is not None
        assert float(evaltk) == pytest.approx(f.evaltk, rel=10.0 ** (1 - digits), abs=10.0**-digits)
        assert float(published) == pytest.approx(f.reference, rel=1e-9, abs=1e-12)
        assert float(difference) == pytest.approx(f.difference, rel=1e-2, abs=1e-20)
        assert float(tolerance) == pytest.approx(f.tolerance, rel=1e-1)
        assert within == "yes"
    # Bernal 2017 against the published figures themselves (Int J Epidemiol 2017, model 1-4).
    bernal = {(r[0], r[2]) for r in rows[:19]}
    assert rows[0][:3] == ["rate ratio of the ban", "0.894377", "0.894"]
    assert {("rate ratio of the ban", "0.885"), ("rate ratio of the ban", "0.876")} <= bernal
    assert ("dispersion (Pearson χ² / df)", "3.559") in bernal
    assert ("slope change, rate ratio per month", "1.0015") in bernal
    wald = next(r for r in rows if r[0] == "Wald statistic W")
    assert wald[2] == "7.791" and wald[1].startswith("7.791")
    page = (book / "validation.md").read_text(encoding="utf-8")
    assert "### Interrupted time series: Bernal, Cummins & Gasparrini (2017)" in page
    assert "Int J Epidemiol 2017;46(1):348-355" in page
    assert "**19 of 19 figures are within tolerance.**" in page
    assert "**248 of 248 figures are within tolerance.**" in page
    assert "**12 of 12 figures are within tolerance.**" in page
    assert ("synthetic DiD: average effect 1989-2000", "-15.6038") in {(r[0], r[2]) for r in rows}
    sicily = records["reference-bernal2017"].data[0]
    assert f"sicily.csv (SHA-256 `{sicily.sha256}`)" in page
    assert "regenerate with `OPENBLAS_NUM_THREADS=1 .venv/bin/python " in page
    assert "bench/validation_checks.py --check reference`" in page


def test_missing_records_are_said_plainly_with_no_numbers_or_paths(tmp_path: Path) -> None:
    analyses, book = _book(tmp_path, records=False)
    write_pages(load_analyses(analyses), book)
    page = (book / "validation.md").read_text(encoding="utf-8")
    section = page.split("## Published results reproduced")[1].split("## Simulation checks")[0]
    assert "**Not shown in this build: no reference-comparison records were found**" in section
    assert "bench/validation_checks.py --check reference" in section
    assert "| Figure |" not in section
    assert not re.search(r"\d\.\d", section), "a number appeared without the records"
    assert "No simulation-check records were found" in page
    assert str(tmp_path) not in page and "/work/" not in page


def test_no_generated_page_prints_a_local_path(tmp_path: Path) -> None:
    analyses, book = _book(tmp_path)
    written = write_pages(load_analyses(analyses), book)
    project = str(Path(__file__).resolve().parents[2])
    for page in written:
        text = page.read_text(encoding="utf-8")
        for local in (str(tmp_path), project):
            assert local not in text, (page.name, local)


# -- simulation records ------------------------------------------------------------------------
def test_committed_records_are_valid_and_met() -> None:
    names = sorted(p.stem for p in RECORDS.glob("*.json"))
    checked = (
        "its_coverage",
        "staggered_coverage",
        "few_forces_size",
        "synthetic_size",
        "synthetic_did_size",
        "stepped_wedge_power",
    )
    assert set(checked) <= set(names)
    for name in checked:
        record = load_record(RECORDS / f"{name}.json")
        assert record.command.endswith(f"bench/validation_checks.py --check {name}")
        if name != "its_coverage":
            assert record.all_met, name
    # The ITS record's rule, as its description writes it: coverage within 0.95 ± 2 Monte
    # Carlo SE of its replicates, for every model-based arm (the first four rows); Newey-West
    # is held to its own looser bound. Each requirement is the rule applied to its row.
    its = load_record(RECORDS / "its_coverage.json")
    assert "within two Monte Carlo standard errors" in its.description
    rows = its.tables[0].rows
    assert len(its.requirements) == len(rows) == 5
    for requirement, row in zip(its.requirements[:4], rows[:4], strict=True):
        coverage, replicates = float(row[3]), int(row[2])  # type: ignore[arg-type]
        mc_se = math.sqrt(0.95 * 0.05 / replicates)
        assert requirement.value == coverage
        assert requirement.met == (abs(coverage - 0.95) <= 2 * mc_se), requirement
    assert its.requirements[4].met == (0.80 <= float(rows[4][3]) <= 0.99)  # type: ignore[arg-type]


def test_validation_chapter_marks_coverage_outside_two_mc_se_not_met(tmp_path: Path) -> None:
    analyses, book = _book(tmp_path)
    write_pages(load_analyses(analyses), book)
    page = (book / "validation.md").read_text(encoding="utf-8")
    its = page.split("### Interrupted time series: coverage of the 95 % interval")[1]
    its = its.split("\n### ")[0]
    record = load_record(RECORDS / "its_coverage.json")
    assert not record.all_met  # the committed record has arms outside 0.95 ± 2 MC SE
    assert "**Requirements** (not all met)" in its
    for requirement in record.requirements:
        met = "yes" if requirement.met else "**not met**"
        row = f"| {requirement.claim} | {cell(requirement.value)} | {requirement.bound} | {met} |"
        assert row in its, row


def test_records_render_tables_requirements_and_command(tmp_path: Path) -> None:
    analyses, book = _book(tmp_path)
    write_pages(load_analyses(analyses), book)
    page = (book / "validation.md").read_text(encoding="utf-8")
    sims = page.split("## Simulation checks")[1]
    record = load_record(RECORDS / "few_forces_size.json")
    assert f"### {record.title}" in sims
    five = record.tables[0].rows[1]  # cluster-robust CR1 with five forces
    assert f"| 5 forces | cluster-robust CR1 | 500 | {five[3]:g} |" in sims
    assert (
        "regenerate with `OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/validation_checks.py"
        in sims
    )
    assert "### Verdict calibration (test placeholder)" in sims
    assert "| resolves | 0.93 | 0.01 | 0.06 |" in sims


def test_a_malformed_record_names_file_and_field(tmp_path: Path) -> None:
    analyses, book = _book(tmp_path)
    bad = dict(CONFUSION, requirements=[{"claim": "x", "value": "high", "bound": "b", "met": True}])
    (book / "validation" / "verdict_calibration.json").write_text(json.dumps(bad))
    with pytest.raises(PublishError) as caught:
        write_pages(load_analyses(analyses), book)
    message = str(caught.value)
    assert "verdict_calibration.json: field requirements.0.value:" in message
    assert "\n" not in message


def test_a_hand_written_validation_page_is_not_overwritten(tmp_path: Path) -> None:
    analyses, book = _book(tmp_path)
    (book / "validation.md").write_text("# My own notes\n")
    with pytest.raises(PublishError, match=r"validation\.md: exists and was not generated"):
        write_pages(load_analyses(analyses), book)
    assert (book / "validation.md").read_text() == "# My own notes\n"


# -- methods fragment --------------------------------------------------------------------------
def test_methods_fragment_shows_the_confusion_matrix(tmp_path: Path) -> None:
    analyses, book = _book(tmp_path)
    write_pages(load_analyses(analyses), book)
    fragment = (book / CALIBRATION_FRAGMENT).read_text(encoding="utf-8")
    assert "**Confusion matrix: share of datasets by true scenario and verdict**" in fragment
    assert "| true scenario | Resolves | Displaces | Inconclusive |" in fragment
    assert "| displaces | 0.02 | 0.917 | 0.063 |" in fragment
    assert "| Displaces declared Resolves | 0.02 | at most 0.05 | yes |" in fragment
    assert "```{include} _fragments/verdict-calibration.md" in (book / "methods.md").read_text()


def test_methods_fragment_without_calibration_says_so(tmp_path: Path) -> None:
    analyses, book = _book(tmp_path, records=False)
    write_pages(load_analyses(analyses), book)
    fragment = (book / CALIBRATION_FRAGMENT).read_text(encoding="utf-8")
    assert "**The verdict calibration has not been run**" in fragment
    assert "| " not in fragment


# -- protocol reference ------------------------------------------------------------------------
def test_protocol_reference_lists_every_schema_field() -> None:
    page = render_protocol_reference()
    listed: set[tuple[str, str]] = set()
    block = ""
    for line in page.splitlines():
        heading = re.match(r"^## (?:The (\w+) block|(Top level))$", line)
        if heading:
            block = heading[1] or heading[2]
        field = re.match(r"^\| `(\w+)` \|", line)
        if field:
            listed.add((block, field[1]))
    assert listed == schema_fields(protocol_schema())
    assert len(listed) > 60
    # Type, default, allowed values and description of one field, as the schema says.
    assert (
        '| `multiplicity` | `string` | `"holm"` | one of `"holm"`, `"benjamini_hochberg"`, '
        '`"none"` |' in page
    )
    assert "| `threshold` | `integer` | `5` | ≥ 1 | Suppress observed counts from 1 to " in page


# -- the strict build ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    analyses, book = _book(tmp_path_factory.mktemp("validation-build"))
    return build_book(analyses, book, strict=True)


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"\s+", " ", page.read_text(encoding="utf-8")))


def test_strict_build_has_validation_methods_and_protocol_pages(built: Path) -> None:
    root = built.parent
    methods = _text(root / "methods.html")
    assert "Confusion matrix: share of datasets by true scenario and verdict" in methods
    assert "<td><p>displaces</p></td> <td><p>0.02</p></td> <td><p>0.917</p></td>" in methods
    validation = _text(root / "validation.html")
    assert "Difference-in-differences with few forces: false positives at 5 %" in validation
    assert "<td><p>rate ratio of the ban</p></td> <td><p>0.894377</p></td>" in validation
    reference = _text(root / "protocol-reference.html")
    assert "minimum_important_change" in reference
    assert 'href="#protocol-decision"' in reference


def test_protocol_reference_prose_shows_inline_code_not_backticks() -> None:
    from evaltk.publish.protocol_reference import prose

    text = str(prose("Run `evaltk link`, see :data:`FEW_CLUSTERS` and ``a | b``; <b>"))
    assert text == "Run `evaltk link`, see `FEW_CLUSTERS` and `a \\| b`; \\<b\\>"
