from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaltk.estimators.its import ITSModel, ITSSpec

from ._series import poisson_series


@pytest.fixture(scope="module")
def sim():
    return poisson_series(seed=11)


def test_recovers_level_effect_and_trend(sim) -> None:
    res = ITSModel(sim.series, sim.start, ITSSpec(family="poisson", harmonics=1)).fit()
    assert res.effect.ci_low < 0.7 < res.effect.ci_high
    assert res.effect.estimate == pytest.approx(0.7, abs=0.05)
    assert res.trend_per_year.estimate == pytest.approx(np.exp(12 * 0.003), abs=0.02)
    assert res.effect.scale == "ratio" and res.slope_effect is None


def test_fit_does_not_mutate_input(sim) -> None:
    frame = sim.series.assign(exposure=np.linspace(1e5, 1.1e5, len(sim.series)))
    before = frame.copy(deep=True)
    model = ITSModel(frame, sim.start, ITSSpec(slope_change=True, washout_months=2))
    model.fit()
    pd.testing.assert_frame_equal(frame, before)


def test_hac_changes_standard_errors_not_estimates(sim) -> None:
    plain = ITSModel(sim.series, sim.start).fit()
    hac = ITSModel(sim.series, sim.start, ITSSpec(hac=True)).fit()
    pd.testing.assert_series_equal(plain.params, hac.params)
    assert not np.allclose(plain.bse, hac.bse)
    assert hac.diagnostics["cov_type"] == "HAC"
    assert hac.diagnostics["hac_lags"] == 3  # default_hac_lags(84)
    assert plain.diagnostics["hac_lags"] is None


def test_conf_int_matches_statsmodels_at_any_level(sim) -> None:
    model = ITSModel(sim.series, sim.start)
    res = model.fit()
    direct = sm.GLM(
        sim.series["y"].to_numpy(), model.exog.to_numpy(), family=sm.families.Poisson()
    ).fit(scale="X2")
    for level in (0.8, 0.95, 0.99):
        np.testing.assert_allclose(
            res.conf_int(level).to_numpy(), direct.conf_int(alpha=1 - level), rtol=1e-9
        )
    np.testing.assert_allclose(res.pvalues.to_numpy(), direct.pvalues, rtol=1e-9)
    assert res.dispersion == pytest.approx(direct.scale, rel=1e-12)


def test_negative_binomial_recovers_known_effect() -> None:
    sim = poisson_series(seed=5, n_pre=60, n_post=48, nb_alpha=0.05)
    res = ITSModel(sim.series, sim.start, ITSSpec(family="negative_binomial")).fit()
    assert res.effect.ci_low < 0.7 < res.effect.ci_high
    assert res.effect.estimate == pytest.approx(0.7, abs=0.07)
    assert 0.01 < res.diagnostics["alpha"] < 0.15
    assert res.diagnostics["aic"] is not None
    assert res.dispersion == pytest.approx(1.0, abs=0.4)  # NB2 Pearson residuals


def test_gaussian_reports_differences_equal_to_ols(sim) -> None:
    model = ITSModel(sim.series, sim.start, ITSSpec(family="gaussian", slope_change=True))
    res = model.fit()
    ols = sm.OLS(sim.series["y"].to_numpy(), model.exog.to_numpy()).fit()
    np.testing.assert_allclose(res.params.to_numpy(), ols.params, rtol=1e-8)
    np.testing.assert_allclose(res.bse.to_numpy(), ols.bse, rtol=1e-8)
    assert res.effect.scale == "difference"
    assert res.effect.estimate == pytest.approx(ols.params[2])
    assert res.trend_per_year.estimate == pytest.approx(12 * ols.params[1])
    assert res.slope_effect.estimate == pytest.approx(ols.params[3])
    assert res.diagnostics["aic"] is not None


