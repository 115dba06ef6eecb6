"""Issue 18: what published before/after claims can support.

The published statistics are recomputed from the published figures (Heslin et al. 2016:
194 and 118 detentions, chi-square 18.542; Keown et al. 2016: 59.8 and 26.4 per 100,000, a
56 % fall). The simulation study (``bench/validation_checks.py --check published_claims``,
1,000 datasets, minutes) is checked through its record: the record's tables and requirements
follow from its per-dataset outcomes, the bounds hold, and a sample of datasets recomputed now
matches the record. The book page is rendered from the record and shows its figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltk.publish.claims import render_claims
from evaltk.validation import claims
from evaltk.validation.record import CheckRecord, load_record

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "book" / "validation" / "published_claims.json"


@pytest.fixture(scope="module")
def record() -> CheckRecord:
    return load_record(RECORD)


def test_sussex_chi_square_is_recomputed_from_its_counts() -> None:
    found = claims.reproduce_sussex()
    # (194 - 156)^2 / 156 + (118 - 156)^2 / 156 = 2 * 1444 / 156
    assert found.value == pytest.approx(2 * 38**2 / 156, abs=1e-12)
    assert round(found.value, 1) == round(claims.SUSSEX.published, 1) == 18.5
    assert abs(found.difference) < 0.05
    assert found.p_value == pytest.approx(1.69e-5, rel=0.01)
    assert found.within


def test_ntw_fall_is_recomputed_from_its_rates() -> None:
    found = claims.reproduce_ntw()
    assert found.value == pytest.approx(100 * (1 - 26.4 / 59.8), abs=1e-12)
    assert round(found.value) == 56
    before, after = claims.ntw_counts()
    assert (round(before), round(after)) == (850, 375)
    assert found.p_value < 1e-30


def test_a_reproduction_off_by_more_than_its_tolerance_is_not_within() -> None:
    off = claims.Reproduction(claims.SUSSEX, value=18.45, p_value=0.0)
    assert not off.within


def test_the_record_holds_every_dataset(record: CheckRecord) -> None:
    found = claims.read_replicates(record.replicates)
    assert set(found) == {s.name for s in claims.SCENARIOS}
    assert {len(rows) for rows in found.values()} == {claims.REPLICATES}
    assert f"{claims.REPLICATES} simulated forces per scenario" in record.description


def test_the_record_tables_and_requirements_follow_from_its_datasets(
    record: CheckRecord,
) -> None:
    found = claims.read_replicates(record.replicates)
    assert record.tables[0] == claims.reproduction_table(claims.reproductions())
    assert record.tables[1] == claims.study_table(found)
    assert record.requirements == claims.requirements(claims.reproductions(), found)
    assert record.all_met, [r for r in record.requirements if not r.met]


def test_the_registered_analysis_keeps_its_size_where_the_before_after_does_not(
    record: CheckRecord,
) -> None:
    """The page's point, as numbers: with no true change, the registered time series declares
    a fall within chance (2.5 % + 2 Monte Carlo SE) in every scenario, while a start chosen
    after a bad six months makes the before/after chi-square declare one far more often."""
    found = claims.read_replicates(record.replicates)
    for scenario in claims.NULL_SCENARIOS:
        rows = found[scenario.name]
        assert sum(r.its_claimed for r in rows) / len(rows) <= claims.false_claim_bound(len(rows))
    peak = found["no change, start after a bad six months"]
    assert sum(r.claimed for r in peak) / len(peak) > 0.25


@pytest.mark.parametrize("scenario", claims.SCENARIOS, ids=lambda s: s.name)
def test_recomputed_datasets_match_the_record(record: CheckRecord, scenario) -> None:
    recorded = record.replicates[scenario.name]
    for seed in (0, claims.REPLICATES - 1):
        now = claims.replicate(scenario, seed).cells()
        assert now == pytest.approx(recorded[seed], abs=2e-6), (scenario.name, seed)


def test_the_book_page_shows_the_record(record: CheckRecord, tmp_path: Path) -> None:
    (tmp_path / "validation").mkdir()
    (tmp_path / "validation" / "published_claims.json").write_text(
        RECORD.read_text(encoding="utf-8"), encoding="utf-8"
    )
    page = render_claims(tmp_path)
    found = claims.read_replicates(record.replicates)
    peak = found["no change, start after a bad six months"]
    share = f"{100 * sum(r.claimed for r in peak) / len(peak):.0f} %"
    assert f"| {share} |" in page
    assert "| 18.542 | 18.513 | −0.029 |" in page
    assert "https://doi.org/10.1136/bmjopen-2015-009670" in page
    assert "has not been run" not in page


def test_without_the_record_the_page_says_the_study_was_not_run(tmp_path: Path) -> None:
    page = render_claims(tmp_path)
    assert "has not been run" in page
    assert "## Their own statistics" not in page
    assert "Heslin" in page  # the claims themselves are still cited
