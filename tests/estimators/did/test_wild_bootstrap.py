"""The restricted wild cluster bootstrap against references.

* Draw by draw against statsmodels: every bootstrap t (and Wald) statistic of the fast algorithm
  equals the one statsmodels' CR1 covariance gives after re-fitting the bootstrap sample, to
  1e-10 (floating-point rounding of two algebraically equal routes).
* Against wildboottest 0.3.2 (PyPI) on a fixed dataset (reference/: data, script, output):
  with full enumeration the p-values differ by exactly the two patterns v = +-1, which
  reproduce the sample (|t*| = |t|); evaltk counts those ties, wildboottest's strict ``<`` does
  not. With 9,999 random Webb draws they agree within Monte Carlo error (4 standard errors of
  the difference of two independent estimates).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaltk.errors import EstimationError
from evaltk.estimators.did.wild_bootstrap import (
    WEBB_POINTS,
    LinearWCR,
    draw_weights,
    invert,
    resolve_weights,
)

REFERENCE = Path(__file__).parent / "reference"


def _data(g: int = 8, n: int = 240, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cl = np.repeat(np.arange(g), n // g)
    X = np.column_stack(
        [np.ones(n), rng.normal(size=n), (cl < 3) * rng.normal(size=n) + rng.normal(size=g)[cl]]
    )
    y = X @ [1.0, 0.5, 0.1] + rng.normal(size=n) + rng.normal(size=g)[cl]
    return y, X, cl


def _brute_force_t(y, X, cl, R, r, weights, boot=None):  # type: ignore[no-untyped-def]
    """Re-fit every bootstrap sample and take statsmodels' CR1 t statistic."""
    A = np.linalg.inv(X.T @ X)
    beta = A @ X.T @ y
    beta_r = beta - A @ R / (R @ A @ R) * (R @ beta - r)
    u_r = y - X @ beta_r
    codes = cl if boot is None else boot
    out = []
    for b in range(weights.draws):
        ystar = X @ beta_r + u_r * weights.values[codes, b]
        fit = sm.OLS(ystar, X).fit(cov_type="cluster", cov_kwds={"groups": cl})
        out.append((R @ fit.params - r) / np.sqrt(R @ fit.cov_params() @ R))
    return np.array(out)


def test_fast_algorithm_equals_refitting_every_draw() -> None:
    y, X, cl = _data()
    R, r = np.array([0.0, 0.0, 1.0]), 0.05
    weights = draw_weights(8, 200, "webb", seed=3)
    engine = LinearWCR(y, X, cl)
    curve = engine._curve(R, weights)
    fast = (curve.n0 - r * curve.n1) / np.sqrt(curve.q0 - 2 * r * curve.q1 + r * r * curve.q2)
    np.testing.assert_allclose(fast, _brute_force_t(y, X, cl, R, r, weights), rtol=1e-10)
    fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": cl})
    t_obs = (fit.params[2] - r) / fit.bse[2]
    assert engine.t_test(R, weights, r).statistic == pytest.approx(t_obs, rel=1e-10)
    assert engine.t_test(R, weights, r).p_value == np.mean(np.abs(fast) >= abs(t_obs) * (1 - 1e-9))


def test_subcluster_bootstrap_equals_refitting_every_draw() -> None:
    y, X, cl = _data(g=4, n=240)
    boot = cl * 3 + np.tile(np.repeat(np.arange(3), 20), 4)  # 12 subclusters in 4 clusters
    R = np.array([0.0, 1.0, 0.0])
    weights = draw_weights(12, 100, "rademacher", seed=5)
    curve = LinearWCR(y, X, cl, boot)._curve(R, weights)
    fast = curve.n0 / np.sqrt(curve.q0)
    _, codes = np.unique(boot, return_inverse=True)
    np.testing.assert_allclose(fast, _brute_force_t(y, X, cl, R, 0.0, weights, codes), rtol=1e-10)


def test_joint_wald_equals_refitting_every_draw() -> None:
    y, X, cl = _data()
    Rm, r = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), np.array([0.5, 0.0])
    weights = draw_weights(8, 9999, "rademacher")  # 256 patterns: enumerated
    test = LinearWCR(y, X, cl).wald_test(Rm, weights, r)
    A = np.linalg.inv(X.T @ X)
    beta = A @ X.T @ y
    a = A @ Rm.T
    beta_r = beta - a @ np.linalg.solve(Rm @ a, Rm @ beta - r)
    u_r = y - X @ beta_r

    def wald(yy: np.ndarray) -> float:
        fit = sm.OLS(yy, X).fit(cov_type="cluster", cov_kwds={"groups": cl})
        d = Rm @ fit.params - r
        return float(d @ np.linalg.solve(Rm @ fit.cov_params() @ Rm.T, d))

    boot = np.array([wald(X @ beta_r + u_r * weights.values[cl, b]) for b in range(256)])
    observed = wald(y)
    assert test.statistic == pytest.approx(observed, rel=1e-10)
    assert test.p_value == np.mean(boot >= observed * (1 - 1e-9))


