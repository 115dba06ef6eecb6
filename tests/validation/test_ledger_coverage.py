"""The ledger against the simulator's truth: the true ledger's definition, a small seeded
coverage study, and the book's record of the full one (book/validation/ledger_coverage.json,
written by ``bench/validation_checks.py --check ledger_coverage``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaltk.protocol.prices import unit_rates
from evaltk.protocol.spec import Protocol
from evaltk.simulate import SimulationConfig, truth
from evaltk.validation import ledger_coverage as study
from evaltk.validation.record import load_record
from evaltk.validation.true_ledger import effect_key, true_ledger

RECORD = Path(__file__).parents[2] / "book" / "validation" / "ledger_coverage.json"
NOTTS = "E23000019"


@pytest.fixture(scope="module")
def street_triage() -> Protocol:
    return study.template("street-triage-its.yaml")


def test_outcomes_map_to_the_simulators_effect_keys() -> None:
    full = {
        o.id: effect_key(o)
        for o in study.load_protocol(
            study.scaffold_root() / "protocols" / "street-triage-its.yaml"
        ).protocol.outcomes
    }
    assert full == {
        "s136_rate": "s136",
        "s136_custody": None,  # a place of safety: not an effect key
        "ae_conveyances": "ae_conveyance",
        "s136_to_ae_share": None,
        "ambulance_conveyances": "ambulance_conveyance",
        "hospital_wait_minutes": "hospital_wait_minutes",
        "onward_referrals": "referral",
        "repeat_28d": None,
        "missing_person_reports": "missing_person",
        "officer_minutes": "officer_minutes",
    }
    rcrp = study.template("right-care-right-person-cits.yaml")
    assert {o.id: effect_key(o) for o in rcrp.outcomes}["incident_rate"] == "incidents"


def test_true_ledger_is_truth_json_priced_by_the_ledgers_own_conversion(
    street_triage: Protocol,
) -> None:
    """The true ledger of the demo data equals truth.json's expected totals for
    Nottinghamshire's treated months (counterfactual minus with triage), times the unit
    costs as the ledger converts them; its totals follow the ledger's rules (hospital waits
    are part of officer minutes and stay out)."""
    config = SimulationConfig.preset("demo")
    known = truth(config)
    ledger = true_ledger(config, street_triage)
    assert ledger.force_months == 45  # 2016-04 to 2019-12
    assert ledger.missing == ()
    outcomes = {o.id: o for o in street_triage.outcomes}
    for line in ledger.lines:
        by_force = known["effects"][line.key]["by_force"][NOTTS]
        averted = by_force["expected_counterfactual"] - by_force["expected_treated"]
        assert line.averted == pytest.approx(averted, abs=0.01), line.outcome
        cost = outcomes[line.outcome].cost
        assert cost is not None
        hours, pounds = unit_rates(cost, line.unit, street_triage.decision.price_year)
        assert (line.hours, line.pounds) == (line.averted * hours, line.averted * pounds)
    lines = {line.outcome: line for line in ledger.lines}
    assert lines["hospital_wait_minutes"].unit == "minutes"
    assert not lines["hospital_wait_minutes"].in_net
    assert ledger.police_hours_released == pytest.approx(lines["officer_minutes"].averted / 60)
    assert ledger.net_pounds == pytest.approx(
        sum(line.pounds for line in ledger.lines if line.outcome != "hospital_wait_minutes")
    )
    # The story: fewer detentions (saved), more A&E conveyances and referrals (added).
    assert lines["s136_rate"].averted > 0 > lines["ae_conveyances"].averted
    assert lines["ambulance_conveyances"].averted == pytest.approx(0.0, abs=1e-6)


def test_seeded_study_the_s136_line_covers_once_the_counterfactual_moves(
    street_triage: Protocol,
) -> None:
    """30 seeded datasets (about 10 s): the s136 line's 95 % interval contains the true
    detentions averted in at least 25 (83 %). Holding the counterfactual fixed at its estimate
    (the ledger before issue 13's check) scaled the interval by the ratio, 0.7: 200 datasets
    then gave 79 % (and 91 % with the counterfactual moving). With 30 datasets at a true 91 %,
    fewer than 25 has probability about 6 %; at 79 %, at least 25 about 37 %."""
    found = study.replicates(street_triage, 30)
    covered = sum(r.line_covered("s136_rate") for r in found)
    assert covered >= 25
    # Every dataset's net interval is the ledger's; the truth sits inside most of them.
    assert np.mean([r.covered("net_pounds") for r in found]) >= 0.8


def test_the_books_record_is_current_and_applies_the_criterion_as_written(
    street_triage: Protocol,
) -> None:
    """The record's criterion is the issue's (90 % to 99 % over at least 200 datasets), its
    verdicts are its numbers against it, and its mean true values are those of the current
    simulator, truth and unit costs for the same seeds (a stale record fails here)."""
    record = load_record(RECORD)
    assert record.command.endswith("bench/validation_checks.py --check ledger_coverage")
    assert len(record.requirements) == len(study.TEMPLATES) * len(study.TOTALS)
    for requirement in record.requirements:
        assert requirement.bound == "between 0.9 and 0.99"
        assert requirement.met == (0.90 <= requirement.value <= 0.99)
    table = record.tables[0]
    rows = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    label = study.TEMPLATES["street-triage-its.yaml"]
    held = [r for r in rows if r["template"] == label]
    assert held and all(isinstance(r["datasets"], int) and r["datasets"] >= 200 for r in held)
    diagnostic = [r for r in rows if r["template"] in study.DIAGNOSTIC.values()]
    assert diagnostic and len(held) + len(diagnostic) == len(rows)
    assert all(r["datasets"] == study.DIAGNOSTIC_REPLICATES for r in diagnostic)
    n = int(held[0]["datasets"])  # type: ignore[arg-type]
    truths = [
        true_ledger(SimulationConfig.preset("demo", seed=study.SEED_BASE + i), street_triage)
        for i in range(n)
    ]
    for total in study.TOTALS:
        row = next(r for r in rows if r["template"] == label and r["total"] == total)
        expected = float(np.mean([getattr(t, total) for t in truths]))
        assert row["mean true value"] == pytest.approx(expected, abs=0.051), total
