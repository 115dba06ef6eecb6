"""A hand-made analysis: two outcomes, a figure, a series, written as `evaltk run` would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evaltk.results.schema import (
    AnalysisResult,
    Cumulative,
    DataSummary,
    Diagnostics,
    Interval,
    OutcomeResult,
    Registration,
    Verdict,
)

BOOK_SOURCES = Path(__file__).resolve().parents[2] / "book"
HANDWRITTEN = ("_config.yml", "methods.md", "about-results.md")

HEADLINE = (
    "Section 136 detentions fell by 28 % (95 % CI 19 % to 36 %) after street triage began in "
    "April 2016. A&E conveyances rose by 19 % (95 % CI 8 % to 31 %)."
)
VERDICT = "Street triage cut detentions but moved demand to A&E."
TITLE = "Street triage in Nottinghamshire <2016> | ITS"


def _diagnostics() -> Diagnostics:
    return Diagnostics(
        dispersion=1.84,
        ljung_box_p=0.21,
        ljung_box_lags=12,
        durbin_watson=1.92,
        n_pre=27,
        n_post=45,
        n_washout=0,
    )


def make_result() -> AnalysisResult:
    """Two outcomes: a primary s136 rate ratio of 0.72 and an A&E ratio of 1.19."""
    common = dict(
        aggregate="count",
        design="its",
        estimator="segmented GLM, quasi-Poisson, Newey-West (3 lags)",
        scale="ratio",
        n_units=1,
        n_periods=72,
        slope_change=None,
        diagnostics=_diagnostics(),
    )
    s136 = OutcomeResult(
        outcome="s136_rate",
        label="Section 136 detentions per 100,000 residents",
        role="primary",
        outcome_class="resolution",
        direction="decrease",
        estimate=0.72,
        ci_low=0.64,
        ci_high=0.81,
        p_value=0.00001,
        p_adjusted=0.00001,
        trend_per_year=Interval(estimate=1.03, ci_low=0.99, ci_high=1.07),
        cumulative=Cumulative(
            averted=412.6,
            ci_low=301.2,
            ci_high=520.9,
            observed=1050,
            counterfactual=1462.6,
            unit="events",
        ),
        figure="figures/s136_rate.png",
        **common,
    )
    ae = OutcomeResult(
        outcome="ae_conveyances",
        label="Conveyances to A&E",
        role="secondary",
        outcome_class="displacement",
        direction="decrease",
        estimate=1.19,
        ci_low=1.08,
        ci_high=1.31,
        p_value=0.0004,
        p_adjusted=0.0032,
        trend_per_year=None,
        cumulative=Cumulative(
            averted=-160.4,
            ci_low=-231.0,
            ci_high=-88.5,
            observed=1004,
            counterfactual=843.6,
            unit="events",
        ),
        figure="figures/ae_conveyances.png",
        note="Counts from the ambulance trust's *dispatch* log.",
        **common,
    )
    return AnalysisResult(
        evaltk_version="0.1.0",
        analysis="example-street-triage",
        title=TITLE,
        question="Did street triage reduce s136 detentions, or move them to A&E?",
        intervention="street_triage",
        units=["E23000019"],
        start="2016-04-01",
        window_start="2014-01-01",
        window_end="2019-12-31",
        design="its",
        alpha=0.05,
        interval_level=0.95,
        multiplicity="holm",
        registration=Registration(status="unregistered", protocol_sha256="ab" * 32),
        verdict=Verdict(label="Displaces", rule="primary fell; A&E rose", sentence=VERDICT),
        headline=HEADLINE,
        data=DataSummary(
            path="data/episodes.parquet",
            sha256="cd" * 32,
            rows_in=10_000,
            rows_used=9_850,
            excluded={"outside window": 120, "missing force": 30},
        ),
        outcomes=[s136, ae],
        packages={"statsmodels": "0.14.4", "pandas": "2.2.3"},
    )


def write_png(path: Path) -> None:
    """A tiny real PNG, drawn with matplotlib's object API (no pyplot global state)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1.2), dpi=40)
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [3, 1, 2])
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def write_analysis(folder: Path, result: AnalysisResult) -> Path:
    """Lay out ``folder`` as `evaltk run` leaves it."""
    results = folder / "results"
    results.mkdir(parents=True)
    (folder / "analysis.yaml").write_text("protocol: ../../protocols/street-triage-its.yaml\n")
    (results / "results.json").write_text(result.to_json(), encoding="utf-8")
    for outcome in result.outcomes:
        if outcome.figure:
            write_png(results / outcome.figure)
    (results / "series.csv").write_text(
        "outcome,period,observed,fitted,counterfactual,cf_low,cf_high,in_fit,post\n"
        "s136_rate,2016-04-01,20,21.0,29.0,26.0,32.0,True,True\n"
    )
    return folder


@pytest.fixture
def result() -> AnalysisResult:
    return make_result()


@pytest.fixture
def analyses_dir(tmp_path: Path, result: AnalysisResult) -> Path:
    root = tmp_path / "analyses"
    write_analysis(root / "example-street-triage", result)
    return root


@pytest.fixture
def book_dir(tmp_path: Path) -> Path:
    """A book folder holding copies of the repository's hand-written sources."""
    book = tmp_path / "book"
    book.mkdir()
    for name in HANDWRITTEN:
        shutil.copyfile(BOOK_SOURCES / name, book / name)
    return book
