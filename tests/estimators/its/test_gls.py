"""ITS model 'gls': log rate by GLS, Poisson + white + AR(1) errors by REML, Satterthwaite t.

The REML objective is checked against an independent definition (the Gaussian likelihood of
error contrasts ``K'z`` with ``K'X = 0``), its gradient against finite differences, and the
test's size and coverage by simulation from a known data-generating process with fixed seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import linalg, optimize, stats

from evaltk.errors import EstimationError
from evaltk.estimators.its import ITSModel, ITSSpec
from evaltk.estimators.its.gls import (
    LagTables,
    error_covariance,
    fit_gls_ar1,
    month_lags,
    negative_reml,
)
from evaltk.protocol.spec import ITSOptions

START = pd.Timestamp("2019-01-01")
N_MONTHS = 120


def _design(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A log-rate-like series with AR(1) (rho 0.6) and white errors, and a washout gap."""
    rng = np.random.default_rng(seed)
    time = np.r_[1:58, 61:121].astype(float)  # a three-month washout gap
    x = np.column_stack([np.ones(time.size), time / 12, time >= 61, np.sin(2 * np.pi * time / 12)])
    ar = np.empty(120)
    ar[0] = rng.normal(0, 0.05)
    for t in range(1, 120):
        ar[t] = 0.6 * ar[t - 1] + rng.normal(0, 0.05 * np.sqrt(1 - 0.36))
    noise = ar[time.astype(int) - 1] + rng.normal(0, 0.03, time.size)
    z = x @ [1.0, 0.02, -0.1, 0.05] + noise
    return z, x, time


def test_reml_objective_is_the_likelihood_of_error_contrasts() -> None:
    z, x, time = _design()
    lag, known = month_lags(time), np.full(time.size, 0.001)
    contrasts = linalg.null_space(x.T)  # K with K'X = 0, orthonormal columns

    def independent(theta: tuple[float, float, float]) -> float:
        cov = contrasts.T @ error_covariance(lag, known, *theta) @ contrasts
        return -2.0 * stats.multivariate_normal(cov=cov).logpdf(contrasts.T @ z)

    def ours(theta: tuple[float, float, float]) -> float:
        s2w, s2a, rho = theta
        u = np.array([np.log(s2w), np.log(s2a), np.arctanh(rho)])
        return negative_reml(u, z, x, LagTables(lag), known)[0]

    a, b = (0.001, 0.002, 0.5), (0.0005, 0.004, 0.8)
    # Equal up to a constant that does not depend on the variance parameters.
    assert ours(a) - ours(b) == pytest.approx(independent(a) - independent(b), rel=1e-8)


def test_reml_gradient_matches_finite_differences() -> None:
    z, x, time = _design(1)
    lag, known = month_lags(time), np.full(time.size, 0.0008)
    u = np.array([np.log(0.0012), np.log(0.003), np.arctanh(0.6)])
    analytic = negative_reml(u, z, x, LagTables(lag), known)[1]
    numeric = optimize.approx_fprime(
        u, lambda v: negative_reml(v, z, x, LagTables(lag), known)[0], 1e-6
    )
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-3)


def test_fit_finds_the_reml_optimum_and_gls_coefficients() -> None:
    z, x, time = _design(2)
    known = np.full(time.size, 0.0005)
    fit = fit_gls_ar1(z, x, time, known)
    lag = month_lags(time)
    u_hat = np.array([np.log(fit.s2_white), np.log(fit.s2_ar), np.arctanh(fit.rho)])
    best = negative_reml(u_hat, z, x, LagTables(lag), known)[0]
    rng = np.random.default_rng(0)
    for _ in range(50):  # no nearby point is better
        assert (
            negative_reml(u_hat + rng.normal(0, 0.2, 3), z, x, LagTables(lag), known)[0]
            >= best - 1e-6
        )
    sigma = error_covariance(lag, known, fit.s2_white, fit.s2_ar, fit.rho)
    inv = np.linalg.inv(sigma)
    gls = np.linalg.solve(x.T @ inv @ x, x.T @ inv @ z)
    np.testing.assert_allclose(fit.params, gls, rtol=1e-10)
    np.testing.assert_allclose(fit.cov, np.linalg.inv(x.T @ inv @ x), rtol=1e-8)


def test_satterthwaite_df_uses_the_derivative_of_the_contrast_variance() -> None:
    """g_i = d(c' Phi c)/d theta_i, checked by finite differences in (v, s2a, rho) with
    v = s2w + s2a (the parametrisation of the free variance parameters in the interior)."""
    z, x, time = _design(3)
    known = np.full(time.size, 0.0005)
    fit = fit_gls_ar1(z, x, time, known)
    assert len(fit.derivatives) == 3, "this series should have all three parameters free"
    lag, c = month_lags(time), np.array([0.0, 0.0, 1.0, 0.0])

    def contrast_variance(theta: np.ndarray) -> float:
        v, s2a, rho = theta
        sigma = error_covariance(lag, known, v - s2a, s2a, rho)
        return float(c @ np.linalg.inv(x.T @ np.linalg.solve(sigma, x)) @ c)

    theta = np.array([fit.s2_white + fit.s2_ar, fit.s2_ar, fit.rho])
    numeric = optimize.approx_fprime(theta, contrast_variance, theta * 1e-5)
    phi = fit.cov
    analytic = np.array([-(c @ phi @ p @ phi @ c) for p in fit.derivatives])
    np.testing.assert_allclose(analytic, numeric, rtol=1e-3)
    expected = 2 * (c @ phi @ c) ** 2 / (analytic @ fit.information_inverse @ analytic)
    assert fit.contrast_df(c) == pytest.approx(expected, rel=1e-10)
    assert 2 < fit.contrast_df(c) < 200


