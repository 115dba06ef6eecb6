"""End to end for the comparison designs: a staggered (Callaway & Sant'Anna) and a DiD (Poisson
TWFE) analysis of five simulated forces, registered, run, and published as book pages.

The data: the demo preset's five East Midlands forces (three start on different dates, two
never do) at full scale, seed 4, with true effects s136 x 0.70 and A&E conveyances x 1.20.

Tolerances (calibrated on seeds 1-6 of this set-up, then fixed to seed 4):

* DiD, Poisson TWFE rate ratio of s136: within 0.05 of the true 0.70 (seeds 1-6 gave 0.67 to
  0.72, cluster-robust standard error of log ratio about 0.03);
* staggered, simple ATT on the s136 rate per 100,000 a month: within 25 % of the true average
  difference, computed from truth.json and the population (seeds 1-6 gave 58 % to 122 % of
  the truth: with five forces the estimate is noisy), and its randomisation interval covers it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evaltk.analysis.run import run_analysis
from evaltk.publish.load import load_analyses
from evaltk.publish.pages import write_pages
from evaltk.registration import register
from evaltk.results.schema import AnalysisResult
from evaltk.simulate import SimulationConfig, write_dataset

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "protocols" / "control-room-nurses-staggered.yaml"
BOOK_SOURCES = ROOT / "book"
SEED = 4

OUTCOMES = """outcomes:
  - {id: s136_rate, label: "Section 136 detentions per 100,000 residents", role: primary,
     class: resolution, direction: decrease, measure: {aggregate: rate, where: {s136: true}}}
"""
STAGGERED_OUTCOMES = (
    OUTCOMES
    + """  - {id: ae_rate, label: "Conveyances to A&E per 100,000 residents", role: secondary,
     class: displacement, direction: decrease,
     measure: {aggregate: rate, where: {ae_conveyance: true}}}
