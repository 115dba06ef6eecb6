"""Verdict calibration by simulation (the issue's bounds), 100 seeded datasets per scenario.

Scenarios, settings and seeds are :mod:`evaltk.validation.calibration`'s: the nine Midlands
forces at full scale summed into one series, 2014-2023, triage from January 2019, six
outcomes, ITS model 'gls', the protocol's default decision rules. Bounds (from the issue): the
verdict matches the truth in >= 90 % of each scenario's datasets; Resolves under displacement in
<= 5 %; under no effect, a verdict other than No detectable change or Inconclusive in <= 5 %.

The whole study (1,200 verdicts, about three minutes on one core) is run by
``bench/validation_checks.py --check verdict_calibration``, which writes the book's record
(book/validation/verdict_calibration.json) with every dataset's verdict. These tests check
that record: its tables and requirements follow from its verdicts, the bounds hold, and a
sample of datasets recomputed now gets the verdict the record holds (so a change to the
simulator, the models or the rules that moves any verdict makes the record stale and fails).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltk.validation import calibration
from evaltk.validation.record import CheckRecord, load_record

RECORD = Path(__file__).resolve().parents[2] / "book" / "validation" / "verdict_calibration.json"

#: Datasets recomputed per study and scenario: first, middle and last seed of the gls study
#: (whose requirements are the issue's bounds), one seed of each contrast study.
SPOT_SEEDS = {"gls": (0, 50, 99), "glm": (7,), "gls_east_midlands": (13,)}


@pytest.fixture(scope="module")
def record() -> CheckRecord:
    return load_record(RECORD)


def _labels(record: CheckRecord, study: str) -> dict[str, list[str]]:
    found = calibration.study_labels(record.replicates, study)  # type: ignore[arg-type]
    return {name: [str(label) for label in labels] for name, labels in found.items()}


def test_the_record_holds_every_dataset_of_every_study(record: CheckRecord) -> None:
    seeds = calibration.SEEDS_PER_SCENARIO
    assert f"{seeds} datasets per scenario" in record.description
    for study in calibration.STUDIES:
        for name, labels in _labels(record, study).items():
            assert len(labels) == seeds, (study, name)


def test_the_record_tables_are_its_verdicts_counted(record: CheckRecord) -> None:
    for table, study in zip(record.tables, calibration.STUDIES, strict=True):
        matrix = calibration.confusion(_labels(record, study))
        columns = table.columns[1:]
        for row in table.rows:
            scenario, shares = row[0], row[1:]
            for column, share in zip(columns, shares, strict=True):
                expected = float(matrix.loc[scenario, column]) if column in matrix else 0.0
                assert share == pytest.approx(expected, abs=5e-4), (study, scenario, column)


def test_verdicts_meet_the_calibration_bounds(record: CheckRecord) -> None:
    matrix = calibration.confusion(_labels(record, "gls"))
    requirements = calibration.calibration_requirements(matrix)
    for requirement in requirements:
        print(f"{requirement.claim}: {requirement.value} ({requirement.bound})")
    assert len(requirements) == 6
    assert all(r.met for r in requirements), [r for r in requirements if not r.met]
    assert [r.model_dump() for r in record.requirements] == [r.model_dump() for r in requirements]


@pytest.mark.parametrize("study", list(SPOT_SEEDS))
def test_recomputed_datasets_get_the_recorded_verdict(record: CheckRecord, study: str) -> None:
    model, forces = calibration.STUDIES[study]
    spec = calibration.protocol(model)
    recorded = _labels(record, study)
    for name, (effects, _) in calibration.SCENARIOS.items():
        for seed in SPOT_SEEDS[study]:
            label = calibration.verdict(
                spec, effects, calibration.scenario_seed(name, seed), forces
            )
            assert label == recorded[name][seed], (study, name, seed)