def _counts(seed: int, ratio: float, rho: float = 0.5, sd: float = 0.05) -> pd.DataFrame:
    """A regional-size monthly count: trend, season, AR(1) log noise, white noise, Poisson."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2014-01-01", periods=N_MONTHS, freq="MS")
    t = np.arange(N_MONTHS)
    ar = np.empty(N_MONTHS)
    ar[0] = rng.normal(0, sd)
    for i in range(1, N_MONTHS):
        ar[i] = rho * ar[i - 1] + rng.normal(0, sd * np.sqrt(1 - rho**2))
    log_mu = (
        np.log(1500)
        + 0.03 * t / 12
        + 0.08 * np.cos(2 * np.pi * (periods.month - 7) / 12)
        + ar
        + rng.normal(0, 0.02, N_MONTHS)
        + np.log(ratio) * (periods >= START)
    )
    return pd.DataFrame({"period": periods, "y": rng.poisson(np.exp(log_mu)).astype(float)})


@pytest.fixture(scope="module")
def null_studies() -> dict[str, np.ndarray]:
    """p-values of the level change in 200 null series, GLS and the GLM with AR(1)."""
    p = {"gls": [], "glm_ar1": []}
    for seed in range(200):
        series = _counts(seed, 1.0)
        p["gls"].append(ITSModel(series, START, ITSSpec(model="gls")).fit().effect.p_value)
        p["glm_ar1"].append(ITSModel(series, START, ITSSpec(ar1=True)).fit().effect.p_value)
    return {k: np.array(v) for k, v in p.items()}


def test_gls_level_test_has_the_right_size(null_studies) -> None:
    # 200 replicates: Monte Carlo SE of a 5 % rate is 1.5 %; the bound allows 2 SE above.
    gls = float(np.mean(null_studies["gls"] < 0.05))
    glm = float(np.mean(null_studies["glm_ar1"] < 0.05))
    print(f"rejects at 5 %: gls {gls:.3f}, glm with AR(1) working correlation {glm:.3f}")
    assert gls <= 0.08
    assert gls < glm  # the reason the model exists: the GLM's AR(1) sandwich over-rejects


def test_gls_interval_covers_the_true_ratio() -> None:
    covered = 0
    for seed in range(150):
        effect = ITSModel(_counts(1000 + seed, 0.8), START, ITSSpec(model="gls")).fit().effect
        covered += effect.ci_low <= 0.8 <= effect.ci_high
    print(f"coverage of the true ratio 0.8: {covered / 150:.3f}")
    assert 0.91 <= covered / 150 <= 0.99


def test_gls_result_uses_t_and_reports_its_parameters() -> None:
    res = ITSModel(_counts(7, 0.8), START, ITSSpec(model="gls")).fit()
    d = res.diagnostics
    df = d["gls_df"]
    assert 2 < df < 1e6 and res.effect.df == df
    half_width = np.log(res.effect.ci_high) - np.log(res.effect.estimate)
    assert half_width == pytest.approx(stats.t.ppf(0.975, df) * res.effect.std_error, rel=1e-9)
    assert d["gls_s2_white"] >= 0 and d["gls_s2_ar"] > 0 and -1 < d["ar1_rho"] < 1
    assert res.error_covariance is not None and res.error_covariance.shape == (N_MONTHS,) * 2
    assert "Satterthwaite" in res.summary() and "t quantile" in res.summary()
    # The counterfactual is the mean (lognormal correction) of the no-intervention model.
    cf = res.counterfactual
    assert np.all(cf["cf_low"] < cf["counterfactual"]) and np.all(
        cf["counterfactual"] < cf["cf_high"]
    )


def test_zero_count_is_refused_with_the_months() -> None:
    series = _counts(3, 1.0)
    series.loc[[5, 9], "y"] = 0.0
    with pytest.raises(
        EstimationError, match=r"2 fitted month\(s\) have none \(2014-06, 2014-10\)"
    ):
        ITSModel(series, START, ITSSpec(model="gls")).fit()


def test_gls_excludes_other_error_models() -> None:
    with pytest.raises(EstimationError, match="drop hac and ar1"):
        ITSSpec(model="gls", ar1=True)
    with pytest.raises(ValueError, match="drop hac and ar1"):
        ITSOptions(model="gls", hac=True)


def test_glm_default_is_left_out_of_the_protocol_hash() -> None:
    assert "model" not in ITSOptions().model_dump()
    assert ITSOptions(model="gls").model_dump()["model"] == "gls"
