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
