"""End to end: `evaltk demo` in a fresh folder gives a book with the headline and a figure."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from evaltk.results.schema import AnalysisResult

EVALTK = Path(sys.executable).parent / "evaltk"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One `evaltk demo` run (about 30 s) shared by the tests below."""
    tmp_path = tmp_path_factory.mktemp("demo")
    done = subprocess.run(
        [str(EVALTK), "demo", "--workdir", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return tmp_path, done.stdout


def test_demo_builds_a_book_with_headline_and_figure(demo: tuple[Path, str]) -> None:
    tmp_path, stdout = demo
    assert "[4/4] Building the book" in stdout
    index = tmp_path / "book" / "_build" / "html" / "index.html"
    assert index.is_file()
    result = AnalysisResult.model_validate_json(
        (tmp_path / "analyses" / "example-street-triage" / "results" / "results.json").read_text()
    )
    html_dir = tmp_path / "book" / "_build" / "html" / "analyses"
    chapters = [html_dir / "example-street-triage" / "index.html"]
    assert chapters[0].is_file(), "the street-triage chapter was not built"
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


def test_demo_also_runs_the_staggered_example(demo: tuple[Path, str]) -> None:
    """The second example: staggered DiD across the five forces, registered, in the same book."""
    tmp_path, _ = demo
    folder = tmp_path / "analyses" / "example-control-room-staggered"
    result = AnalysisResult.model_validate_json((folder / "results" / "results.json").read_text())
    assert result.registration.status == "registered"
    assert result.design == "staggered_did"
    # Both examples read the one simulated dataset.
    assert not (folder / "data").exists()
    page = tmp_path / "book" / "_build" / "html" / "analyses" / "example-control-room-staggered"
    text = html.unescape(re.sub(r"<[^>]+>", "", (page / "index.html").read_text("utf-8")))
    text = re.sub(r"\s+", " ", text)
    assert "How the comparison was made" in text
    assert "Inference used: randomisation inference" in text
    assert "Pre-trend test, Section 136 detentions per 100,000 residents" in text
    images = re.findall(r'<img[^>]+src="([^"]+)"', (page / "index.html").read_text("utf-8"))
    assert any(src.endswith("s136_rate-heatmap.png") for src in images)
    assert all((page / src).resolve().is_file() for src in images)
