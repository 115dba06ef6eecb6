"""The 2 × 2 estimators: closed forms, the logit, and influence functions checked by jackknife.

Without an outside reference for a single 2 × 2 comparison, the influence function is checked
against its definition: leaving unit i out changes the estimate by about
``-psi_i / (n - 1)``. The test compares exact leave-one-out changes with that, for every
estimator with covariates.
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from evaltk.errors import EstimationError
from evaltk.estimators.staggered.estimators import (
    _logit,
    did_2x2,
    did_2x2_unconditional,
    fit_nuisance,
)

from ._panel import simulate


def _comparison(seed: int = 3, n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dy, d, X (with intercept) for cohort 3 against never treated, base 2, period 4."""
    df = simulate(np.random.default_rng(seed), n=n, beta=0.3, gamma=0.8)
    wide = df.pivot(index="id", columns="t", values="y")
    unit = df.groupby("id")[["g", "x"]].first()
    keep = unit["g"].isin([0, 3]).to_numpy()
    dy = (wide[4] - wide[2]).to_numpy()[keep]
    d = (unit["g"] == 3).to_numpy()[keep]
    x = np.column_stack([np.ones(keep.sum()), unit["x"].to_numpy()[keep]])
    return dy, d, x


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_unconditional_equals_intercept_only(method: str) -> None:
    dy, d, _ = _comparison()
    ones = np.ones((len(d), 1))
    att, psi = did_2x2(method, dy, fit_nuisance(method, d, ones))
    est, psi_t, psi_c = did_2x2_unconditional(dy[d][:, None], dy[~d][:, None], len(d))
    assert est[0] == pytest.approx(att, abs=1e-12)
    np.testing.assert_allclose(psi_t[:, 0], psi[d], atol=1e-10)
    np.testing.assert_allclose(psi_c[:, 0], psi[~d], atol=1e-10)


def test_logit_matches_statsmodels() -> None:
    _, d, x = _comparison()
    ours = _logit(d.astype(float), x)
    ref = sm.Logit(d.astype(float), x).fit(disp=False).predict(x)
    np.testing.assert_allclose(ours, ref, rtol=1e-9)


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_influence_function_matches_jackknife(method: str) -> None:
    dy, d, x = _comparison(n=240)
    att, psi = did_2x2(method, dy, fit_nuisance(method, d, x))
    n = len(d)
    assert abs(psi.mean()) < 1e-8
    loo = np.empty(n)
    for i in range(n):
        keep = np.arange(n) != i
        loo[i] = did_2x2(method, dy[keep], fit_nuisance(method, d[keep], x[keep]))[0]
    change = (loo - att) * (n - 1)
    # First-order agreement: the remainder is O(1/n) relative to psi.
    assert np.corrcoef(change, -psi)[0, 1] > 0.995
    assert np.linalg.norm(change + psi) / np.linalg.norm(psi) < 0.08


def test_overlap_failure_is_an_error() -> None:
    rng = np.random.default_rng(1)
    x = np.column_stack([np.ones(60), np.r_[np.full(30, 5.0), rng.normal(size=30)]])
    d = np.r_[np.ones(30, bool), np.zeros(30, bool)]
    with pytest.raises(EstimationError, match=r"overlap|converge"):
        fit_nuisance("dr", d, x)


def test_collinear_covariates_are_an_error() -> None:
    _, d, x = _comparison()
    x = np.column_stack([x, 2 * x[:, 1]])
    with pytest.raises(EstimationError, match=r"singular|converge"):
        fit_nuisance("reg", d, x)
