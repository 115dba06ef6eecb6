"""One strict build of the hand-made book (tests/publish/conftest.py) and one headless Chromium,
shared by the browser tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from publish.conftest import BOOK_SOURCES, HANDWRITTEN, make_result, write_analysis

from evaltk.publish import build_book

from .chromium import CANDIDATES, PACKAGES_HINT, Chromium, headless_chromium
from .programs import require_program

REGISTERED = BOOK_SOURCES.parent / "analyses" / "example-right-care-right-person"


@pytest.fixture(scope="session")
def built_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``_build/html`` of the book of the example analysis (two outcomes, two figures)."""
    root = tmp_path_factory.mktemp("browser-book")
    analyses = root / "analyses"
    folder = write_analysis(analyses / "example-street-triage", make_result())
    # A registration with long outcome ids and amended unit costs (the Right Care, Right
    # Person example's), so the pre-registration page's tables are measured as well.
    shutil.copyfile(REGISTERED / "registration.json", folder / "registration.json")
    book = root / "book"
    book.mkdir()
    for name in HANDWRITTEN:
        shutil.copyfile(BOOK_SOURCES / name, book / name)
    # The book's stylesheet (Jupyter Book adds every CSS file in _static): the tables are
    # checked as a reader sees them.
    shutil.copytree(BOOK_SOURCES / "_static", book / "_static")
    return build_book(analyses, book, strict=True).parent


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    """A running headless Chromium; tests list it first, so a missing browser skips (or, in
    CI, fails) before the book is built."""
    executable = require_program(CANDIDATES, PACKAGES_HINT)
    with headless_chromium(executable) as browser:
        yield browser
