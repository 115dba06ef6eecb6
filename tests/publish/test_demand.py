"""Journeys and who carries the demand, from the run's tables to the book's page: the page,
its figures and its download show only published counts (rounded, small ones suppressed)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from evaltk.analysis.tables import write_demand
from evaltk.measures.journeys import demand_tables
from evaltk.protocol import load_protocol
from evaltk.publish.demand import (
    protect_high_intensity,
    protect_pathways,
    read_demand,
    write_demand_page,
)
from evaltk.publish.disclosure import small_counts_in_downloads
from evaltk.publish.load import load_analysis
from evaltk.publish.pages import Chapter, render_toc
from evaltk.results.figure_files import DEMAND_FILES
from evaltk.results.schema import DisclosureSettings
from evaltk.simulate import SimulationConfig, write_dataset

from .conftest import make_result, write_analysis

RULE = DisclosureSettings()  # NHS England's: 1-4 suppressed, the rest rounded to 5


def test_pathway_cells_follow_the_one_rule():
    raw = pd.DataFrame(
        {
            "phase": ["before"] * 4,
            "contact": ["Police only"] * 4,
            "outcome": ["Section 136", "A&E", "Referral", "Admission"],
            "next": ["Missing-person report"] * 4,
            "incidents": [3, 7, 0, 128],
            "people": [3, 4, 0, 96],
            "officer_minutes": [300.0, 420.0, float("nan"), 6000.0],
        }
    )
    out = protect_pathways(raw, RULE)
    assert out["incidents"].tolist() == [pd.NA, 5, 0, 130]
    assert out["people"].tolist() == [pd.NA, pd.NA, 0, 95]
    # Hours only beside published, non-zero incidents.
    hours = out["officer_hours"].tolist()
    assert pd.isna(hours[0]) and pd.isna(hours[2]) and hours[1::2] == [7.0, 100.0]


def test_high_intensity_shares_are_of_published_counts():
    raw = pd.DataFrame(
        {
            "phase": ["before", "after"],
            "people": [3, 152],
            "incidents": [40, 1657],
            "all_incidents": [4919, 6251],
            "minutes": [900.0, 237105.0],
            "all_minutes": [776553.0, 873789.0],
        }
    )
    out = protect_high_intensity(raw, RULE).set_index("phase")
    # Three people: suppressed, and nothing else is said about them.
    assert out.loc["before"].drop("people").isna().all() and pd.isna(out.loc["before", "people"])
    assert out.loc["after", "people"] == 150
    assert out.loc["after", "share_incidents"] == pytest.approx(1655 / 6250, abs=1e-12)
    assert out.loc["after", "share_hours"] == pytest.approx(237105 / 873789, abs=1e-12)


ROOT = Path(__file__).resolve().parents[2]


def test_the_page_shows_published_counts_only(tmp_path: Path) -> None:
    # Nottinghamshire alone, 2014-2019, street triage from April 2016, as the run sees it.
    analysis_dir = write_analysis(tmp_path / "analyses" / "small-triage", make_result())
    write_dataset(SimulationConfig.preset("small", scale=0.1, seed=11), analysis_dir / "data")
    (analysis_dir / "analysis.yaml").write_text(
        f"protocol: {ROOT / 'protocols' / 'street-triage-its.yaml'}\n"
        "title: Small simulated force\n"
        "data: {kind: episodes, path: data/episodes.parquet, population: data/population.csv}\n",
        encoding="utf-8",
    )
    loaded = load_protocol(analysis_dir)
    tables = demand_tables(loaded.protocol, analysis_dir)
    assert tables is not None
    results = analysis_dir / "results"
    write_demand(tables, results)
    assert all((results / name).is_file() for name in DEMAND_FILES)
    raw = pd.read_csv(results / "pathways.csv")
    settings = json.loads((results / "demand.json").read_text())
    # Every used episode of the window is one step (Nottinghamshire is the only unit).
    assert raw["incidents"].sum() > 1000
    assert settings["phase_months"] == {"before": 27, "after": 45}
    assert raw["incidents"].between(1, 4).any()  # small cells exist to be protected

    analysis = load_analysis(analysis_dir)
    demand = read_demand(analysis)
    assert demand is not None
    book = tmp_path / "book"
    chapter = book / "analyses" / "small-triage"
    (chapter / "figures").mkdir(parents=True)
    (chapter / "files").mkdir()
    page = write_demand_page(analysis, chapter)
    assert page is not None and page.is_file()
    assert (chapter / "figures" / "journeys.png").stat().st_size > 10_000
    assert (chapter / "figures" / "concentration.png").stat().st_size > 10_000
    published = pd.read_csv(chapter / "files" / "pathways.csv")
    counts = published["incidents"].dropna()
    assert ((counts == 0) | ((counts >= 5) & (counts % 5 == 0))).all()
    assert published["incidents"].isna().sum() == raw["incidents"].between(1, 4).sum()
    assert small_counts_in_downloads(chapter, 5) == []
    # The page is a section of its analysis's chapter, after the pre-registration.
    toc = yaml.safe_load(render_toc([Chapter(analysis, "small-triage")], book))
    assert toc["parts"][0]["chapters"][0]["sections"] == [
        {"file": "analyses/small-triage/preregistration"},
        {"file": "analyses/small-triage/demand"},
    ]
    text = page.read_text()
    assert "Where the demand goes and who carries it" in text
    assert text.count("{evaltk-observed}`suppressed`") >= 1
    # The Lorenz points cover at least 5 people each (merged by the run).
    lorenz = pd.read_csv(results / "concentration.csv")
    steps = lorenz.groupby("phase")["people"].diff().dropna()
    assert (steps >= 5).all()
    # The chapter links to it (and a chapter of a run without the tables does not).
    from evaltk.publish.chapter import chapter_context

    assert chapter_context(analysis)["demand"] == "demand.md"
    for name in DEMAND_FILES:
        (results / name).unlink()
    assert chapter_context(load_analysis(analysis_dir))["demand"] is None


def test_the_scan_catches_an_unrounded_pathway_download(tmp_path: Path) -> None:
    (tmp_path / "pathways.csv").write_text(
        "phase,contact,outcome,next,incidents,people\nbefore,a,b,c,7,5\nafter,a,b,c,3,\n"
    )
    problems = small_counts_in_downloads(tmp_path, 5)
    assert len(problems) == 2 and "incidents 7" in problems[0] and "incidents 3" in problems[1]
