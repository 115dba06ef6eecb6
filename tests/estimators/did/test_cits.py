"""Comparative ITS against a direct statsmodels GLM of the same design."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaltk.errors import EstimationError
from evaltk.estimators.did import CITSModel, CITSSpec

NOTTS, NEVER = "E23000019", ["E23000020", "E23000022"]


@pytest.fixture(scope="module")
def series(region: pd.DataFrame) -> pd.DataFrame:
    return region[region["force"].isin([NOTTS, *NEVER])].reset_index(drop=True)


def test_quasi_poisson_matches_statsmodels(series: pd.DataFrame) -> None:
    res = CITSModel(
        series,
        treated=NOTTS,
        start="2016-04",
        outcome="s136",
        series="force",
        exposure="population",
    ).fit()
    d = series.sort_values(["force", "period"]).reset_index(drop=True)
    t = (d["period"].dt.year - 2014) * 12 + d["period"].dt.month
    t0 = (2016 - 2014) * 12 + 4
    level = (t >= t0).astype(float)
    g = (d["force"] == NOTTS).astype(float)
    m = d["period"].dt.month
    X = pd.get_dummies(d["force"], dtype=float)
    X = X.assign(
        time=t,
        level=level,
        gt=g * t,
        gl=g * level,
        s1=np.sin(2 * np.pi * m / 12),
        c1=np.cos(2 * np.pi * m / 12),
        s2=np.sin(4 * np.pi * m / 12),
        c2=np.cos(4 * np.pi * m / 12),
    )
    direct = sm.GLM(d["s136"], X, family=sm.families.Poisson(), offset=np.log(d["population"])).fit(
        scale="X2"
    )
    assert res.estimate == pytest.approx(np.exp(direct.params["gl"]), rel=1e-8)
    assert res.std_error == pytest.approx(direct.bse["gl"], rel=1e-6)
    assert res.inference == "model" and res.n_clusters == 3
    assert 0.55 < res.estimate < 0.85  # true ratio 0.7
    _fig, ax = res.plot()
    assert ax.get_legend() is not None


def test_hac_and_slope(series: pd.DataFrame) -> None:
    res = CITSModel(
        series,
        treated=NOTTS,
        start="2016-04",
        outcome="s136",
        series="force",
        exposure="population",
        spec=CITSSpec(hac=True, slope_change=True),
    ).fit()
    assert res.inference == "hac" and "Newey-West" in res.inference_text
    assert list(res.to_frame()["term"][:2]) == ["treated_level", "treated_slope"]


def test_cits_errors(series: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="treated series 'nope'"):
        CITSModel(series, treated="nope", start="2016-04", outcome="s136", series="force")
    with pytest.raises(EstimationError, match="at least 3 on each side"):
        CITSModel(series, treated=NOTTS, start="2014-02", outcome="s136", series="force")
    one = series[series["force"] == NOTTS]
    with pytest.raises(EstimationError, match="comparison series"):
        CITSModel(one, treated=NOTTS, start="2016-04", outcome="s136", series="force")
