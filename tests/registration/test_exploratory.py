"""--exploratory stamps every output; amendments, added outcomes and a changed primary show in
results.json and the book."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from PIL import Image

from evaltk.analysis.run import run_analysis
from evaltk.publish.load import load_analyses
from evaltk.publish.pages import write_pages
from evaltk.registration import amend, register
from evaltk.registration.stamp import EXPLORATORY_RUN, METADATA_KEY

from .conftest import ROOT, WHEN, edit

NEW_OUTCOME = """
  - id: arrests
    label: Arrests of people in crisis
    role: secondary
    class: safety
    direction: decrease
    measure: {aggregate: count, where: {arrest: true}}
"""


def _book(analysis: Path, tmp_path: Path) -> str:
    book = tmp_path / "book"
    book.mkdir()
    for name in ("_config.yml", "methods.md", "about-results.md"):
        shutil.copyfile(ROOT / "book" / name, book / name)
    write_pages(load_analyses(analysis.parent), book)
    return (book / "analyses" / analysis.name / "index.md").read_text(encoding="utf-8")


@pytest.fixture()
def registered(analysis_with_data: Path) -> Path:
    register(analysis_with_data, data_access="not_collected", by="A. Analyst", now=WHEN)
    return analysis_with_data


def test_exploratory_run_stamps_json_figures_and_book(registered: Path, tmp_path: Path) -> None:
    run_analysis(registered)
    figures = registered / "results" / "figures"
    clean = {p.name: imread(p) for p in figures.glob("*.png")}
    assert Image.open(figures / "s136_rate.png").info[METADATA_KEY] == "registered"

    edit(registered, "harmonics: 2", "harmonics: 1")
    result = run_analysis(registered, exploratory=True)
    assert result.registration.status == "exploratory"
    assert [c.path for c in result.registration.unregistered_changes] == ["design.its.harmonics"]
    assert result.headline.startswith("Exploratory analysis, not the registered one.")
    for path in figures.glob("*.png"):
        image = Image.open(path)
        assert image.info[METADATA_KEY] == "exploratory"
        assert image.info["Description"] == EXPLORATORY_RUN
        # The mark is drawn: the banner's red pixels are in the image, not in the clean one.
        pixels = imread(path)[..., :3]
        red = (pixels[..., 0] > 0.6) & (pixels[..., 1] < 0.1) & (pixels[..., 2] < 0.2)
        assert red.sum() > 500, path.name
        before = clean[path.name][..., :3]
        assert not ((before[..., 0] > 0.6) & (before[..., 1] < 0.1) & (before[..., 2] < 0.2)).any()

    page = _book(registered, tmp_path)
    assert ":::{admonition} Exploratory — not the registered analysis\n:class: danger" in page
    assert "design.its.harmonics: 2 -> 1" in page
    prereg = (tmp_path / "book" / "analyses" / registered.name / "preregistration.md").read_text()
    assert "# Pre-registration:" in prereg and "A. Analyst" in prereg


def test_an_unregistered_exploratory_run_says_why(analysis_with_data: Path) -> None:
    result = run_analysis(analysis_with_data, exploratory=True)
    assert result.registration.status == "exploratory"
    assert "no registration" in result.registration.note


def test_amendments_added_outcomes_and_primary_change_reach_the_book(
    registered: Path, tmp_path: Path
) -> None:
    design = "\n# The design and its estimator options."
    edit(registered, design, NEW_OUTCOME + design)
    amend(registered, reason="arrests added at the ICB's request", by="B", now="2024-02-01T01:00Z")
    edit(
        registered,
        "    label: Section 136 detentions per 100,000 residents\n    role: primary",
        "    label: Section 136 detentions per 100,000 residents\n    role: secondary",
    )
    edit(
        registered,
        "    label: Conveyances to A&E\n    role: secondary",
        "    label: Conveyances to A&E\n    role: primary",
    )
    amend(registered, reason="A&E made primary", by="C", now="2024-03-01T00:00:00Z")
    result = run_analysis(registered)
    registration = result.registration
    assert registration.status == "registered"
    assert registration.exploratory_outcomes == ["arrests"]
    assert registration.primary_changed and registration.registered_primary == ["s136_rate"]
    assert [a.reason for a in registration.amendments] == [
        "arrests added at the ICB's request",
        "A&E made primary",
    ]
    assert result.headline.startswith("The primary outcome was changed after registration")
    stamped = Image.open(registered / "results" / "figures" / "arrests.png")
    assert stamped.info["Description"].startswith("EXPLORATORY OUTCOME")
    assert "Description" not in Image.open(registered / "results/figures/s136_rate.png").info

    page = _book(registered, tmp_path)
    first, second = page.index("**Amendment 1**"), page.index("**Amendment 2**")
    assert page.index("**Registered** 2024-01-01T00:00:00Z") < first < second
    assert "arrests added at the ICB's request" in page and "A&E made primary" in page
    assert "outcomes[10]: (absent) -> " in page
    assert ":::{admonition} Primary outcome changed after registration" in page
    assert "Arrests of people in crisis *(exploratory: added after registration)*" in page
    assert "### Arrests of people in crisis (exploratory: added after registration)" in page
    assert np.isfinite(result.outcome("arrests").estimate or np.nan)