def test_counterfactual_equals_fitted_before_the_intervention(sim) -> None:
    res = ITSModel(sim.series, sim.start, ITSSpec(slope_change=True)).fit()
    cf = res.counterfactual
    assert list(cf.columns) == [
        "period",
        "observed",
        "fitted",
        "counterfactual",
        "cf_low",
        "cf_high",
        "post",
        "in_fit",
    ]
    pre = cf[~cf["post"]]
    np.testing.assert_allclose(pre["counterfactual"], pre["fitted"], rtol=1e-12)
    assert (cf["cf_low"] < cf["counterfactual"]).all()
    assert (cf["counterfactual"] < cf["cf_high"]).all()
    assert cf.loc[cf["period"] == sim.start, "post"].item()


def test_level_only_relative_effect_is_exactly_the_rate_ratio(sim) -> None:
    res = ITSModel(sim.series, sim.start).fit()
    rel, eff = res.relative_effect, res.effect
    assert rel.estimate == pytest.approx(eff.estimate - 1, rel=1e-10)
    assert rel.ci_low == pytest.approx(eff.ci_low - 1, rel=1e-10)
    assert rel.ci_high == pytest.approx(eff.ci_high - 1, rel=1e-10)
    assert rel.p_value == pytest.approx(eff.p_value, rel=1e-8)


def test_cumulative_interval_contains_true_averted(sim) -> None:
    res = ITSModel(sim.series, sim.start, ITSSpec(family="poisson", harmonics=1)).fit()
    post = res.counterfactual["post"].to_numpy()
    cum = res.cumulative
    true_model = (sim.mu_counterfactual - sim.mu_treated)[post].sum()
    true_observed = sim.mu_counterfactual[post].sum() - sim.series["y"].to_numpy()[post].sum()
    assert cum.averted_model_ci_low < true_model < cum.averted_model_ci_high
    assert cum.averted_ci_low < true_observed < cum.averted_ci_high
    assert cum.months == post.sum()
    assert cum.observed == sim.series["y"].to_numpy()[post].sum()


def test_cumulative_delta_method_matches_parametric_simulation(sim) -> None:
    # The delta-method standard error of sum(cf) - sum(fitted) is hand-derived; check it against
    # draws from the coefficients' normal sampling distribution (5% agreement at 40k draws).
    model = ITSModel(sim.series, sim.start, ITSSpec(slope_change=True))
    res = model.fit()
    post = res.counterfactual["post"].to_numpy()
    x = model.exog.to_numpy()[post]
    x_cf = x.copy()
    x_cf[:, 2:4] = 0.0
    draws = np.random.default_rng(0).multivariate_normal(res.params, res.cov_params, 40_000)
    averted = np.exp(draws @ x_cf.T).sum(axis=1) - np.exp(draws @ x.T).sum(axis=1)
    cum = res.cumulative
    delta_se = (cum.averted_model_ci_high - cum.averted_model_ci_low) / (2 * 1.959964)
    assert averted.std() == pytest.approx(delta_se, rel=0.05)


def test_washout_excluded_from_fit_and_sums(sim) -> None:
    model = ITSModel(sim.series, sim.start, ITSSpec(washout_months=4))
    res = model.fit()
    cf = res.counterfactual
    keep = cf["in_fit"].to_numpy()
    assert cf.loc[~keep, "period"].tolist() == list(pd.date_range(sim.start, periods=4, freq="MS"))
    assert res.diagnostics["n_fit"] == len(cf) - 4
    assert res.cumulative.months == cf["post"].sum() - 4
    assert res.cumulative.observed == cf.loc[keep & cf["post"], "observed"].sum()
    direct = sm.GLM(
        sim.series["y"].to_numpy()[keep], model.exog.to_numpy()[keep], family=sm.families.Poisson()
    ).fit(scale="X2")
    np.testing.assert_allclose(res.params.to_numpy(), direct.params, rtol=1e-10)


def test_month_seasonality_and_diagnostics(sim) -> None:
    res = ITSModel(sim.series, sim.start, ITSSpec(seasonality="month")).fit()
    d = res.diagnostics
    assert "month_12" in res.params.index
    assert d["ljung_box_lags"] == 12 and 0 <= d["ljung_box_p"] <= 1
    assert 0 < d["durbin_watson"] < 4
    assert d["aic"] is None  # quasi-Poisson has no likelihood
    assert (d["n_pre"], d["n_post"]) == (48, 36)
