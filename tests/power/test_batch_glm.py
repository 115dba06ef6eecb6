"""The batched fits give statsmodels' estimates and standard errors, replicate by replicate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.estimators.its import ITSModel, ITSSpec, default_hac_lags, design_matrix
from evaltk.power.batch_glm import fit_ols, fit_poisson


@pytest.mark.parametrize(
    ("family", "hac"),
    [
        ("poisson", False),
        ("quasi_poisson", False),
        ("quasi_poisson", True),
        ("gaussian", False),
        ("quasi_poisson", "ar1"),
        ("poisson", "ar1"),
        ("gaussian", "ar1"),
    ],
)
def test_batched_level_change_matches_its_model(family: str, hac: bool | str) -> None:
    ar1 = hac == "ar1"
    hac = hac is True
    rng = np.random.default_rng(3)
    periods = pd.date_range("2014-01-01", periods=60, freq="MS")
    start = periods[30]
    spec = ITSSpec(family=family, hac=hac, ar1=ar1)  # type: ignore[arg-type]
    x = design_matrix(periods, start, spec)
    column = list(x.columns).index("level")
    pop = np.linspace(1.0e6, 1.05e6, 60)
    mean = 40 * np.exp(0.1 * np.sin(np.arange(60))) * np.where(np.arange(60) >= 30, 0.8, 1.0)
    y = rng.poisson(mean * rng.gamma(20, 1 / 20, (5, 60))).astype(float)
    lags = default_hac_lags(60) if hac else None
    time = x["time"].to_numpy() if ar1 else None
    if family == "gaussian":
        fit = fit_ols(y, x.to_numpy(), hac_lags=lags, ar1_time=time)
    else:
        fit = fit_poisson(
            y,
            x.to_numpy(),
            np.log(pop),
            quasi=family == "quasi_poisson",
            hac_lags=lags,
            ar1_time=time,
        )
    estimate, se, p = fit.wald(column)
    for r in range(len(y)):
        frame = pd.DataFrame({"period": periods, "y": y[r]})
        if family != "gaussian":
            frame["exposure"] = pop
        reference = ITSModel(frame, start=start, spec=spec).fit()
        assert estimate[r] == pytest.approx(reference.params["level"], rel=1e-7, abs=1e-9)
        assert se[r] == pytest.approx(reference.bse["level"], rel=1e-6)
        assert p[r] == pytest.approx(reference.pvalues["level"], rel=1e-5, abs=1e-12)


def test_an_all_zero_replicate_is_flagged_not_raised() -> None:
    x = np.column_stack([np.ones(12), np.r_[np.zeros(6), np.ones(6)]])
    y = np.vstack([np.zeros(12), np.arange(1, 13, dtype=float)])
    fit = fit_poisson(y, x)
    assert fit.converged.tolist() == [False, True]
    assert np.isnan(fit.wald(1)[2][0])
