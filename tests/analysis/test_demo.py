"""End to end: `evaltk demo` in a fresh folder gives a book with the headline and a figure."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

from evaltk.results.schema import AnalysisResult

EVALTK = Path(sys.executable).parent / "evaltk"


def test_demo_builds_a_book_with_headline_and_figure(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(EVALTK), "demo", "--workdir", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "[3/3] Building the book" in done.stdout
    index = tmp_path / "book" / "_build" / "html" / "index.html"
    assert index.is_file()
    result = AnalysisResult.model_validate_json(
        (tmp_path / "analyses" / "example-street-triage" / "results" / "results.json").read_text()
    )
    chapters = list((tmp_path / "book" / "_build" / "html" / "analyses").rglob("*.html"))
    assert chapters, "no analysis chapter was built"
    page = chapters[0].read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    text = re.sub(r"\s+", " ", text)
    # The headline's first sentence (numbers formatted by the run) appears on the chapter page.
    first_sentence = result.headline.split(". ")[0]
    assert first_sentence.split(",")[0] in text
    assert result.verdict.label in text
    # The commissioners' section: net pounds, cost per averted detention, evidence, gaps.
    assert "For commissioners: where the demand went" in text
    assert result.ledger is not None
    net = result.ledger.net_pounds.estimate
    assert f"£{abs(net):,.0f} {'saved' if net >= 0 else 'added'}" in text
    assert "Cost per averted section 136 detention" in text
    assert "Maryland Scientific Methods Scale level 2 of 5" in text
    assert "Not measured by this evaluation" in text
    images = re.findall(r'<img[^>]+src="([^"]+)"', page)
    assert images, "the chapter shows no figure"
    assert all((chapters[0].parent / src).resolve().is_file() for src in images)
    assert result.verdict.label in index.read_text(encoding="utf-8")
