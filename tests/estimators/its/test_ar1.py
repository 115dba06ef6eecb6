"""The AR(1) working-correlation covariance (``ITSSpec(ar1=True)``).

Coverage on the project's simulator (200 seeds, Nottinghamshire alone at full scale, 120 months
2014-2023, street triage from April 2016, true referral rate ratio 1.25, quasi-Poisson with two
Fourier pairs and no exposure): model-based 0.860, AR(1) 0.930. At these counts (~500 a month)
the simulator's AR(1) month-to-month noise dominates the Poisson noise, so the independence
covariance is too small; the mean bias-corrected rho is about 0.22.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from evaltk.errors import EstimationError
from evaltk.estimators.its import ITSModel, ITSSpec
from evaltk.estimators.its.covariance import (
    ar1_covariance,
    bias_corrected_rho,
    lag1_autocorrelation,
)
from evaltk.simulate import SimulationConfig, simulate_series

from ._series import poisson_series

NOTTS = "E23000019"
REPLICATES = 200


@pytest.fixture(scope="module")
def sim():
    return poisson_series(seed=11)


def test_rho_zero_is_the_quasi_poisson_model_based_covariance(sim) -> None:
    model = ITSModel(sim.series, sim.start)
    res = model.fit()
    x, y = model.exog.to_numpy(), sim.series["y"].to_numpy()
    direct = sm.GLM(y, x, family=sm.families.Poisson()).fit(scale="X2")
    mu = res.counterfactual["fitted"].to_numpy()
    cov = ar1_covariance(x, mu, model.exog["time"].to_numpy(), res.dispersion, rho=0.0)
    np.testing.assert_allclose(cov, direct.cov_params(), rtol=1e-8)


def test_rho_zero_is_the_ols_nonrobust_covariance(sim) -> None:
    model = ITSModel(sim.series, sim.start, ITSSpec(family="gaussian", slope_change=True))
    res = model.fit()
    x, y = model.exog.to_numpy(), sim.series["y"].to_numpy(dtype=float)
    ols = sm.OLS(y, x).fit()
    cov = ar1_covariance(x, np.ones(len(y)), model.exog["time"].to_numpy(), res.dispersion, rho=0.0)
    np.testing.assert_allclose(cov, ols.cov_params(), rtol=1e-8)
    assert res.dispersion == pytest.approx(ols.scale, rel=1e-12)


@pytest.mark.parametrize("rho", [0.6, -0.3])
def test_gaussian_equals_ols_sandwich_under_ar1_errors(rho: float) -> None:
    rng = np.random.default_rng(3)
    time = np.r_[1:31, 34:61]  # months 31-33 are a washout: lags count calendar months
    x = np.column_stack([np.ones(time.size), time, time >= 31, np.sin(2 * np.pi * time / 12)])
    x = x + np.c_[np.zeros(time.size), rng.normal(0, 0.1, (time.size, 3))]
    sigma2 = 2.5
    big_sigma = np.array([[sigma2 * rho ** abs(int(t - s)) for s in time] for t in time])
    xtx_inv = np.linalg.inv(x.T @ x)
    textbook = xtx_inv @ x.T @ big_sigma @ x @ xtx_inv
    cov = ar1_covariance(x, np.ones(time.size), time, sigma2, rho)
    np.testing.assert_allclose(cov, textbook, rtol=1e-10)


def test_lag1_autocorrelation_skips_pairs_across_a_gap() -> None:
    r = np.array([1.0, 2.0, -1.0, 3.0])
    assert lag1_autocorrelation(r, np.array([1, 2, 3, 4])) == pytest.approx((2 - 2 - 3) / 15)
    assert lag1_autocorrelation(r, np.array([1, 2, 5, 6])) == pytest.approx((2 - 3) / 15)
    assert lag1_autocorrelation(np.zeros(4), np.arange(4)) == 0.0


def test_bias_correction_and_bounds() -> None:
    assert bias_corrected_rho(0.2, 100) == pytest.approx(0.2 + 1.6 / 100)
    assert bias_corrected_rho(0.94, 50) == 0.95
    assert bias_corrected_rho(-0.99, 1000) == -0.95


def test_fit_uses_the_ar1_covariance_everywhere(sim) -> None:
    spec = ITSSpec(ar1=True, slope_change=True, washout_months=2)
    model = ITSModel(sim.series, sim.start, spec)
    res = model.fit()
    plain = ITSModel(sim.series, sim.start, ITSSpec(slope_change=True, washout_months=2)).fit()
    pd.testing.assert_series_equal(res.params, plain.params)
    diag = res.diagnostics
    assert diag["cov_type"] == "AR1" and diag["hac_lags"] is None
    n_fit = diag["n_fit"]
    assert diag["ar1_rho"] == pytest.approx(bias_corrected_rho(diag["ar1_rho_hat"], n_fit))
    rows = res.counterfactual["in_fit"].to_numpy()
    exog = model.exog.loc[rows]
    cov = ar1_covariance(
        exog.to_numpy(),
        res.counterfactual["fitted"].to_numpy()[rows],
        exog["time"].to_numpy(),
        res.dispersion,
        diag["ar1_rho"],
    )
    np.testing.assert_allclose(res.cov_params.to_numpy(), cov, rtol=1e-12)
    np.testing.assert_allclose(res.bse.to_numpy(), np.sqrt(np.diag(cov)), rtol=1e-12)
    z = res.params / res.bse
    np.testing.assert_allclose(res.pvalues, 2 * stats.norm.sf(np.abs(z)), rtol=1e-10)
    level = res.params["level"]
    se = res.bse["level"]
    assert res.effect.std_error == pytest.approx(se)
    assert np.log(res.effect.ci_low) == pytest.approx(level - 1.959963984540054 * se)
    assert "AR(1) working correlation" in res.summary()
    assert plain.diagnostics["ar1_rho"] is None
    # The band and the sums changed with the covariance.
    assert not np.allclose(res.counterfactual["cf_low"], plain.counterfactual["cf_low"])
    assert res.cumulative.averted_ci_low != plain.cumulative.averted_ci_low
    assert res.to_dict()["spec"]["ar1"] is True


@pytest.mark.parametrize("family", ["poisson", "negative_binomial", "gaussian"])
def test_other_families_fit_with_ar1(family: str) -> None:
    sim = poisson_series(seed=5, n_pre=60, n_post=48, nb_alpha=0.05)
    res = ITSModel(sim.series, sim.start, ITSSpec(family=family, ar1=True)).fit()
    assert res.diagnostics["cov_type"] == "AR1"
    assert np.all(np.isfinite(res.bse)) and np.all(res.bse > 0)


def test_hac_and_ar1_are_exclusive() -> None:
    with pytest.raises(EstimationError, match="hac and ar1 are both set"):
        ITSSpec(hac=True, ar1=True)
    with pytest.raises(EstimationError, match="ar1 must be true or false"):
        ITSSpec(ar1=1)  # type: ignore[arg-type]


def test_ar1_restores_coverage_on_the_project_simulator(
    record_property: pytest.RecordProperty,
) -> None:
    config = SimulationConfig.preset(
        "region", forces=(NOTTS,), starts={NOTTS: "2016-04"}, effects={"referral": 1.25}
    )
    truth = config.effects["referral"]
    start = pd.Timestamp("2016-04-01")
    specs = {"model": ITSSpec(harmonics=2), "ar1": ITSSpec(harmonics=2, ar1=True)}
    hits = dict.fromkeys(specs, 0)
    for seed in range(REPLICATES):
        months = simulate_series(config.model_copy(update={"seed": seed})).sort_values("period")
        series = pd.DataFrame(
            {"period": months["period"].to_numpy(), "y": months["referral"].to_numpy(float)}
        )
        for name, spec in specs.items():
            effect = ITSModel(series, start, spec).fit().effect
            hits[name] += effect.ci_low <= truth <= effect.ci_high
    coverage = {name: n / REPLICATES for name, n in hits.items()}
    record_property("coverage_model_based", coverage["model"])
    record_property("coverage_ar1", coverage["ar1"])
    print(
        f"95% coverage of the true referral ratio over {REPLICATES} seeds: "
        f"model-based {coverage['model']:.3f}, AR(1) {coverage['ar1']:.3f}"
    )
    assert 0.90 <= coverage["ar1"] <= 0.99, coverage
