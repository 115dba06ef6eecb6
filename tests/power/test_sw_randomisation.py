"""The batched randomisation test of stepped-wedge power against the estimator's own
(`randomisation_test` on an `SWData`), replicate by replicate, and its size."""

from __future__ import annotations

import numpy as np
import pytest

from evaltk.estimators.stepped_wedge import (
    Scheme,
    SWData,
    fit_log_rate,
    fit_poisson,
    randomisation_test,
    reference_schedules,
)
from evaltk.estimators.stepped_wedge import model as sw_model
from evaltk.power.stepped_wedge import (
    SteppedWedgePowerSettings,
    draw_replicates,
    expected_counts,
    reference_treatments,
    sw_power_analysis,
)
from evaltk.power.sw_randomisation import log_rate_ri, null_reml, poisson_ri

CLUSTERS, STEPS = 8, 4


def _settings(**values: object) -> SteppedWedgePowerSettings:
    base: dict[str, object] = {
        "clusters": (CLUSTERS,),
        "steps": (STEPS,),
        "baseline_periods": 2,
        "after_periods": 1,
        "mean_count": 30.0,
        "cluster_counts": tuple(np.linspace(15.0, 45.0, CLUSTERS)),
        "schedule": (3, 1, 4, 2, 1, 3, 2, 4),
        "icc": 0.3,
        "cac": 0.8,
        "effects": (0.85,),
        "replicates": 12,
        "permutations": 199,
        "seed": 7,
    }
    return SteppedWedgePowerSettings(**{**base, **values})  # type: ignore[arg-type]


def _trial(settings: SteppedWedgePowerSettings, y: np.ndarray, exposure: np.ndarray) -> SWData:
    """One replicate as the analysis sees it: design periods 1 = the first step's."""
    periods = np.arange(y.shape[1]) - settings.baseline_periods + 1
    names = tuple(f"c{i}" for i in range(y.shape[0]))
    return SWData(names, periods, y, exposure, np.asarray(settings.schedule))


def _reference(settings: SteppedWedgePowerSettings):  # type: ignore[no-untyped-def]
    return reference_schedules(Scheme(STEPS, CLUSTERS), settings.seed, settings.permutations)


def test_reference_set_is_the_analysis_one() -> None:
    settings = _settings()
    d_ref, enumerated = reference_treatments(settings, CLUSTERS, STEPS)
    reference = _reference(settings)
    periods = np.arange(d_ref.shape[2]) - settings.baseline_periods + 1
    assert not enumerated  # 8! / 2!^4 = 2,520 schedules, 199 drawn
    np.testing.assert_array_equal(d_ref, sw_model.treatment(reference.schedules, periods))


