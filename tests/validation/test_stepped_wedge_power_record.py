"""The stepped-wedge power record (bench/validation_checks.py --check stepped_wedge_power): it
was made with the current settings, its trials are what the code computes, its numbers meet
the bounds, and its layout is the example trial's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evaltk.protocol.load import load_protocol
from evaltk.validation import stepped_wedge_power as check

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "book" / "validation" / "stepped_wedge_power.json"


@pytest.fixture(scope="module")
def record() -> dict:  # type: ignore[type-arg]
    return json.loads(RECORD.read_text(encoding="utf-8"))


def test_record_is_current(record: dict) -> None:  # type: ignore[type-arg]
    assert record["command"].endswith("bench/validation_checks.py --check stepped_wedge_power")
    settings = {row[0]: row[1] for row in record["tables"][1]["rows"]}
    assert settings == {"settings hash": check.settings_hash(), "check version": check.VERSION}


def test_numbers_meet_the_bounds(record: dict) -> None:  # type: ignore[type-arg]
    powered = np.array(record["replicates"]["stated_effect"], dtype=float)
    null = np.array(record["replicates"]["no_effect"], dtype=float)
    assert powered.size == null.size == check.BENCH_REPLICATES
    power = float(np.mean(powered <= check.ALPHA + 1e-12))
    size = float(np.mean(null <= check.ALPHA + 1e-12))
    # SE of the difference between the trials' rate and the stated 80 %.
    se = np.hypot(
        np.sqrt(0.8 * 0.2 / check.BENCH_REPLICATES), np.sqrt(0.8 * 0.2 / check.POWER_REPLICATES)
    )
    assert abs(power - check.TARGET) <= 2 * se
    assert size <= check.NULL_BOUND
    # 400 trials put the 80 % claim within +-0.045 and the null's 5 % one SE (0.011) from 6.5 %.
    assert 2 * se < 0.05
    first = record["tables"][0]["rows"]
    assert first[0][3] == pytest.approx(round(power, 4)) and first[1][3] == pytest.approx(size)
    assert all(r["met"] for r in record["requirements"])


def test_recorded_trials_are_reproduced_from_their_seeds(record: dict) -> None:  # type: ignore[type-arg]
    effect = record["tables"][0]["rows"][0][0]
    for seed in (0, 1):
        expected = record["replicates"]["stated_effect"][seed]
        assert check.trial_p_value(seed, effect) == pytest.approx(expected, abs=1e-9)
        expected = record["replicates"]["no_effect"][seed]
        assert check.trial_p_value(1_000_000 + seed, 1.0) == pytest.approx(expected, abs=1e-9)


def test_layout_is_the_example_trials() -> None:
    protocol = load_protocol(ROOT / "analyses" / "example-stepped-wedge").protocol
    trial = protocol.design.trial
    assert trial is not None and trial.schedule is not None
    assert tuple(trial.names) == check.NAMES
    assert tuple(c.population for c in trial.clusters) == check.POPULATIONS
    assert tuple(trial.schedule[n] for n in trial.names) == check.SCHEDULE
    assert tuple(tuple(trial.names[i] for i in g) for g in check.TOGETHER) == tuple(
        tuple(g) for g in trial.together
    )
    assert trial.restricted is not None and trial.restricted.max_imbalance == check.MAX_IMBALANCE
    assert (trial.steps, trial.step_months, protocol.seed) == (
        check.STEPS,
        check.STEP_MONTHS,
        check.SEED,
    )
    assert protocol.design.stepped_wedge.permutations == check.PERMUTATIONS
