"""Coverage of the robust sets by simulation, where the violation of parallel trends lies on
the edge of the restriction (the least favourable place for the bound tested)."""

from __future__ import annotations

import numpy as np

from evaltk.estimators.sensitivity.relative_magnitudes import rm_tests
from evaltk.estimators.sensitivity.smoothness import sd_flci, trend_and_bends

LEVEL = 0.95


def _three_se(n: int) -> float:
    return 3 * float(np.sqrt(LEVEL * (1 - LEVEL) / n))


def test_relative_magnitudes_set_covers_at_nominal_level_on_the_restrictions_edge() -> None:
    # Pre-start changes 0.1 and 0.1; every post-start change exactly Mbar times that.
    n_pre, n_post, mbar = 2, 2, 1.0
    delta = np.array([-0.2, -0.1, 0.1, 0.2])
    tau = np.array([0.0, 0.0, 0.3, 0.3])
    l_vec = np.array([0.5, 0.5])
    theta = float(l_vec @ tau[n_pre:])
    rho = 0.3
    sigma = 0.05**2 * (rho * np.ones((4, 4)) + (1 - rho) * np.eye(4))
    rng = np.random.default_rng(20261202)
    draws = rng.multivariate_normal(delta + tau, sigma, size=400)
    tests = rm_tests(draws[0], sigma, n_pre, n_post, l_vec, mbar, LEVEL)
    covered = [any(t.accepts(theta, beta) for t in tests) for beta in draws]
    coverage = float(np.mean(covered))
    # 400 draws: 3 binomial standard errors below 95 % is 91.7 %.
    assert coverage >= LEVEL - _three_se(len(draws)), coverage


def test_smoothness_flci_covers_at_nominal_level_at_its_worst_case_bias() -> None:
    n_pre, n_post, m = 3, 2, 0.02
    l_vec = np.array([0.5, 0.5])
    rho = 0.3
    sigma = 0.05**2 * (rho * np.ones((5, 5)) + (1 - rho) * np.eye(5))
    tau = np.array([0, 0, 0, 0.25, 0.25])
    flci = sd_flci(np.zeros(5), sigma, n_pre, n_post, l_vec, m, LEVEL)
    weights = np.r_[flci.pre_weights, l_vec]
    # The bias path that attains the FLCI's worst case: every bend +-M, signed to push the
    # estimator one way, plus a linear trend (which the estimator removes exactly).
    u, B = trend_and_bends(n_pre, n_post)
    delta = B @ (m * np.sign(B.T @ weights)) + 0.05 * u
    assert abs(float(weights @ delta) - flci.max_bias) < 1e-6
    rng = np.random.default_rng(7)
    draws = rng.multivariate_normal(delta + tau, sigma, size=20_000)
    estimates = draws @ weights
    coverage = float(np.mean(np.abs(estimates - l_vec @ tau[n_pre:]) <= flci.half_length))
    # The FLCI is exact at its worst case: coverage 95 % within 3 binomial standard errors.
    assert abs(coverage - LEVEL) <= _three_se(len(draws)), coverage
