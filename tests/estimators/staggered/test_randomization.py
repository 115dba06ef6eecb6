"""Randomisation inference for Callaway & Sant'Anna on a small hand-made panel.

Six units over eight periods: two start in period 4, two in period 6, two never; every
treated unit-period gains 2.0 over noise of SD 0.1. Its 6! / (2! 2! 2!) = 90 distinct
assignments are all enumerated, so the test is exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.estimators.staggered import CallawaySantAnna, CSResult
from evaltk.estimators.staggered.randomization import pre_square, randomization_inference

EFFECT = 2.0


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    groups = {"a": 4, "b": 4, "c": 6, "d": 6, "e": 0, "f": 0}
    rows = []
    for unit, g in groups.items():
        level = rng.normal()
        for t in range(1, 9):
            treated = g > 0 and t >= g
            value = level + 0.1 * t + EFFECT * treated + rng.normal(scale=0.1)
            rows.append({"unit": unit, "t": t, "g": g, "value": value})
    return pd.DataFrame(rows)


def _fit(data: pd.DataFrame, outcome: str) -> CSResult:
    return CallawaySantAnna(
        data, outcome=outcome, unit="unit", time="t", group="g", control_group="not_yet_treated"
    ).fit()


def _simple(result: CSResult):  # type: ignore[no-untyped-def]
    return result.aggregate("simple")


def test_enumerated_test_rejects_and_its_interval_covers_the_effect() -> None:
    data = _panel()
    result = _fit(data, "value")
    cache: dict[object, float] = {}
    out = randomization_inference(
        data,
        _fit,
        _simple,
        result,
        _simple(result),
        permutations=999,
        seed=1,
        level=0.9,
        cache=cache,
        cache_key="options",
    )
    test = out.test
    assert test.enumerated and test.n_distinct == 90
    # The observed assignment is the most extreme of the 90 (ties allowed).
    assert test.p_value <= 3 / 90
    assert test.ci_low < EFFECT < test.ci_high
    assert out.pretrend.computed and 0 < out.pretrend.p_value <= 1
    assert out.pretrend.statistic == pytest.approx(pre_square(result))
    # The treatment indicator's aggregates are cached once per assignment and reused.
    assert len(cache) == 90
    again = randomization_inference(
        data,
        _fit,
        _simple,
        result,
        _simple(result),
        permutations=999,
        seed=1,
        level=0.9,
        cache=cache,
        cache_key="options",
    )
    assert len(cache) == 90
    assert again.test.p_value == test.p_value
