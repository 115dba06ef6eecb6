"""The two simplex solvers against scipy's general constrained minimiser on random problems."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from evaltk.estimators.synthetic.adh import simplex_least_squares
from evaltk.estimators.synthetic.simplex import frank_wolfe, sparsify, two_stage


def _slsqp(a: np.ndarray, b: np.ndarray, zeta: float, intercept: bool) -> np.ndarray:
    # The same objective as frank_wolfe, by SLSQP, tightly.
    if intercept:
        a, b = a - a.mean(axis=0), b - b.mean()
    n, k = a.shape

    def objective(x: np.ndarray) -> float:
        r = a @ x - b
        return float(r @ r / n + zeta**2 * x @ x)

    found = minimize(
        objective,
        np.full(k, 1.0 / k),
        method="SLSQP",
        bounds=[(0.0, 1.0)] * k,
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1.0}],
        options={"ftol": 1e-14, "maxiter": 2000},
    )
    return np.asarray(found.x)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("intercept", [True, False])
def test_frank_wolfe_reaches_the_ridge_optimum(seed: int, intercept: bool) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(15, 8)).cumsum(axis=0)
    b = a[:, :3].mean(axis=1) + rng.normal(0, 0.5, 15)
    zeta = 0.8
    ours = frank_wolfe(a, b, zeta, intercept=intercept, min_decrease=1e-8, max_iter=20_000)
    theirs = _slsqp(a, b, zeta, intercept)
    assert ours.weights.sum() == pytest.approx(1.0) and (ours.weights >= 0).all()
    # Strictly convex with a ridge: one optimum, reached by both.
    assert np.abs(ours.weights - theirs).max() < 1e-3
    # The objective never rises along the way.
    assert (np.diff(ours.objective) <= 1e-12).all()


def test_sparsify_drops_weights_at_or_below_a_quarter_of_the_largest() -> None:
    out = sparsify(np.array([0.4, 0.1, 0.3, 0.2]))
    assert out == pytest.approx([0.4 / 0.9, 0.0, 0.3 / 0.9, 0.2 / 0.9])


def test_two_stage_ends_no_worse_than_it_started() -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(size=(20, 10))
    b = rng.normal(size=20)
    fit = two_stage(a, b, 0.5, intercept=True, start=None, min_decrease=1e-9, max_iter=5000)
    assert fit.weights.sum() == pytest.approx(1.0)
    assert fit.iterations >= 2


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_simplex_least_squares_matches_slsqp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(12, 9)) * 50
    b = a @ rng.dirichlet(np.ones(9)) + rng.normal(0, 5, 12)
    ours = simplex_least_squares(a, b)
    theirs = _slsqp(a, b, 0.0, intercept=False)
    assert ours.sum() == pytest.approx(1.0, abs=1e-12) and (ours >= 0).all()
    res = lambda w: float(np.sum((a @ w - b) ** 2))  # noqa: E731
    assert res(ours) <= res(theirs) * (1 + 1e-9) + 1e-9
