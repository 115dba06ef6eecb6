"""End to end on a force's SPSS extract with raw NHS numbers, alone and linked with three
agencies' extracts: no output file (results/, the link cache, the link table, the book's
sources, HTML and downloads) holds a raw identifier or the key, and the built book passes its
disclosure scan.

Both analyses are run once and published in one book (the module's fixture), as the book's
build is most of the cost and is the same work for one analysis or two; each test then
searches its analysis's outputs and the whole book.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from conftest import FORCE_DATA, KEY, ROOT, analysis, force_style, write_sav
from leak_scan import leaks

from evaltk.analysis.run import run_analysis
from evaltk.publish import build_book
from evaltk.results.schema import AnalysisResult
from evaltk.simulate.agencies import AgencyExtracts, agency_extracts

# One worker builds the shared book (make test runs --dist loadgroup).
pytestmark = pytest.mark.xdist_group("private-outputs")

AGENCIES = {
    "ambulance": {"path": "data/amb.csv", "person": "nhs_number", "time": "time"},
    "ae": {"path": "data/ae.parquet", "person": "nhs_number", "time": "time"},
    "admission": {"path": "data/adm.csv", "person": "nhs_number", "time": "time"},
}
WINDOWS = {"ambulance": [0, 6], "ae": [0, 12], "admission": [0, 72]}


@dataclass(frozen=True)
class Published:
    force: Path  # the analysis folder of the force's extract alone
    force_run: AnalysisResult
    linked: Path  # the analysis folder of the linked extracts
    linked_run: AnalysisResult
    made: AgencyExtracts  # the linked analysis's extracts, with raw NHS numbers
    links: Path  # the link table `evaltk link` wrote
    link_output: str
    book: Path  # the book source folder, HTML in _build


def _linked_analysis(folder: Path, simulated: Path, made: AgencyExtracts) -> Path:
    """Police SPSS, ambulance CSV (NHS numbers typed with spaces), A&E parquet and admissions
    CSV, all with raw NHS numbers."""
    linkage = {"agencies": {a: {**e, "window_hours": WINDOWS[a]} for a, e in AGENCIES.items()}}
    folder = analysis(folder, simulated, {**FORCE_DATA, "path": "data/e.sav", "linkage": linkage})
    write_sav(force_style(made.police), folder / "data" / "e.sav")
    made.agencies["ambulance"].to_csv(folder / "data" / "amb.csv", index=False)
    made.agencies["ae"].to_parquet(folder / "data" / "ae.parquet")
    made.agencies["admission"].to_csv(folder / "data" / "adm.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def published(tmp_path_factory, simulated, base) -> Published:
    """Both analyses run, the link table written, and one book built from the two."""
    from typer.testing import CliRunner

    from evaltk.cli import app

    root = tmp_path_factory.mktemp("private")
    analyses = root / "analyses"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EVALTK_LINK_KEY", KEY)
        force = analysis(analyses / "force", simulated, {**FORCE_DATA, "path": "data/e.sav"})
        write_sav(force_style(base), force / "data" / "e.sav")
        force_run = run_analysis(force, exploratory=True)
        made = agency_extracts(base, seed=1)
        linked = _linked_analysis(analyses / "linked", simulated, made)
        linked_run = run_analysis(linked, exploratory=True)
        links = root / "links.csv"
        cli = CliRunner().invoke(app, ["link", str(linked), "--out", str(links)])
        book = root / "book"
        book.mkdir()
        for name in ("_config.yml", "methods.md", "about-results.md"):
            shutil.copyfile(ROOT / "book" / name, book / name)
        # Raises if the built book fails its disclosure scan.
        index = build_book(analyses, book)
    assert cli.exit_code == 0, cli.output
    assert index.is_file()
    return Published(force, force_run, linked, linked_run, made, links, cli.output, book)


def _outputs(folder: Path, book: Path) -> list[Path]:
    """Every file an analysis's run wrote (results and cache) and every file of the book."""
    outputs = [p for p in (folder / "results").rglob("*") if p.is_file()]
    outputs += [p for p in book.rglob("*") if p.is_file()]
    outputs += [p for p in (folder / ".cache").rglob("*") if p.is_file()]
    return outputs


def test_no_identifier_or_key_in_any_output(published, base, tmp_path):
    folder = published.force
    data = published.force_run.data
    assert data.format == "sav" and data.identifiers == "raw" and not data.linkage
    identifiers = set(base["person_id"].astype(str))
    outputs = _outputs(folder, published.book)
    assert len(outputs) > 20
    # The search finds the identifiers where they are typed: the extract's values as CSV.
    force_style(base).to_csv(tmp_path / "extract.csv", index=False)
    assert len(leaks(tmp_path / "extract.csv", identifiers, KEY)) == len(identifiers)
    for path in outputs:
        found = leaks(path, identifiers, KEY)
        assert not found, f"{path} holds {found[:1]}"


def test_linked_run_leaks_no_identifier_or_key(published):
    """Linked: results, the link cache, the book and the link table `evaltk link` writes
    hold pseudonyms only."""
    folder, made = published.linked, published.made
    linkage = published.linked_run.data.linkage or []
    assert [r.agency for r in linkage] == ["ambulance", "ae", "admission"]
    pages = [p.read_text(encoding="utf-8") for p in (published.book / "_build").rglob("*.html")]
    # The linkage rates are in the data accounting section of the analysis's chapter.
    assert any("Records linked" in page and "A&amp;E attendances" in page for page in pages)

    numbers = set(made.police["person_id"].astype(str))
    for table in made.agencies.values():
        numbers |= set(table["nhs_number"].dropna().astype(str))
    numbers |= {n.replace(" ", "") for n in numbers}
    outputs = [*_outputs(folder, published.book), published.links]
    assert any(p.name.startswith("linked-") for p in outputs)
    assert len(pd.read_csv(published.links)) > 1000
    # The search finds the numbers in every input as typed there (spaced in amb.csv; parquet
    # by its values), so a clean output is clean, not unsearched.
    for name in ("amb.csv", "ae.parquet", "adm.csv"):
        assert leaks(folder / "data" / name, numbers, KEY), name
    for path in outputs:
        found = leaks(path, numbers, KEY)
        assert not found, f"{path} holds {found[:1]}"