"""
)
DATA = (
    "data: {kind: episodes, path: ../data/episodes.parquet, population: ../data/population.csv,\n"
    "       allow_outside: true}\n"
)


def _analysis(folder: Path, title: str, body: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "analysis.yaml").write_text(
        f"protocol: {TEMPLATE}\ntitle: {title}\n{DATA}{body}", encoding="utf-8"
    )
    register(folder, data_access="not_collected", by="test", now="2024-01-01T00:00:00Z")
    return folder


@pytest.fixture(scope="module")
def analyses(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("designs") / "analyses"
    config = SimulationConfig.preset(
        "demo", scale=1.0, seed=SEED, effects={"s136": 0.7, "ae_conveyance": 1.2}
    )
    write_dataset(config, root / "data")
    _analysis(root / "staggered", "Staggered example", STAGGERED_OUTCOMES)
    # The wild bootstrap of a Poisson model inverts its test by refitting (seconds per
    # outcome): 999 draws and one outcome keep this test quick.
    _analysis(
        root / "did",
        "DiD example",
        OUTCOMES + "design: {kind: did, inference: {draws: 999}}\n",
    )
    for name in ("staggered", "did"):
        run_analysis(root / name)
    return root


def _result(analyses: Path, name: str) -> AnalysisResult:
    text = (analyses / name / "results" / "results.json").read_text(encoding="utf-8")
    return AnalysisResult.model_validate_json(text)


def true_rate_difference(data: Path, key: str = "s136") -> float:
    """Mean true change in the rate per 100,000 a month over treated force-months: expected
    treated minus counterfactual events (truth.json) over the treated population-months."""
    truth = json.loads((data / "truth.json").read_text(encoding="utf-8"))
    population = pd.read_csv(data / "population.csv").set_index(["force", "year"])["population"]
    exposure = 0.0
    for force in truth["forces"]:
        if force["start"] is None:
            continue
        for month in pd.period_range(force["start"], truth["period"]["last"], freq="M"):
            exposure += population[(force["force"], month.year)] / 100_000
    effect = truth["effects"][key]
    return (effect["expected_treated"] - effect["expected_counterfactual"]) / exposure


def test_staggered_estimate_is_close_to_the_truth(analyses: Path) -> None:
    result = _result(analyses, "staggered")
    assert result.design == "staggered_did"
    assert result.registration.status == "registered"
    s136 = result.outcome("s136_rate")
    truth = true_rate_difference(analyses / "data")
    assert s136.scale == "difference"
    assert s136.estimate is not None and s136.ci_low is not None and s136.ci_high is not None
    assert abs(s136.estimate - truth) < 0.25 * abs(truth), (s136.estimate, truth)
    assert s136.ci_low < truth < s136.ci_high
    assert s136.n_units == 5 and s136.n_periods == 24  # quarters of 2014-2019
    assert s136.baseline is not None and s136.baseline > abs(truth)


def test_staggered_says_which_inference_and_why(analyses: Path) -> None:
    s136 = _result(analyses, "staggered").outcome("s136_rate")
    assert s136.inference == "randomization"
    assert s136.inference_text is not None
    assert "all 60 distinct assignments enumerated" in s136.inference_text
    assert "5 units, fewer than 50" in s136.inference_text
    assert s136.pretrend is not None and s136.pretrend.method == "randomization"
    assert s136.pretrend.p_value is not None
    assert [e.event_time for e in s136.event_time][:2] == [-11, -10]
    assert {e.kind for e in s136.event_time} == {"lead", "lag"}


def test_staggered_writes_event_study_heatmap_and_effects(analyses: Path) -> None:
    result = _result(analyses, "staggered")
    folder = analyses / "staggered" / "results"
    for outcome in result.outcomes:
        assert outcome.figure == f"figures/{outcome.outcome}.png"
        assert (folder / outcome.figure).is_file()
        assert [f.kind for f in outcome.figures] == ["heatmap"]
        assert (folder / outcome.figures[0].path).is_file()
    effects = pd.read_csv(folder / "effects.csv")
    assert set(effects["kind"]) == {"headline_simple", "event_time", "attgt"}
    assert not (folder / "series.csv").exists()
    # Every design has a ledger now; this protocol prices no outcome, and says so.
    assert result.ledger is None and result.ledger_note == "No outcome carries a unit cost."
    assert result.starts == {
        "E23000018": "2017-01-01",
        "E23000019": "2016-04-01",
        "E23000020": None,
        "E23000021": "2015-10-01",
        "E23000022": None,
    }


def test_did_estimate_is_close_to_the_truth(analyses: Path) -> None:
    result = _result(analyses, "did")
    s136 = result.outcome("s136_rate")
    assert s136.design == "did" and s136.scale == "ratio"
    assert s136.estimate is not None and abs(s136.estimate - 0.70) < 0.05, s136.estimate
    assert s136.ci_low is not None and s136.ci_high is not None
    assert s136.ci_low < 0.70 < s136.ci_high
    assert s136.inference == "wild_bootstrap"
    assert s136.inference_text is not None
    assert "score wild cluster bootstrap" in s136.inference_text
    assert "5 clusters, fewer than 50" in s136.inference_text
    # The pre-trend test comes from the event study fitted beside the TWFE model.
    assert s136.pretrend is not None and s136.pretrend.df == 3
    assert s136.event_time and s136.event_time_unit == "3 months"
    assert [f.kind for f in s136.figures] == ["groups"]


def test_evidence_level_reads_the_pretrend_test(analyses: Path) -> None:
    for name in ("staggered", "did"):
        result = _result(analyses, name)
        assert result.evidence is not None
        test = result.outcome("s136_rate").pretrend
        assert test is not None and test.p_value is not None
        expected = 3 if test.p_value >= result.alpha else 2
        assert result.evidence.sms_level == expected
        assert "pre-trend test" in result.evidence.reason


def test_book_chapter_shows_event_study_and_inference(analyses: Path, tmp_path: Path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    for name in ("_config.yml", "methods.md", "about-results.md"):
        (book / name).write_text((BOOK_SOURCES / name).read_text(encoding="utf-8"))
    loaded = [a for a in load_analyses(analyses) if a.name in ("staggered", "did")]
    write_pages(loaded, book)
    page = (book / "analyses" / "staggered" / "index.md").read_text(encoding="utf-8")
    assert "### How the comparison was made" in page
    assert "**Inference used:** randomisation inference" in page
    assert "**Pre-trend test, Section 136 detentions per 100,000 residents:**" in page
    assert "```{figure} figures/s136_rate.png" in page
    assert "Event study: the effect by quarters since the start" in page
    assert "```{figure} figures/s136_rate-heatmap.png" in page
    assert "| Lincolnshire (E23000020) | comparison: never started in the window |" in page
    assert "| Pre-trend p |" in page
    figures = book / "analyses" / "staggered" / "figures"
    assert (figures / "s136_rate.png").is_file() and (figures / "s136_rate-heatmap.png").is_file()
    assert (book / "analyses" / "staggered" / "files" / "effects.csv").is_file()
    did = (book / "analyses" / "did" / "index.md").read_text(encoding="utf-8")
    assert "**Inference used:** score wild cluster bootstrap" in did
    assert "```{figure} figures/s136_rate-groups.png" in did
    prereg = (book / "analyses" / "staggered" / "preregistration.md").read_text()
    # The plan's model sentence (evaltk.protocol.model_description, issue 20), as registered.
    assert "Staggered difference-in-differences (Callaway & Sant'Anna)" in prereg
    assert "Callaway & Sant'Anna staggered DiD (doubly robust, not-yet-treated" in prereg
