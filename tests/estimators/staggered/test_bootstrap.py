"""Multiplier bootstrap: agreement with analytical errors, uniform bands, seeds, clustering.

With Rademacher (or Mammen) multipliers the bootstrap variance of an estimator equals the
analytical one exactly in expectation; the interquartile-range standard error then differs
from it only by Monte Carlo error, whose relative size with B draws is about
1.17 / sqrt(B) for a normal distribution (2.6 % at B = 2,000). We allow 10 %, about four
Monte Carlo standard deviations, over a panel of 2,000 units so that the draws are close to
normal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.errors import EstimationError
from evaltk.estimators.staggered import CallawaySantAnna
from evaltk.estimators.staggered.bootstrap import (
    bootstrap_se,
    multiplier_draws,
    quantile_type1,
)

from ._panel import simulate

B = 2000
MC_RTOL = 0.10


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return simulate(np.random.default_rng(21), n=2000)


@pytest.fixture(scope="module")
def model(data: pd.DataFrame) -> CallawaySantAnna:
    return CallawaySantAnna(data, outcome="y", unit="id", time="t", group="g")


@pytest.fixture(scope="module")
def analytic(model: CallawaySantAnna):  # type: ignore[no-untyped-def]
    return model.fit()


@pytest.fixture(scope="module")
def boot(model: CallawaySantAnna):  # type: ignore[no-untyped-def]
    return model.fit(bootstrap=True, n_boot=B, seed=7, cband=True)


def test_bootstrap_se_match_analytical(analytic, boot) -> None:  # type: ignore[no-untyped-def]
    a, b = analytic.to_frame(), boot.to_frame()
    np.testing.assert_allclose(b["att"], a["att"], rtol=0, atol=0)
    np.testing.assert_allclose(b["std_error"], a["std_error"], rtol=MC_RTOL)
    for t in ("simple", "group", "dynamic", "calendar"):
        x, y = analytic.aggregate(t), boot.aggregate(t)
        assert y.std_error == pytest.approx(x.std_error, rel=MC_RTOL), t
        np.testing.assert_allclose(y.levels["std_error"], x.levels["std_error"], rtol=MC_RTOL)


@pytest.mark.parametrize("multiplier", ["rademacher", "mammen"])
def test_draw_covariance_is_analytical(multiplier: str) -> None:
    rng = np.random.default_rng(5)
    inf = rng.standard_t(5, size=(500, 3)) @ np.array([[1, 0.5, 0], [0, 1, 0.3], [0, 0, 1]])
    draws = multiplier_draws(inf, n_boot=20_000, seed=1, multiplier=multiplier)
    expected = inf.T @ inf / 500**2
    # Monte Carlo sd of each covariance entry: about sqrt(V_ii V_jj / B) = 2.5e-5 here.
    mc_sd = np.sqrt(np.outer(np.diag(expected), np.diag(expected)) / 20_000)
    assert np.all(np.abs(np.cov(draws.T, bias=True) - expected) < 5 * mc_sd)
    assert abs(draws.mean(axis=0)).max() < 4 * np.sqrt(np.diag(expected).max() / 20_000)


def test_uniform_band_wider_than_pointwise(analytic, boot) -> None:  # type: ignore[no-untyped-def]
    assert boot.crit_val > 1.96
    pointwise, band = analytic.to_frame(), boot.to_frame()
    width_b = band["ci_high"] - band["ci_low"]
    width_p = boot.crit_val / 1.959964 * (pointwise["ci_high"] - pointwise["ci_low"])
    np.testing.assert_allclose(width_b, width_p, rtol=MC_RTOL)
    dyn = boot.aggregate("dynamic")
    assert dyn.cband and dyn.crit_val > 1.96
    levels = dyn.levels
    assert np.all(levels["ci_high"] - levels["ci_low"] > 2 * 1.96 * levels["std_error"])
    point = boot.aggregate("dynamic", cband=False)
    assert point.crit_val == pytest.approx(1.959964, abs=1e-5)


def test_sup_t_band_covers_jointly() -> None:
    # A band over 10 independent N(0,1) estimators has critical value near the 95 % quantile
    # of their maximum, z with 1 - 0.05/10 two-sided per column (about 2.80).
    rng = np.random.default_rng(8)
    inf = rng.normal(size=(4000, 10))
    draws = multiplier_draws(inf, n_boot=4000, seed=2)
    from evaltk.estimators.staggered.bootstrap import sup_t_critical

    se = bootstrap_se(draws, 4000, 4000)
    crit = sup_t_critical(draws, se, 0.95, 4000, 4000)
    assert 2.65 < crit < 2.95


def test_seed_reproducible(model: CallawaySantAnna) -> None:
    a = model.fit(bootstrap=True, n_boot=200, seed=3).to_frame()
    b = model.fit(bootstrap=True, n_boot=200, seed=3).to_frame()
    c = model.fit(bootstrap=True, n_boot=200, seed=4).to_frame()
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["std_error"], c["std_error"])


def test_band_needs_draws(analytic) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EstimationError, match="draws"):
        analytic.aggregate("dynamic", cband=True)


def test_band_without_bootstrap_keeps_analytical_se(model, analytic) -> None:  # type: ignore[no-untyped-def]
    res = model.fit(cband=True, n_boot=500)
    np.testing.assert_array_equal(res.to_frame()["std_error"], analytic.to_frame()["std_error"])
    assert res.crit_val > 1.96


def test_quantile_type1_is_r() -> None:
    x = np.arange(1.0, 11.0)[:, None]
    # R: quantile(1:10, c(.25, .5, .75, .95), type = 1) -> 3, 5, 8, 10
    assert [quantile_type1(x, p)[0] for p in (0.25, 0.5, 0.75, 0.95)] == [3, 5, 8, 10]


def test_cluster_by_unit_equals_default(data: pd.DataFrame, analytic) -> None:  # type: ignore[no-untyped-def]
    res = CallawaySantAnna(
        data.assign(c=data["id"] * 7), outcome="y", unit="id", time="t", group="g", cluster="c"
    ).fit()
    np.testing.assert_allclose(
        res.to_frame()["std_error"], analytic.to_frame()["std_error"], rtol=1e-12
    )
    assert res.aggregate("simple").std_error == pytest.approx(
        analytic.aggregate("simple").std_error, rel=1e-12
    )


def test_coarse_clusters(data: pd.DataFrame) -> None:
    clustered = data.assign(c=data["id"] // 20)
    model = CallawaySantAnna(clustered, outcome="y", unit="id", time="t", group="g", cluster="c")
    res = model.fit()
    assert res.n_clusters == 100
    boot = model.fit(bootstrap=True, n_boot=B, seed=1)
    np.testing.assert_allclose(boot.to_frame()["std_error"], res.to_frame()["std_error"], rtol=0.15)
    assert res.pretest.statistic is not None
