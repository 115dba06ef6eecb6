"""The power grid's GLS test is the analysis's ``model: gls``, replicate by replicate, and
``model: auto`` in a power cell follows the analysis's own rule."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from evaltk.estimators.its import ITSModel, ITSSpec, design_matrix
from evaltk.power.batch_gls import gls_level_tests
from evaltk.power.cell import simulate_cell
from evaltk.power.settings import ITSPowerSettings


@pytest.mark.parametrize("exposure", [True, False])
def test_gls_level_tests_match_its_model(exposure: bool) -> None:
    rng = np.random.default_rng(11)
    periods = pd.date_range("2014-01-01", periods=60, freq="MS")
    start = periods[30]
    spec = ITSSpec(model="gls")
    x = design_matrix(periods, start, spec)
    column = list(x.columns).index("level")
    pop = np.linspace(1.0e6, 1.05e6, 60)
    noise = np.exp(0.1 * np.sin(np.arange(60)) + rng.normal(0, 0.08, (4, 60)))
    y = rng.poisson(30 * noise * np.where(np.arange(60) >= 30, 0.85, 1.0)).astype(float)
    offset = np.log(pop) if exposure else None
    estimates, p = gls_level_tests(y, x.to_numpy(), offset, x["time"].to_numpy(), column)
    for r in range(len(y)):
        frame = pd.DataFrame({"period": periods, "y": y[r]})
        if exposure:
            frame["exposure"] = pop
        effect = ITSModel(frame, start=start, spec=spec).fit().effect
        # The Poisson means come from a batched IRLS instead of statsmodels' (same MLE to
        # 1e-10), so the REML optimum agrees to the optimiser's tolerance.
        assert estimates[r] == pytest.approx(np.log(effect.estimate), rel=1e-4, abs=1e-6)
        assert p[r] == pytest.approx(effect.p_value, rel=1e-3, abs=1e-5)


def test_a_month_without_events_cannot_be_fitted_by_gls() -> None:
    periods = pd.date_range("2014-01-01", periods=48, freq="MS")
    x = design_matrix(periods, periods[24], ITSSpec(model="gls"))
    y = np.full((2, 48), 5.0)
    y[1, 3] = 0.0
    y[0] += np.arange(48) % 3
    _, p = gls_level_tests(y, x.to_numpy(), None, x["time"].to_numpy(), 2)
    assert np.isfinite(p[0]) and np.isnan(p[1])


def _settings(model: str, baseline: float, **extra: object) -> ITSPowerSettings:
    return ITSPowerSettings(
        outcome="s136",
        first_month=dt.date(2014, 1, 1),
        months_before=27,
        months_after=(24,),
        registered_months_after=24,
        effects=(1.0,),
        baseline=baseline,
        model=model,  # type: ignore[arg-type]
        replicates=20,
        seed=5,
        **extra,  # type: ignore[arg-type]
    )


def test_auto_cells_fit_by_gls_only_the_replicates_the_analysis_would() -> None:
    # Twenty events a month: no empty month, every replicate by GLS, as `gls` itself.
    busy_auto = simulate_cell(_settings("auto", 20.0, ar1=True), 1.0, 24)
    busy_gls = simulate_cell(_settings("gls", 20.0), 1.0, 24)
    assert busy_auto.gls_fits == 20
    assert busy_auto.rejections == busy_gls.rejections
    assert busy_auto.mean_estimate == pytest.approx(busy_gls.mean_estimate, rel=1e-12)
    # Half an event a month: most replicates have an empty month and fall back to the GLM.
    sparse = simulate_cell(_settings("auto", 0.5, ar1=True), 1.0, 24)
    assert sparse.gls_fits is not None and sparse.gls_fits < 5
    assert sparse.failed == 0
    assert simulate_cell(_settings("glm", 0.5, ar1=True), 1.0, 24).gls_fits is None