def test_log_rate_replicates_match_randomisation_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each replicate's statistic and p-value are those of `randomisation_test` on its
    `SWData` (counts + 0.5 over the cluster's expected count, the log rate the simulation
    analyses): to 1e-10 with the null REML components given; with statsmodels fitting them,
    the same p-values and the statistic to 2 % (its optimiser stops short of the REML
    maximum that the closed form reaches, by up to 15 % of tau^2 on a flat likelihood)."""
    settings = _settings()
    z, counts, x = draw_replicates(settings, CLUSTERS, STEPS, 0.85)
    assert counts is not None
    d_ref, enumerated = reference_treatments(settings, CLUSTERS, STEPS)
    batched = log_rate_ri(z, x, d_ref, enumerated)
    size = expected_counts(settings, x)[:, :1] * np.ones_like(x)
    reference = _reference(settings)
    tau2, sigma2 = null_reml(z)
    real_reml = sw_model._reml
    for r in range(len(z)):
        data = _trial(settings, counts[r] + 0.5, size)
        np.testing.assert_allclose(np.log(data.y / data.exposure), z[r], rtol=0, atol=1e-12)
        fit = fit_log_rate(data)
        fitted = randomisation_test(data, fit, reference, None)
        assert fitted.p_value == batched.p_value[r]
        _, _, t_fit, s_fit = real_reml(data, treated=False)
        # statsmodels' optimiser stops within ~1e-5 (relative) of the REML maximum, at worst
        # short of it on a flat likelihood; the closed form is the maximum itself.
        assert _reml_loglik(z[r], tau2[r], sigma2[r]) >= _reml_loglik(z[r], t_fit, s_fit) - 1e-9
        assert fitted.statistic == pytest.approx(batched.statistic[r], rel=0.02)
        known = (float("nan"), float("nan"), float(tau2[r]), float(sigma2[r]))
        monkeypatch.setattr(sw_model, "_reml", lambda data, treated, k=known: k)
        exact = randomisation_test(data, fit, reference, None)
        monkeypatch.setattr(sw_model, "_reml", real_reml)
        assert exact.statistic == pytest.approx(batched.statistic[r], abs=1e-10)
        assert exact.p_value == batched.p_value[r]
    # Not all replicates the same p-value: the comparison has something to compare.
    assert len(set(batched.p_value.round(6))) > 3


def _reml_loglik(z: np.ndarray, tau2: float, sigma2: float) -> float:
    """REML log-likelihood (up to a constant) of the null model, balanced: C - 1 cluster
    contrasts of each period, compound symmetric over the T periods."""
    n_c, n_t = z.shape
    e = z - z.mean(axis=0, keepdims=True)
    means = e.mean(axis=1)
    ssb, ssw = n_t * np.sum(means**2), np.sum((e - means[:, None]) ** 2)
    v = sigma2 + n_t * tau2
    return float(
        -0.5
        * ((n_c - 1) * np.log(v) + (n_c - 1) * (n_t - 1) * np.log(sigma2) + ssb / v + ssw / sigma2)
    )


def test_poisson_replicates_match_randomisation_test() -> None:
    """The score statistic with exposure proportional to population (rank one), to 1e-9 and
    the same p-values; the counts include small ones (a cluster-period mean of 2)."""
    settings = _settings(mean_count=2.0, cluster_counts=tuple(np.linspace(1.0, 4.0, CLUSTERS)))
    _, counts, x = draw_replicates(settings, CLUSTERS, STEPS, 0.7)
    assert counts is not None and (counts == 0).any()
    d_ref, enumerated = reference_treatments(settings, CLUSTERS, STEPS)
    batched = poisson_ri(counts, x, d_ref, enumerated)
    population = np.linspace(60.0, 130.0, CLUSTERS)[:, None] * np.full(x.shape[1], 3.0)
    reference = _reference(settings)
    for r in range(len(counts)):
        data = _trial(settings, counts[r], population)
        fitted = randomisation_test(data, fit_poisson(data), reference, None)
        assert fitted.statistic == pytest.approx(batched.statistic[r], abs=1e-9)
        assert fitted.p_value == batched.p_value[r]
    assert len(set(batched.p_value.round(6))) > 3


def test_randomisation_test_holds_its_size_where_the_z_test_does_not() -> None:
    """Six equal clusters, three steps, no effect, 2,000 replicates: the 90 schedules are
    enumerated, so the randomisation test rejects 4/90 of trials (p-values are
    multiples of 1/90) within 3 Monte Carlo SE (0.014); the REML z test rejects more often."""
    settings = SteppedWedgePowerSettings(
        clusters=(6,),
        steps=(3,),
        mean_count=40.0,
        icc=0.2,
        cac=0.8,
        effects=(1.0,),
        replicates=2000,
        seed=11,
    )
    cell = sw_power_analysis(settings).cells[0]
    assert abs(cell.power - 4 / 90) <= 3 * np.sqrt(0.05 * 0.95 / 2000), cell
    assert cell.z_test_power > cell.power + 0.015, cell


def test_same_report_on_one_or_two_workers() -> None:
    settings = _settings(effects=(0.8, 1.0), replicates=40)
    one = sw_power_analysis(settings, workers=1)
    two = sw_power_analysis(settings, workers=2)
    assert one.to_json() == two.to_json()
    assert [c.rejections for c in one.cells] != [0, 0]
