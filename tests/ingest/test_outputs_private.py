"""End to end on a force's SPSS extract with raw NHS numbers: no output file (results/, the
book's sources, HTML and downloads) holds a raw identifier or the key, and the built book passes
its disclosure scan."""

from __future__ import annotations

import shutil

from conftest import FORCE_DATA, KEY, ROOT, analysis, force_style, write_sav
from leak_scan import leaks

from evaltk.analysis.run import run_analysis
from evaltk.publish import build_book


def test_no_identifier_or_key_in_any_output(tmp_path, simulated, base, monkeypatch):
    monkeypatch.setenv("EVALTK_LINK_KEY", KEY)
    folder = analysis(
        tmp_path / "analyses" / "force", simulated, {**FORCE_DATA, "path": "data/e.sav"}
    )
    write_sav(force_style(base), folder / "data" / "e.sav")
    result = run_analysis(folder, exploratory=True)
    assert result.data.format == "sav" and result.data.identifiers == "raw"
    book = tmp_path / "book"
    book.mkdir()
    for name in ("_config.yml", "methods.md", "about-results.md"):
        shutil.copyfile(ROOT / "book" / name, book / name)
    index = build_book(tmp_path / "analyses", book)
    assert index.is_file()

    identifiers = set(base["person_id"].astype(str))
    outputs = [p for p in (folder / "results").rglob("*") if p.is_file()]
    outputs += [p for p in book.rglob("*") if p.is_file()]
    outputs += [p for p in (folder / ".cache").rglob("*") if p.is_file()]
    assert len(outputs) > 20
    # The search finds the identifiers where they are typed: the extract's values as CSV.
    force_style(base).to_csv(tmp_path / "extract.csv", index=False)
    assert len(leaks(tmp_path / "extract.csv", identifiers, KEY)) == len(identifiers)
    for path in outputs:
        found = leaks(path, identifiers, KEY)
        assert not found, f"{path} holds {found[:1]}"


def test_linked_run_leaks_no_identifier_or_key(tmp_path, simulated, base, monkeypatch):
    """Police SPSS, ambulance CSV (NHS numbers typed with spaces), A&E parquet and admissions
    CSV, all with raw NHS numbers, linked: results, the link cache, the book and the link
    table `evaltk link` writes hold pseudonyms only."""
    from typer.testing import CliRunner

    from evaltk.cli import app
    from evaltk.simulate.agencies import agency_extracts

    monkeypatch.setenv("EVALTK_LINK_KEY", KEY)
    made = agency_extracts(base, seed=1)
    agencies = {
        "ambulance": {"path": "data/amb.csv", "person": "nhs_number", "time": "time"},
        "ae": {"path": "data/ae.parquet", "person": "nhs_number", "time": "time"},
        "admission": {"path": "data/adm.csv", "person": "nhs_number", "time": "time"},
    }
    windows = {"ambulance": [0, 6], "ae": [0, 12], "admission": [0, 72]}
    linkage = {"agencies": {a: {**e, "window_hours": windows[a]} for a, e in agencies.items()}}
    folder = analysis(
        tmp_path / "analyses" / "linked",
        simulated,
        {**FORCE_DATA, "path": "data/e.sav", "linkage": linkage},
    )
    write_sav(force_style(made.police), folder / "data" / "e.sav")
    made.agencies["ambulance"].to_csv(folder / "data" / "amb.csv", index=False)
    made.agencies["ae"].to_parquet(folder / "data" / "ae.parquet")
    made.agencies["admission"].to_csv(folder / "data" / "adm.csv", index=False)
    result = run_analysis(folder, exploratory=True)
    assert [r.agency for r in result.data.linkage or []] == ["ambulance", "ae", "admission"]
    links = tmp_path / "links.csv"
    cli = CliRunner().invoke(app, ["link", str(folder), "--out", str(links)])
    assert cli.exit_code == 0, cli.output
    book = tmp_path / "book"
    book.mkdir()
    for name in ("_config.yml", "methods.md", "about-results.md"):
        shutil.copyfile(ROOT / "book" / name, book / name)
    build_book(tmp_path / "analyses", book)
    pages = [p.read_text(encoding="utf-8") for p in (book / "_build").rglob("*.html")]
    # The linkage rates are in the data accounting section of the analysis's chapter.
    assert any("Records linked" in page and "A&amp;E attendances" in page for page in pages)

    numbers = set(made.police["person_id"].astype(str))
    for table in made.agencies.values():
        numbers |= set(table["nhs_number"].dropna().astype(str))
    numbers |= {n.replace(" ", "") for n in numbers}
    outputs = [p for p in (folder / "results").rglob("*") if p.is_file()]
    outputs += [p for p in book.rglob("*") if p.is_file()]
    outputs += [p for p in (folder / ".cache").rglob("*") if p.is_file()]
    outputs.append(links)
    assert any(p.name.startswith("linked-") for p in outputs)
    # The search finds the numbers in every input as typed there (spaced in amb.csv; parquet
    # by its values), so a clean output is clean, not unsearched.
    for name in ("amb.csv", "ae.parquet", "adm.csv"):
        assert leaks(folder / "data" / name, numbers, KEY), name
    for path in outputs:
        found = leaks(path, numbers, KEY)
        assert not found, f"{path} holds {found[:1]}"
