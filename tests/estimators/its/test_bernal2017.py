"""Reference: Lopez Bernal, Cummins & Gasparrini (2017), Int J Epidemiol 46(1):348-355.

Data: ``sicily.csv`` from the authors' repository ``gasparrini/2017_lopezbernal_IJE_codedata``
(monthly acute coronary events in Sicily 2002-2006; smoking ban from ``time`` 37 = 2005-01).
Expected figures: the authors' ``Rcode.R`` with ``Epi::ci.lin`` (normal-quantile 95% CIs), as
tabulated in ``../shared/reference/README.md``. The R models are

    model1 <- glm(aces ~ offset(log(stdpop)) + smokban + time, family = poisson)
    model2 <- same with family = quasipoisson
    model3 <- model2 + harmonic(month, 2, 12)
    model4 <- model3 + I(time - 36):smokban

Tolerance: the published figures are rounded, so each must equal ours rounded to the same number
of decimals; we assert ``abs(ours - published) <= half a unit in the last published decimal``
(0.0005 at three decimals, 0.00005 at four), which is that statement without floating-point
ties at the boundary.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaltk.estimators.its import ITSModel, ITSSpec

REFERENCE = (Path(__file__).resolve().parents[3] / "../shared/reference").resolve()
SICILY = REFERENCE / "sicily.csv"
BAN = pd.Timestamp("2005-01-01")

pytestmark = pytest.mark.reference

# key -> (spec, expected figures); None where the paper reports nothing.
CASES: dict[str, tuple[ITSSpec, dict[str, tuple[float, int]]]] = {
    "m1-poisson": (
        ITSSpec(family="poisson", seasonality="none"),
        {"rr": (0.894, 3), "rr_low": (0.865, 3), "rr_high": (0.925, 3)},
    ),
    "m2-quasipoisson": (
        ITSSpec(family="quasi_poisson", seasonality="none"),
        {"rr": (0.894, 3), "rr_low": (0.839, 3), "rr_high": (0.953, 3), "dispersion": (3.559, 3)},
    ),
    "m3-quasipoisson-harmonic2": (
        ITSSpec(family="quasi_poisson", seasonality="fourier", harmonics=2),
        {
            "rr": (0.885, 3),
            "rr_low": (0.839, 3),
            "rr_high": (0.933, 3),
            "dispersion": (2.262, 3),
            "trend_per_year": (1.067, 3),
        },
    ),
    "m4-quasipoisson-harmonic2-slope": (
        ITSSpec(family="quasi_poisson", seasonality="fourier", harmonics=2, slope_change=True),
        {
            "rr": (0.876, 3),
            "rr_low": (0.827, 3),
            "rr_high": (0.929, 3),
            "slope": (1.0015, 4),
            "slope_low": (0.9978, 4),
            "slope_high": (1.0051, 4),
            "dispersion": (2.275, 3),
        },
    ),
}


@pytest.fixture(scope="module")
def sicily() -> pd.DataFrame:
    if not SICILY.exists():
        pytest.skip(
            f"reference data {SICILY} is absent (it lives in ../shared/reference beside the "
            "project); Bernal 2017 checks skipped"
        )
    return pd.read_csv(SICILY)


def as_series(raw: pd.DataFrame) -> pd.DataFrame:
    period = pd.to_datetime(pd.DataFrame({"year": raw["year"], "month": raw["month"], "day": 1}))
    return pd.DataFrame({"period": period, "y": raw["aces"], "exposure": raw["stdpop"]})


def figures(res) -> dict[str, float]:
    out = {
        "rr": res.effect.estimate,
        "rr_low": res.effect.ci_low,
        "rr_high": res.effect.ci_high,
        "dispersion": res.dispersion,
        "trend_per_year": res.trend_per_year.estimate,
    }
    if res.slope_effect is not None:
        out |= {
            "slope": res.slope_effect.estimate,
            "slope_low": res.slope_effect.ci_low,
            "slope_high": res.slope_effect.ci_high,
        }
    return out


@pytest.mark.parametrize("key", list(CASES))
def test_reproduces_published_figures(sicily: pd.DataFrame, key: str) -> None:
    spec, expected = CASES[key]
    ours = figures(ITSModel(as_series(sicily), BAN, spec).fit())
    for name, (published, decimals) in expected.items():
        tol = 0.5 * 10.0**-decimals
        assert abs(ours[name] - published) <= tol, (key, name, ours[name], published)


def test_ban_month_is_time_37(sicily: pd.DataFrame) -> None:
    model = ITSModel(as_series(sicily), BAN, CASES["m4-quasipoisson-harmonic2-slope"][0])
    x = model.exog
    np.testing.assert_array_equal(x["time"].to_numpy(), sicily["time"].to_numpy())
    np.testing.assert_array_equal(x["level"].to_numpy(), sicily["smokban"].to_numpy())
    np.testing.assert_array_equal(
        x["slope"].to_numpy(), ((sicily["time"] - 36) * sicily["smokban"]).to_numpy()
    )


def test_hac_matches_statsmodels_directly(sicily: pd.DataFrame) -> None:
    spec = ITSSpec(slope_change=True, hac=True, hac_lags=3)
    model = ITSModel(as_series(sicily), BAN, spec)
    res = model.fit()
    direct = sm.GLM(
        sicily["aces"].to_numpy(),
        model.exog.to_numpy(),
        family=sm.families.Poisson(),
        offset=np.log(sicily["stdpop"].to_numpy()),
    ).fit(scale="X2", cov_type="HAC", cov_kwds={"maxlags": 3, "use_correction": True})
    np.testing.assert_allclose(res.params.to_numpy(), direct.params, rtol=1e-10)
    np.testing.assert_allclose(res.bse.to_numpy(), direct.bse, rtol=1e-10)
    np.testing.assert_allclose(res.conf_int().to_numpy(), direct.conf_int(), rtol=1e-10)
