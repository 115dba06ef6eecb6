"""The built book in a real browser: the landing page and the analysis chapter load every
figure, and a figure that is missing is caught (so the check can fail).

Screenshots go under pytest's temporary folder; their paths are printed (``pytest -s``).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .chromium import Chromium, PageReport

CHAPTER = Path("analyses") / "example-street-triage" / "index.html"


def assert_page_loaded(report: PageReport) -> None:
    """Fail, naming every image and request that did not load, unless the page is whole."""
    assert not report.problems, f"{report.url}: " + "; ".join(report.problems)


def _img_tags(page: Path) -> int:
    return len(re.findall(r"<img\b", page.read_text(encoding="utf-8")))


def test_landing_page_and_chapter_show_every_figure(
    chromium: Chromium, built_html: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shots = tmp_path_factory.mktemp("screenshots")
    landing = chromium.check_page((built_html / "index.html").as_uri(), shots / "landing.png")
    chapter = chromium.check_page((built_html / CHAPTER).as_uri(), shots / "chapter.png")
    for report in (landing, chapter):
        print(f"screenshot of {report.url}: {report.screenshot}")
        assert_page_loaded(report)
        assert report.screenshot is not None and report.screenshot.stat().st_size > 10_000
    assert landing.title.startswith("Street triage: resolved, or moved elsewhere?")
    assert chapter.title.startswith("Street triage in Nottinghamshire <2016> | ITS")
    # The browser saw every <img> of the HTML, among them both outcomes' figures.
    assert len(chapter.images) == _img_tags(built_html / CHAPTER)
    assert set(chapter.images) == {
        "../../_images/s136_rate.png",
        "../../_images/ae_conveyances.png",
    }


def test_a_missing_figure_fails_the_check(
    chromium: Chromium, built_html: Path, tmp_path: Path
) -> None:
    html = tmp_path / "html"
    shutil.copytree(built_html, html)
    (html / "_images" / "ae_conveyances.png").unlink()
    report = chromium.check_page((html / CHAPTER).as_uri(), tmp_path / "broken.png")
    print(f"screenshot of the chapter without its A&E figure: {report.screenshot}")
    assert "../../_images/s136_rate.png" in report.images
    assert report.broken_images == ["../../_images/ae_conveyances.png"]
    with pytest.raises(AssertionError, match=r"image did not load: \.\./\.\./_images/ae_conv"):
        assert_page_loaded(report)


@pytest.mark.parametrize("width", [1280, 800])
def test_every_table_fits_the_text_column(
    chromium: Chromium, built_html: Path, tmp_path: Path, width: int
) -> None:
    """At a laptop's width and a narrow window, no table of the landing page or the chapter is
    wider than the column: nothing is hidden past the edge (issue 7's screenshots)."""
    pages = {"landing": built_html / "index.html", "chapter": built_html / CHAPTER}
    for name, page in pages.items():
        report = chromium.check_page(page.as_uri(), tmp_path / f"{name}-{width}.png", width)
        print(f"screenshot at {width} px: {report.screenshot}")
        assert report.wide_tables == [], f"{name} at {width} px: {report.wide_tables}"
    # The chapter's tables really are measured: its outcome table, its key facts, ...
    count = chromium.send(
        "Runtime.evaluate",
        expression="document.querySelectorAll('article table').length",
        returnByValue=True,
    )["result"]["value"]
    assert count >= 6


def test_a_table_wider_than_the_column_is_caught(
    chromium: Chromium, built_html: Path, tmp_path: Path
) -> None:
    html = tmp_path / "html"
    shutil.copytree(built_html, html)
    page = html / CHAPTER
    text = page.read_text(encoding="utf-8")
    cell = "<td><p>Conveyances to A&amp;E</p></td>"
    assert cell in text
    # One word too long to break (a pasted URL, say) in the first cell of the outcome table.
    page.write_text(text.replace(cell, f"<td><p>{'x' * 400}</p></td>", 1), encoding="utf-8")
    report = chromium.check_page(page.as_uri(), tmp_path / "wide.png", 1280)
    assert len(report.wide_tables) == 1
    assert re.fullmatch(r"Outcome: \d+ px in \d+ px", report.wide_tables[0])
