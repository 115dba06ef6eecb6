"""Reference: Lopez Bernal, Cummins & Gasparrini (2017), Int J Epidemiol 46(1):348-355.

The figures and their tolerances live in :mod:`evaltk.validation.bernal2017` (the models, the
published values from ``../shared/reference/README.md``, and the rule: half a unit in the last
published decimal, i.e. each published figure equals ours rounded to its decimals). These tests
assert on its rows, which are the rows written to ``book/validation/reference-*.json`` for the
book's validation chapter to print (tests/validation/test_reference_records.py checks that the
committed records are current), so the chapter's figure and the tested figure are one
computation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaltk.errors import ReferenceMissing
from evaltk.estimators.its import ITSModel, ITSSpec
from evaltk.validation import bernal2017
from evaltk.validation.comparison import Comparison

pytestmark = pytest.mark.reference


@pytest.fixture(scope="module")
def sicily() -> pd.DataFrame:
    try:
        return bernal2017.load_sicily()
    except ReferenceMissing as missing:
        pytest.skip(f"{missing}; Bernal 2017 checks skipped")


@pytest.fixture(scope="module")
def rows(sicily: pd.DataFrame) -> list[Comparison]:
    return bernal2017.comparisons()


@pytest.mark.parametrize("key", list(bernal2017.MODELS))
def test_reproduces_published_figures(rows: list[Comparison], key: str) -> None:
    heading, _, expected = bernal2017.MODELS[key]
    model_rows = [row for row in rows if row.group == heading]
    # One row per published figure, none dropped.
    assert [row.reference for row in model_rows] == [value for value, _ in expected.values()]
    for row, (name, (published, decimals)) in zip(model_rows, expected.items(), strict=True):
        assert row.tolerance == 0.5 * 10.0**-decimals
        assert row.evaltk is not None
        assert abs(row.evaltk - published) <= row.tolerance, (key, name, row.evaltk, published)
        assert row.within


def test_rows_are_the_fitted_figures(sicily: pd.DataFrame, rows: list[Comparison]) -> None:
    # The rows carry the estimator's own numbers, unrounded.
    res = bernal2017.fit(sicily, "m4-quasipoisson-harmonic2-slope")
    m4 = [row for row in rows if row.group.startswith("Model 4")]
    assert m4[0].evaltk == res.effect.estimate
    assert m4[3].evaltk == res.slope_effect.estimate  # type: ignore[union-attr]
    assert m4[0].difference == res.effect.estimate - 0.876


def test_ban_month_is_time_37(sicily: pd.DataFrame) -> None:
    spec = bernal2017.MODELS["m4-quasipoisson-harmonic2-slope"][1]
    model = ITSModel(bernal2017.as_series(sicily), bernal2017.BAN, spec)
    x = model.exog
    np.testing.assert_array_equal(x["time"].to_numpy(), sicily["time"].to_numpy())
    np.testing.assert_array_equal(x["level"].to_numpy(), sicily["smokban"].to_numpy())
    np.testing.assert_array_equal(
        x["slope"].to_numpy(), ((sicily["time"] - 36) * sicily["smokban"]).to_numpy()
    )


def test_hac_matches_statsmodels_directly(sicily: pd.DataFrame) -> None:
    spec = ITSSpec(slope_change=True, hac=True, hac_lags=3)
    model = ITSModel(bernal2017.as_series(sicily), bernal2017.BAN, spec)
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
