"""The stepped-wedge size record (bench/validation_checks.py --check stepped_wedge_size): the
randomisation test rejects a true null at 5 % in at most 6.5 % of simulated trials, with
enough trials for that bound to mean something, and its trials are what the code computes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evaltk.validation.stepped_wedge_size import (
    ALPHA,
    BOUND,
    RATES,
    needed_replicates,
    null_p_value,
)

RECORD = Path(__file__).resolve().parents[3] / "book" / "validation" / "stepped_wedge_size.json"


@pytest.fixture(scope="module")
def record() -> dict:  # type: ignore[type-arg]
    return json.loads(RECORD.read_text(encoding="utf-8"))


def test_enough_trials_for_the_bound() -> None:
    # 6.5 % two Monte Carlo SEs above 5 %: n >= 4 x 0.05 x 0.95 / 0.015^2 = 845.
    assert needed_replicates() == 845


def test_every_model_rejects_a_true_null_at_most_6_5_percent(record: dict) -> None:  # type: ignore[type-arg]
    assert set(record["replicates"]) == set(RATES)
    for model, p_values in record["replicates"].items():
        p = np.array(p_values, dtype=float)
        assert p.size >= needed_replicates()
        rate = float(np.mean(p <= ALPHA + 1e-12))
        assert rate <= BOUND, model
        # An exact test does not reject far less often either (3 Monte Carlo SEs below).
        assert rate >= ALPHA - 3 * np.sqrt(ALPHA * (1 - ALPHA) / p.size), model
        claim = next(r for r in record["requirements"] if r["claim"].startswith(model))
        assert claim["met"] and claim["value"] == pytest.approx(round(rate, 4))


@pytest.mark.parametrize("model", list(RATES))
def test_recorded_trials_are_reproduced_from_their_seeds(record: dict, model: str) -> None:  # type: ignore[type-arg]
    for seed in (0, 1, 2):
        assert null_p_value(seed, model) == pytest.approx(record["replicates"][model][seed])
