"""Stepped-wedge power: the closed form against published formulae, the batched fit against
statsmodels, the simulation against the closed form, and components from history."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltk.errors import PowerError
from evaltk.power.stepped_wedge import (
    SteppedWedgePowerSettings,
    closed_form_variance,
    draw_log_rates,
    settings_from_history,
    simulate_sw_cell,
    sw_power_analysis,
)
from evaltk.power.sw_closed import (
    Components,
    components,
    gls_variance,
    hussey_hughes_variance,
    schedule,
    z_power,
)
from evaltk.power.sw_fit import fit_stepped_wedge
from evaltk.power.sw_history import estimate_components


def _woertman_variance(steps: int, per_step: int, n: int, icc: float) -> float:
    """Var(theta-hat) from the design effect of Woertman et al. (2013), J Clin Epidemiol
    66:752-758, eq. 1 (one baseline measurement, one measurement per step):
    DE = (1 + rho(ktn + bn - 1)) / (1 + rho(ktn/2 + bn - 1)) * 3(1 - rho) / (2t(k - 1/k)),
    and clusters = DE * N / n, so Var = 4 sigma^2 DE / (clusters * n) with sigma^2 = 1."""
    k, b, t, rho = steps, 1, 1, icc
    de = (1 + rho * (k * t * n + b * n - 1)) / (1 + rho * (0.5 * k * t * n + b * n - 1))
    de *= 3 * (1 - rho) / (2 * t * (k - 1 / k))
    return 4 * de / (steps * per_step * n)


@pytest.mark.parametrize(
    ("steps", "per_step", "n", "icc"),
    [(4, 6, 20, 0.05), (5, 2, 50, 0.1), (3, 4, 10, 0.2), (6, 1, 100, 0.01)],
)
def test_hussey_hughes_reference(steps: int, per_step: int, n: int, icc: float) -> None:
    """Reference: Hussey & Hughes (2007, Contemp Clin Trials 28:182, eq. 8) reproduced by two
    independent published routes, to 10 significant figures (the task asks 3): the GLS matrix
    form (X'V^-1X)^-1 (Hussey & Hughes' eq. 7; swCRTdesign's swPwr and SteppedPower compute
    it), and the design effect of Woertman et al. (2013), which Hemming & Taljaard (2016,
    J Clin Epidemiol 69:137) show equals it for the standard design."""
    x = schedule(steps * per_step, steps)
    sigma2 = (1 - icc) / n  # individual variance 1 - icc over n per cluster-period
    tau2 = icc
    hh = hussey_hughes_variance(x, sigma2, tau2)
    assert gls_variance(x, sigma2, tau2) == pytest.approx(hh, rel=1e-10)
    assert _woertman_variance(steps, per_step, n, icc) == pytest.approx(hh, rel=1e-10)


@pytest.mark.parametrize(
    ("size", "steps", "design_effect", "sample_size"),
    [(10, 4, 0.535, 440), (20, 3, 0.767, 660), (20, 4, 0.572, 480)],
)
def test_published_design_effects_and_sample_sizes(
    size: int, steps: int, design_effect: float, sample_size: int
) -> None:
    """Reference: Kristunas et al. (2017), Trials 18:109, Table 2, rows "Woertman et al.",
    equal cluster sizes (CV = 0): the design effect and the total sample size of a standard
    stepped wedge (one baseline period, one period a step) with `size` people a cluster-period
    and `steps` steps, to the 3 significant figures printed. An ICC of 0.05 and a standardised
    difference of 0.2 at 80 % power, 5 % two-sided, are the settings that give all six
    printed values (as we read the paper's design). From Hussey & Hughes' variance:
    DE = Var * clusters * size / 4 (total variance 1), and the sample size is the fewest
    clusters, a multiple of the steps, whose power reaches 80 %, times `size`."""
    icc, difference = 0.05, 0.2
    x = schedule(steps, steps)
    variance = hussey_hughes_variance(x, (1 - icc) / size, icc)
    assert round(variance * steps * size / 4, 3) == design_effect
    clusters = steps
    while (
        float(
            z_power(
                difference,
                hussey_hughes_variance(schedule(clusters, steps), (1 - icc) / size, icc),
                0.05,
            )
        )
        < 0.8
    ):
        clusters += steps
    assert clusters * size == sample_size


def test_hussey_hughes_example_of_swcrtdesign() -> None:
    """swCRTdesign's Example 1 of swPwr (the design of Hussey & Hughes' Section 4: 24 clusters
    in 4 steps, 120 per cluster-period, 5 % against 3.5 %, tau 0.01; binomial variance at the
    mean of the two proportions). No printed value of this example was found to compare with,
    so this pins the arithmetic of its inputs: sigma^2 = 0.0425 * 0.9575 / 120."""
    x = schedule(24, 4)
    assert x.shape == (24, 5) and x.sum(axis=0).tolist() == [0, 6, 12, 18, 24]
    p = (0.05 + 0.035) / 2
    sigma2 = p * (1 - p) / 120
    variance = hussey_hughes_variance(x, sigma2, 0.01**2)
    assert gls_variance(x, sigma2, 0.01**2) == pytest.approx(variance, rel=1e-12)
    power = float(z_power(0.015, variance, 0.05))
    # The same power from the variance by hand: Phi(0.015 / se - 1.96) + Phi(-0.015 / se - 1.96)
    from scipy import stats

    se = np.sqrt(variance)
    by_hand = stats.norm.cdf(0.015 / se - 1.959964) + stats.norm.cdf(-0.015 / se - 1.959964)
    assert power == pytest.approx(by_hand, abs=1e-6)
    assert 0.5 < power < 1


def test_cluster_autocorrelation_splits_the_between_cluster_variance() -> None:
    """ICC and CAC give back the components they were built from; with CAC 0 every
    between-cluster part is cluster-period noise, so the variance is Hussey & Hughes' with
    tau^2 = 0 and the residual grown by it: sigma^2 I / (IU - W)."""
    for icc, cac, m in ((0.1, 1.0, 50.0), (0.2, 0.5, 500.0), (0.05, 0.0, 20.0)):
        parts = components(icc, cac, m)
        assert parts.icc(m) == pytest.approx(icc) and parts.cac == pytest.approx(cac)
    x = schedule(12, 4)
    parts = components(0.2, 0.0, 50.0)
    sigma2 = parts.gamma2 + 1 / 50
    n_clusters = x.shape[0]
    by_hand = sigma2 * n_clusters / (n_clusters * x.sum() - np.sum(x.sum(axis=0) ** 2))
    assert gls_variance(x, sigma2, parts.tau2) == pytest.approx(by_hand, rel=1e-12)


def test_batched_fit_is_mixedlm_reml() -> None:
    """The batched REML fit gives statsmodels MixedLM's estimate and variance ratio; its SE is
    the GLS one, (X'V^-1X)^-1 at MixedLM's components (statsmodels' own bse comes from the
    Hessian of the REML likelihood and is larger, most at the boundary tau^2 = 0)."""
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(11)
    x = schedule(12, 4)
    n_clusters, n_periods = x.shape
    z = (
        0.3 * x[None]
        + rng.normal(0, 0.4, (5, n_clusters, 1))
        + 0.05 * np.arange(n_periods)
        + rng.normal(0, 0.5, (5, n_clusters, n_periods))
    )
    fits = fit_stepped_wedge(z, x)
    for r in range(5):
        frame = pd.DataFrame(
            {
                "y": z[r].ravel(),
                "c": np.repeat(np.arange(n_clusters), n_periods),
                "p": np.tile(np.arange(n_periods), n_clusters),
                "x": x.ravel(),
            }
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = smf.mixedlm("y ~ C(p) + x", frame, groups=frame["c"]).fit(reml=True)
        tau2, sigma2 = float(model.cov_re.iloc[0, 0]), float(model.scale)
        assert fits.estimate[r] == pytest.approx(model.params["x"], abs=1e-5)
        assert fits.ratio[r] == pytest.approx(tau2 / sigma2, rel=1e-3, abs=1e-6)
        assert fits.std_error[r] == pytest.approx(np.sqrt(gls_variance(x, sigma2, tau2)), rel=1e-4)


def _gaussian(**changes: object) -> SteppedWedgePowerSettings:
    values: dict[str, object] = dict(
        clusters=(24,),
        steps=(4,),
        mean_count=60.0,
        icc=0.2,
        cac=0.8,
        trend=0.01,
        effects=(0.9, 1.0),
        family="gaussian",
        replicates=2000,
        seed=7,
    )
    values.update(changes)
    return SteppedWedgePowerSettings(**values)  # type: ignore[arg-type]


def test_closed_form_and_simulation_agree() -> None:
    """Gaussian log rates from the closed form's own model (24 clusters, 4 steps), 2,000
    replicates (MC SE at most 0.011): the REML z test rejects at the closed form's power
    within 3 Monte Carlo SE, and a true null at most 0.05 + 3 SE (the z test ignores that the
    components are estimated; with 24 clusters that costs under one SE)."""
    settings = _gaussian()
    for effect in (0.9, 1.0):
        cell = simulate_sw_cell(settings, effect, (24, 4))
        se = np.sqrt(cell.closed_form * (1 - cell.closed_form) / cell.replicates)
        assert abs(cell.z_test_power - cell.closed_form) <= 3 * se, (effect, cell)
        assert cell.mean_estimate == pytest.approx(effect, rel=0.01)
        if effect == 0.9:
            # A power in the middle of the range, where a disagreement would show.
            assert 0.3 < cell.closed_form < 0.9


def test_counts_agree_with_the_closed_form() -> None:
    """Poisson counts analysed as log rates (the trial's own analysis) reach the closed form's
    power (delta-method variance 1/m) within 3 Monte Carlo SE at 60 events a cluster-month."""
    settings = _gaussian(family="poisson", effects=(0.9,), replicates=1500, seed=8)
    cell = simulate_sw_cell(settings, 0.9, (24, 4))
    se = np.sqrt(cell.closed_form * (1 - cell.closed_form) / cell.replicates)
    assert abs(cell.z_test_power - cell.closed_form) <= 3 * se, cell
    assert cell.mean_estimate == pytest.approx(0.9, rel=0.01)


def test_power_report_table_and_detectable_effects() -> None:
    settings = _gaussian(
        family="poisson", clusters=(8, 16), steps=(2, 4), effects=(0.8, 1.0), replicates=100
    )
    report = sw_power_analysis(settings)
    table = report.detectable_table()
    assert table.shape == (2, 2)
    # More clusters, and more steps, detect smaller changes.
    assert table.loc[16, 4] > table.loc[8, 4] and table.loc[16, 4] > table.loc[16, 2]
    for row in report.detectable:
        variance = closed_form_variance(settings, row.clusters, row.steps, row.reduction)
        assert float(z_power(np.log(row.reduction), variance, 0.05)) == pytest.approx(0.8, abs=1e-3)
        assert row.increase > 1 > row.reduction
    curve = report.curve()
    assert len(curve) == 8 and set(curve["effect"]) == {0.8, 1.0}
    assert report.to_json() == sw_power_analysis(settings, workers=1).to_json()


def test_history_recovers_components() -> None:
    """A history drawn with tau^2 = 0.04, gamma^2 = 0.01 and a trend of 0.005 a month
    (40 clusters x 36 months, 80 events a cluster-month): tau^2 within 3 of its SEs
    (tau^2 sqrt(2 / 39)), gamma^2 within 0.004, the trend within 0.002."""
    truth = Components(tau2=0.04, gamma2=0.01)
    settings = SteppedWedgePowerSettings(
        clusters=(40,),
        steps=(35,),
        mean_count=80.0,
        icc=truth.icc(80.0),
        cac=truth.cac,
        trend=0.005,
        effects=(1.0,),
        replicates=10,
        seed=5,
    )
    rng = np.random.default_rng(3)
    x = schedule(40, 35)
    expected = 80.0 * np.exp(0.005 * np.arange(x.shape[1]))
    log_mean = (
        np.log(expected)[None] + rng.normal(0, 0.2, (40, 1)) + rng.normal(0, 0.1, (40, x.shape[1]))
    )
    panel = pd.DataFrame(rng.poisson(np.exp(log_mean)))
    found = estimate_components(panel)
    assert found.components.tau2 == pytest.approx(0.04, abs=3 * 0.04 * np.sqrt(2 / 39))
    assert found.components.gamma2 == pytest.approx(0.01, abs=0.004)
    assert found.trend == pytest.approx(0.005, abs=0.002)
    built = settings_from_history(found, clusters=(12,), steps=(4,), effects=(0.9,))
    assert built.icc == pytest.approx(found.icc) and "40 clusters x 36 months" in built.source
    assert settings.icc == pytest.approx(truth.icc(80.0))


def test_bad_inputs_say_what_to_do() -> None:
    with pytest.raises(PowerError, match="3 clusters over 4 steps"):
        _gaussian(clusters=(3,))
    with pytest.raises(PowerError, match="one expected count per cluster"):
        _gaussian(cluster_counts=(10.0, 20.0))
    with pytest.raises(PowerError, match="cluster 'b', month 1"):
        estimate_components(pd.DataFrame([[1, 2, 3], [4, np.nan, 6], [7, 8, 9]], index=list("abc")))
    with pytest.raises(PowerError, match="at least 3 of each"):
        estimate_components(pd.DataFrame([[1, 2, 3]]))


def test_draws_share_random_numbers_across_effects() -> None:
    settings = _gaussian(replicates=20)
    low, x = draw_log_rates(settings, 24, 4, 0.8)
    high, _ = draw_log_rates(settings, 24, 4, 1.0)
    assert np.allclose(high - low, -np.log(0.8) * x[None])


def test_written_files(tmp_path: Path) -> None:
    from evaltk.power.sw_output import write_sw_power

    settings = _gaussian(clusters=(8, 12), steps=(4,), effects=(0.85, 1.0), replicates=50)
    paths = write_sw_power(sw_power_analysis(settings), tmp_path / "power")
    assert [p.name for p in paths] == ["power.json", "power.csv", "detectable.csv", "power.png"]
    table = pd.read_csv(paths[2], index_col="clusters")
    assert list(table.index) == [8, 12] and list(table.columns) == ["4"]
    assert table.loc[12, "4"] > table.loc[8, "4"]
