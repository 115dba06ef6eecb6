"""The Python API chapter is in the book: listed in _toc.yml and built from its outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from publish.conftest import BOOK_SOURCES, HANDWRITTEN, make_result, write_analysis

from evaltk.publish import build_book
from evaltk.publish.pages import render_toc


def test_toc_lists_the_notebook_when_present(tmp_path: Path) -> None:
    assert "api" not in render_toc([], tmp_path)
    (tmp_path / "api.ipynb").write_text("{}", encoding="utf-8")
    toc = yaml.safe_load(render_toc([], tmp_path))
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert "api" in files


def test_strict_build_shows_the_committed_outputs(tmp_path: Path) -> None:
    analyses, book = tmp_path / "analyses", tmp_path / "book"
    write_analysis(analyses / "example-street-triage", make_result())
    book.mkdir()
    for name in (*HANDWRITTEN, "api.ipynb"):
        shutil.copyfile(BOOK_SOURCES / name, book / name)
    index = build_book(analyses, book, strict=True)
    page = (index.parent / "api.html").read_text(encoding="utf-8")
    # The run's output (its verdict box), the tidy table and the figure, as committed.
    assert "Fitting 10 models" in page and "Where demand went" in page
    assert "s136_rate" in page and "data:image/png;base64," in page
    assert 'href="api.html"' in (index.parent / "index.html").read_text(encoding="utf-8")
