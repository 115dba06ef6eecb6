"""The stepped-wedge models and the randomisation test over the scheme."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.errors import EstimationError
from evaltk.estimators.stepped_wedge import (
    Scheme,
    SWData,
    fit_log_rate,
    fit_poisson,
    randomisation_test,
    reference_schedules,
    sw_data,
    treatment,
)
from evaltk.estimators.stepped_wedge.model import _log_rate_statistic, _quasi
from evaltk.simulate.stepped_wedge import simulate_stepped_wedge


def trial(seed: int, steps: np.ndarray, rate: float, effect: float, step_months: int = 3) -> SWData:
    """Monthly counts of a trial with a baseline year, summed into the design periods."""
    rng = np.random.default_rng(seed)
    n = steps.size
    populations = np.linspace(60_000, 130_000, n).round()
    months = 12 + int(steps.max()) * step_months
    data = simulate_stepped_wedge(
        populations,
        12 + (steps - 1) * step_months,
        months,
        base_rate=rate,
        effect=effect,
        cluster_sd=0.15,
        period_sd=0.05,
        rng=rng,
    )
    frame = pd.DataFrame(
        {
            "cluster": data["cluster"].astype(str),
            "period": (data["month"] - 12) // step_months + 1,
            "y": data["count"].astype(float),
            "exposure": data["population"] / 1e5,
        }
    )
    summed = frame.groupby(["cluster", "period"], as_index=False)[["y", "exposure"]].sum()
    return sw_data(summed, {str(i): int(s) for i, s in enumerate(steps)})


STEPS_12 = np.repeat(np.arange(1, 7), 2)


def test_treatment_switches_on_at_each_clusters_step() -> None:
    d = treatment(np.array([1, 3]), np.array([-1, 0, 1, 2, 3, 4]))
    assert d.tolist() == [[0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1]]


def test_gls_statistic_is_the_reml_estimate_for_the_observed_schedule() -> None:
    """The GLS map the randomisation test uses for the log-rate model, given the REML variance
    components of the treated model, gives the REML estimate itself (to 1e-8)."""
    data = trial(3, STEPS_12, rate=60.0, effect=0.85)
    fit = fit_log_rate(data)
    assert fit.tau2 is not None and fit.sigma2 is not None
    components = (fit.tau2, fit.sigma2)
    weights, denominators, lam = _log_rate_statistic(data, components, data.steps[None, :])
    z = _quasi(np.log(data.y / data.exposure), lam)
    assert float(np.sum(weights[0] * z) / denominators[0]) == pytest.approx(fit.estimate, abs=1e-8)
    assert 0 < lam < 1 and fit.icc is not None and 0 < fit.icc < 1


@pytest.mark.parametrize(("fitter", "rate"), [(fit_log_rate, 80.0), (fit_poisson, 8.0)])
def test_both_models_recover_a_known_rate_ratio(fitter, rate) -> None:  # type: ignore[no-untyped-def]
    """A true rate ratio of 0.80 on 12 clusters, 6 steps: each model's estimate within 0.06
    of log(0.80) (about 1.5 of its standard errors), and the randomisation interval covers
    the truth and excludes 1."""
    data = trial(11, STEPS_12, rate=rate, effect=0.80)
    fit = fitter(data)
    assert fit.estimate == pytest.approx(np.log(0.80), abs=0.06)
    test = randomisation_test(data, fit, reference_schedules(Scheme(6, 12), 5, 499), 0.95)
    assert test.ci_low < np.log(0.80) < test.ci_high < 0
    assert test.p_value <= 0.05


def test_randomisation_test_is_exact_under_the_null() -> None:
    """With every schedule of the scheme listed (6 clusters, 3 steps: 90), data with no effect
    and each of the 90 schedules in turn taken as the one drawn, the p-value is uniform on
    {1/90, ..., 1}: at 5 % it rejects for exactly 4 of the 90 (floor(0.05 x 90)), for each
    model, whatever the data."""
    scheme = Scheme(3, 6)
    reference = reference_schedules(scheme, seed=1, permutations=999)
    assert reference.enumerated and len(reference.schedules) == 90
    for fitter, rate in ((fit_log_rate, 60.0), (fit_poisson, 5.0)):
        base = trial(7, np.array([1, 1, 2, 2, 3, 3]), rate=rate, effect=1.0)
        p_values = []
        for steps in reference.schedules:
            data = SWData(base.clusters, base.periods, base.y, base.exposure, steps)
            p_values.append(randomisation_test(data, fitter(data), reference, None).p_value)
        p = np.array(p_values)
        assert np.sum(p <= 0.05 + 1e-12) <= 4
        assert np.all(np.isin(np.round(p * 90), np.arange(1, 91)))


def test_a_missing_cluster_period_is_named() -> None:
    frame = pd.DataFrame(
        {"cluster": ["a", "a", "b"], "period": [0, 1, 0], "y": [3.0, 4.0, 5.0], "exposure": 1.0}
    )
    with pytest.raises(EstimationError, match=r"cluster b has no data .* period 1"):
        sw_data(frame, {"a": 1, "b": 1})


def test_log_rate_model_refuses_zero_counts() -> None:
    data = trial(2, STEPS_12, rate=1.0, effect=1.0)
    assert (data.y == 0).any()
    with pytest.raises(EstimationError, match="use model poisson"):
        fit_log_rate(data)
