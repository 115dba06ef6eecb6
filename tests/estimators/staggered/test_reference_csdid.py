"""Cross-check against csdid 0.4.3 on mpdta where the R reference is silent.

``reference/csdid_mpdta.json`` holds csdid's output (a line-by-line Python port of R ``did``;
``reference/make_csdid_reference.py`` says how it was made): ``dr`` and ``ipw`` with two
covariates, ``reg`` with covariates and not-yet-treated comparisons, the universal base
period, anticipation of one period, and the ``balance_e``, ``min_e`` and ``max_e`` options
of the aggregations. Same tolerances as the R reference (1e-6 absolute in estimates, 1e-4
relative in standard errors); the logit and least squares are solved independently, so the
agreement (about 1e-12) also checks the covariate paths numerically.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltk.estimators.staggered import CallawaySantAnna

HERE = Path(__file__).resolve().parent
REFERENCE = (HERE.parents[2] / ".." / "shared" / "reference").resolve()
CSDID = json.loads((HERE / "reference" / "csdid_mpdta.json").read_text())
ATT_TOL = 1e-6
SE_RTOL = 1e-4

pytestmark = pytest.mark.reference

CASES = {
    "nev-dr-cov2": {"est_method": "dr", "covariates": ["lpop", "x2"]},
    "nyt-dr-cov2": {
        "est_method": "dr",
        "covariates": ["lpop", "x2"],
        "control_group": "not_yet_treated",
    },
    "nev-ipw-cov2": {"est_method": "ipw", "covariates": ["lpop", "x2"]},
    "nyt-ipw-cov2": {
        "est_method": "ipw",
        "covariates": ["lpop", "x2"],
        "control_group": "not_yet_treated",
    },
    "nyt-reg-cov2": {
        "est_method": "reg",
        "covariates": ["lpop", "x2"],
        "control_group": "not_yet_treated",
    },
    "nev-dr-universal": {"base_period": "universal"},
    "nyt-dr-universal-cov": {
        "base_period": "universal",
        "covariates": ["lpop"],
        "control_group": "not_yet_treated",
    },
    "nyt-dr-ant1": {"anticipation": 1, "control_group": "not_yet_treated"},
    "nev-ipw-ant1-cov": {"anticipation": 1, "est_method": "ipw", "covariates": ["lpop"]},
}


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    path = REFERENCE / "mpdta.csv"
    if not path.is_file():
        pytest.skip(f"reference file {path} not found (../shared/reference beside the checkout)")
    data = pd.read_csv(path)
    data["x2"] = np.sin(data["countyreal"])
    return data


def _nan(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@pytest.mark.parametrize("case", list(CASES))
def test_against_csdid(mpdta: pd.DataFrame, case: str) -> None:
    ref = CSDID[case]
    res = CallawaySantAnna(
        mpdta,
        outcome="lemp",
        unit="countyreal",
        time="year",
        group="first.treat",
        **CASES[case],
    ).fit()
    f = res.to_frame()
    assert list(f["group"]) == ref["group"]
    assert list(f["time"]) == ref["time"]
    np.testing.assert_allclose(f["att"], ref["att"], rtol=0, atol=ATT_TOL)
    se = _nan(ref["se"])
    # The universal base cell has no standard error in either.
    np.testing.assert_array_equal(np.isnan(f["std_error"]), np.isnan(se))
    np.testing.assert_allclose(f["std_error"], se, rtol=SE_RTOL, atol=0, equal_nan=True)

    for name, agg_ref in ref["aggregations"].items():
        agg = res.aggregate(agg_ref["type"], **agg_ref["options"])
        assert agg.estimate == pytest.approx(agg_ref["overall_att"], abs=ATT_TOL), name
        assert agg.std_error == pytest.approx(agg_ref["overall_se"], rel=SE_RTOL), name
        if agg_ref["egt"] is None:
            continue
        levels = agg.levels
        assert list(levels.iloc[:, 0]) == agg_ref["egt"], name
        np.testing.assert_allclose(levels["estimate"], agg_ref["att_egt"], atol=ATT_TOL)
        np.testing.assert_allclose(
            levels["std_error"], _nan(agg_ref["se_egt"]), rtol=SE_RTOL, equal_nan=True
        )
