"""Journey shares against the simulator's true journeys: the book's record of the coverage
study (book/validation/journey_coverage.json, written by ``bench/validation_checks.py --check
journey_coverage``) is current and its verdicts are its numbers."""

from __future__ import annotations

from pathlib import Path

from evaltk.simulate import truth
from evaltk.validation import journey_coverage as study
from evaltk.validation.record import load_record

RECORD = Path(__file__).parents[2] / "book" / "validation" / "journey_coverage.json"


def test_the_truth_is_the_configured_journey():
    known = truth(study.config(study.SEED_BASE))["journeys"]
    assert known["missing_within_24h_of_s136"]["share"] == 0.15
    assert known["missing_within_72h_of_admission"]["share"] == 0.10


def test_the_record_is_current_and_meets_the_requirement():
    record = load_record(RECORD)
    assert record.command.endswith("bench/validation_checks.py --check journey_coverage")
    counts = record.replicates["counts"]
    assert len(counts) == study.REPLICATES == 200
    # The first two datasets, measured again now, give the recorded counts (a stale record,
    # after a change to the simulator or the measures, fails here).
    for i in range(2):
        assert study.replicate(study.SEED_BASE + i) == counts[i]
    # The tables and verdicts are those of the recorded counts.
    tables, requirements = study.summarise(counts)  # type: ignore[arg-type]
    assert [t.rows for t in tables] == [t.rows for t in record.tables]
    assert requirements == record.requirements
    assert len(requirements) == 4 and all(r.bound == "between 0.9 and 0.99" for r in requirements)
    assert all(r.met and 0.90 <= r.value <= 0.99 for r in requirements)
    # Detentions per dataset: enough that a 95 % interval is informative (about +-0.035).
    assert all(row[0] > 0 and row[1] >= 300 for row in ([c[0], c[1]] for c in counts))
