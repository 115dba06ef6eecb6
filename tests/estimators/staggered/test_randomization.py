"""Randomisation inference for Callaway & Sant'Anna on a small hand-made panel.

Six units over eight periods: two start in period 4, two in period 6, two never; every
treated unit-period gains 2.0 over noise of SD 0.1. Its 6! / (2! 2! 2!) = 90 distinct
assignments are all enumerated, so the test is exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.estimators.did.randomization import (
    assignments,
    p_value,
    permutation_test_linear,
)
from evaltk.estimators.staggered import CallawaySantAnna, CSResult
from evaltk.estimators.staggered.permuted import AggregateRequest
from evaltk.estimators.staggered.randomization import (
    _Permuted,
    pre_square,
    randomization_inference,
)

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


SIMPLE = AggregateRequest("simple")


def test_enumerated_test_rejects_and_its_interval_covers_the_effect() -> None:
    data = _panel()
    result = _fit(data, "value")
    cache: dict[object, float] = {}
    out = randomization_inference(
        data,
        result.spec,
        SIMPLE,
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
        result.spec,
        SIMPLE,
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


def _refit_oracle(data, options, request, permutations, seed, level):  # type: ignore[no-untyped-def]
    """The test as it was computed before: a from-scratch C&S refit per assignment."""

    def fit(frame: pd.DataFrame, outcome: str) -> CSResult:
        return CallawaySantAnna(
            frame, outcome=outcome, unit="unit", time="t", group="g", **options
        ).fit()

    def headline(result: CSResult) -> float:
        return float(
            result.aggregate(request.type, min_e=request.min_e, max_e=request.max_e).estimate
        )

    units = data.drop_duplicates("unit").set_index("unit")["g"].sort_index()
    start = np.where(units.to_numpy() > 0, units.to_numpy(), np.inf).astype(float)

    def with_groups(assignment: np.ndarray) -> pd.DataFrame:
        groups = dict(
            zip(units.index, np.where(np.isfinite(assignment), assignment, 0), strict=True)
        )
        frame = data.copy()
        frame["g"] = frame["unit"].map(groups).astype(int)
        return frame

    def estimator(assignment: np.ndarray) -> np.ndarray:
        """Headline of the outcome, of the treatment indicator, and the pre-trend statistic."""
        frame = with_groups(assignment)
        frame["treated"] = ((data["g"] > 0) & (frame["t"] >= data["g"])).astype(float)
        value = fit(frame, "value")
        return np.array([headline(value), headline(fit(frame, "treated")), pre_square(value)])

    observed = fit(data, "value")
    obs = observed.aggregate(request.type, min_e=request.min_e, max_e=request.max_e)
    plan = assignments(start, permutations, seed)
    scale = obs.std_error if np.isfinite(obs.std_error) and obs.std_error > 0 else 1e-6
    test = permutation_test_linear(lambda a: estimator(a)[:2], start, plan, scale, level)
    squares = np.array([pre_square(fit(with_groups(row), "value")) for row in plan.starts])
    pre_p = p_value(pre_square(observed), squares[np.isfinite(squares)], plan.enumerated)
    return observed, obs, test, pre_p, plan, estimator


@pytest.mark.parametrize(
    ("options", "request_"),
    [
        ({"control_group": "not_yet_treated"}, AggregateRequest("simple")),
        (
            {"control_group": "not_yet_treated", "base_period": "universal"},
            AggregateRequest("dynamic", min_e=-3, max_e=2),
        ),
        ({"control_group": "not_yet_treated", "est_method": "reg"}, AggregateRequest("group")),
    ],
    ids=["simple", "universal base, dynamic", "reg, group"],
)
def test_reused_panel_gives_the_refit_results_bit_for_bit(options, request_) -> None:
    """The fast path (panel reshaped once, no refit) equals a refit per assignment exactly."""
    data = _panel()
    observed, obs, oracle, oracle_pre_p, plan, refit = _refit_oracle(
        data, options, request_, permutations=20, seed=3, level=0.9
    )
    out = randomization_inference(
        data,
        observed.spec,
        request_,
        observed,
        obs,
        permutations=20,
        seed=3,
        level=0.9,
    )
    assert out.test.p_value == oracle.p_value
    assert (out.test.ci_low, out.test.ci_high) == (oracle.ci_low, oracle.ci_high)
    assert out.pretrend.p_value == oracle_pre_p
    # And assignment by assignment, the estimates themselves are the same floats.
    fast = _Permuted(data, observed.spec, request_, {}, ())
    for row in plan.starts[:8]:
        headline_y, square = fast.of_y(row)
        y, d, refit_square = refit(row)
        assert headline_y == y and fast.of_d(row) == d
        assert square == refit_square or (np.isnan(square) and np.isnan(refit_square))
