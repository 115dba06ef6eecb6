"""Verdict calibration by simulation (the issue's bounds), 100 seeded datasets per scenario.

Scenarios, settings and seeds are :mod:`evaltk.validation.calibration`'s: the nine Midlands
forces at full scale summed into one series, 2014-2023, triage from January 2019, six
outcomes, ITS model 'gls', the protocol's default decision rules. Bounds (from the issue): the
verdict matches the truth in >= 90 % of each scenario's datasets; Resolves under displacement in
<= 5 %; under no effect, a verdict other than No detectable change or Inconclusive in <= 5 %.
The book's record of the same study (book/validation/verdict_calibration.json, written by
``bench/validation_checks.py --check verdict_calibration``) must show the same matrix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaltk.validation import calibration

RECORD = Path(__file__).resolve().parents[2] / "book" / "validation" / "verdict_calibration.json"


@pytest.fixture(scope="module")
def matrix():
    labels = calibration.verdicts(range(calibration.SEEDS_PER_SCENARIO), "gls")
    return calibration.confusion(labels)


def test_verdicts_meet_the_calibration_bounds(matrix) -> None:
    print(matrix.round(3).to_string())
    requirements = calibration.calibration_requirements(matrix)
    for requirement in requirements:
        print(f"{requirement.claim}: {requirement.value} ({requirement.bound})")
    assert len(requirements) == 6
    assert all(r.met for r in requirements), [r for r in requirements if not r.met]


def test_the_book_record_shows_this_matrix(matrix) -> None:
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    table = record["tables"][0]
    columns = table["columns"][1:]
    for row in table["rows"]:
        scenario, shares = row[0], row[1:]
        for column, share in zip(columns, shares, strict=True):
            expected = float(matrix.loc[scenario, column]) if column in matrix.columns else 0.0
            assert share == pytest.approx(expected, abs=5e-4), (scenario, column)
    assert f"{calibration.SEEDS_PER_SCENARIO} datasets per scenario" in record["description"]
