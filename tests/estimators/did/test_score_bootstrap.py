"""The Poisson score bootstrap: its statistic against statsmodels' score test, and its tests.

Reference: the cluster-robust score (LM) statistic of Boos (1992) assembled from statsmodels'
own score contributions and Hessian of the full Poisson model at the restricted estimate,
``S' H^-1 R' (R H^-1 Omega H^-1 R')^-1 R H^-1 S`` with ``Omega`` the sum of outer products of
cluster score sums. Tolerance 1e-6 relative (two routes through the same linear algebra).
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from evaltk.estimators.did.score_bootstrap import PoissonScoreBootstrap
from evaltk.estimators.did.wild_bootstrap import draw_weights


def _poisson(n: int = 400, g: int = 10, seed: int = 3):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    cl = np.repeat(np.arange(g), n // g)
    Z = np.column_stack([np.ones(n), rng.normal(size=n)])
    d = (cl < 4) * (np.arange(n) % (n // g) > 15).astype(float)
    offset = np.log(rng.uniform(50, 150, size=n))
    mu = np.exp(offset - 3 + 0.3 * Z[:, 1] + rng.normal(0, 0.2, g)[cl])
    return rng.poisson(mu).astype(float), np.column_stack([d, Z]), offset, cl


def test_score_statistic_matches_the_robust_lm_from_statsmodels_pieces() -> None:
    y, X, offset, cl = _poisson()
    boot = PoissonScoreBootstrap(y, X, offset, cl)
    s = boot.scores([0], 0.0)[:, 0]
    ours = s.sum() ** 2 / (s @ s)
    restricted = sm.GLM(y, X[:, 1:], family=sm.families.Poisson(), offset=offset).fit()
    full = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset)
    params = np.r_[0.0, restricted.params]
    psi = full.score_obs(params)
    sums = np.array([psi[cl == g].sum(axis=0) for g in np.unique(cl)])
    H_inv = np.linalg.inv(full.hessian(params))
    S = psi.sum(axis=0)
    R = np.eye(X.shape[1])[[0]]
    middle = R @ H_inv @ (sums.T @ sums) @ H_inv @ R.T
    ref = float(S @ H_inv @ R.T @ np.linalg.solve(middle, R @ H_inv @ S))
    assert ours == pytest.approx(ref, rel=1e-6)


def test_identity_draw_counts_and_p_in_range() -> None:
    y, X, offset, cl = _poisson()
    boot = PoissonScoreBootstrap(y, X, offset, cl)
    weights = draw_weights(10, 9999, "rademacher")  # 1,024 patterns: enumerated
    test = boot.t_test(0, weights)
    assert test.enumerated and 2 / 1024 <= test.p_value <= 1
    fit = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit(
        cov_type="cluster", cov_kwds={"groups": cl}
    )
    with_ci = boot.t_test(0, weights, level=0.9, estimate=fit.params[0], se=fit.bse[0])
    assert with_ci.ci_low < fit.params[0] < with_ci.ci_high
    joint = boot.wald_test([0, 2], weights)
    assert 0 < joint.p_value <= 1 and joint.statistic > 0
