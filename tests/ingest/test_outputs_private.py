"""End to end on a force's SPSS extract with raw NHS numbers: no output file (results/, the
book's sources, HTML and downloads) holds a raw identifier or the key, and the built book passes
its disclosure scan."""

from __future__ import annotations

import shutil

from conftest import FORCE_DATA, KEY, ROOT, analysis, force_style, write_sav

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
    for path in outputs:
        data = path.read_bytes()
        assert KEY.encode() not in data, path
        if path.suffix in (".json", ".csv", ".md", ".html", ".txt", ".js", ".yml", ".parquet"):
            text = data.decode("utf-8", errors="replace")
            found = [i for i in identifiers if i in text]
            assert not found, f"{path} holds {found[:1]}"