def test_full_enumeration_is_exact_and_seed_independent() -> None:
    y, X, cl = _data(g=6)
    R = np.array([0.0, 0.0, 1.0])
    engine = LinearWCR(y, X, cl)
    tests = [engine.t_test(R, draw_weights(6, 9999, "rademacher", seed=s)) for s in (1, 2, 3)]
    assert all(t.enumerated and t.draws == 64 for t in tests)
    assert len({t.p_value for t in tests}) == 1
    assert tests[0].p_value * 64 == pytest.approx(round(tests[0].p_value * 64))
    w = draw_weights(4, 9999, "webb")
    assert w.enumerated and w.draws == 6**4
    assert set(np.unique(w.values)) == set(WEBB_POINTS)


def test_weights_choice_and_draws() -> None:
    assert resolve_weights(5, 9999) == "webb"  # 2**5 = 32 patterns: too few
    assert resolve_weights(14, 9999) == "rademacher"
    assert resolve_weights(5, 9999, "rademacher") == "rademacher"
    random = draw_weights(20, 999, "rademacher", seed=7)
    assert not random.enumerated and random.values.shape == (20, 999)
    np.testing.assert_array_equal(random.values, draw_weights(20, 999, "rademacher", 7).values)
    assert set(np.unique(random.values)) == {-1.0, 1.0}


def test_interval_inverts_the_test() -> None:
    y, X, cl = _data(g=12, n=360)
    R = np.array([0.0, 1.0, 0.0])
    weights = draw_weights(12, 9999, "rademacher", seed=1)
    engine = LinearWCR(y, X, cl)
    test = engine.t_test(R, weights, level=0.95)
    curve = engine._curve(R, weights)
    step = 1e-5
    assert curve.p_value(test.ci_low + step) > 0.05 >= curve.p_value(test.ci_low - step)
    assert curve.p_value(test.ci_high - step) > 0.05 >= curve.p_value(test.ci_high + step)
    assert test.ci_low < engine.beta[1] < test.ci_high


def test_invert_reports_unbounded_intervals() -> None:
    low, high = invert(lambda r: 0.5, 0.0, 1.0, 0.05)
    assert (low, high) == (-np.inf, np.inf)


def test_engine_errors() -> None:
    y, X, cl = _data()
    with pytest.raises(EstimationError, match="collinear"):
        LinearWCR(y, np.column_stack([X, X[:, 1]]), cl)
    with pytest.raises(EstimationError, match="at least 2 clusters"):
        LinearWCR(y, X, np.zeros(len(y)))
    with pytest.raises(EstimationError, match="rows for"):
        LinearWCR(y, X, cl).t_test(np.array([0, 1.0, 0]), draw_weights(5, 99))
    with pytest.raises(EstimationError, match="needs more than 9 clusters"):
        LinearWCR(y, X, cl).wald_test(np.eye(3)[[0, 1, 2] * 3], draw_weights(8, 99))
    with pytest.raises(EstimationError, match="nested"):
        LinearWCR(y, X, cl, np.arange(len(y)) % 3)


@pytest.mark.reference
def test_matches_wildboottest_reference() -> None:
    data = pd.read_csv(REFERENCE / "wildboottest_data.csv")
    reference = json.loads((REFERENCE / "wildboottest_reference.json").read_text())
    X = np.column_stack([np.ones(len(data)), data["x1"], data["x2"]])
    for case in reference["cases"]:
        cl = data["cluster"] // 2 if case["clusters"] == "cluster // 2" else data["cluster"]
        engine = LinearWCR(data["y"].to_numpy(), X, cl.to_numpy())
        weights = draw_weights(engine.n_clusters, case["B"], case["weights"], seed=1)
        test = engine.t_test(np.array([0.0, 1.0, 0.0]), weights)
        assert test.statistic == pytest.approx(case["statistic"], rel=1e-9)
        if weights.enumerated:
            # the two tie patterns v = +-1 are the whole difference
            assert test.p_value - case["p_value"] == pytest.approx(2 / weights.draws, abs=1e-12)
        else:
            p = case["p_value"]
            se = np.sqrt(2 * p * (1 - p) / case["B"])
            assert abs(test.p_value - p) <= 4 * se


@pytest.mark.skipif(
    importlib.util.find_spec("wildboottest") is None,
    reason="wildboottest is not installed (it needs numba; see bench/)",
)
def test_matches_wildboottest_live() -> None:  # pragma: no cover - optional peer
    from wildboottest.wildboottest import wildboottest

    y, X, cl = _data(g=10, n=400, seed=9)
    model = sm.OLS(y, pd.DataFrame(X, columns=["c", "x1", "x2"]))
    ref = wildboottest(
        model, B=9999, cluster=cl, param="x2", weights_type="rademacher", seed=1, show=False
    )
    test = LinearWCR(y, X, cl).t_test(np.array([0, 0, 1.0]), draw_weights(10, 9999))
    assert test.p_value - float(ref["p-value"].iloc[0]) == pytest.approx(2 / 1024, abs=1e-12)
