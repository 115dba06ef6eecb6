"""Two-way fixed effects against direct library fits, and the result object's contract.

Reference: the same model fitted directly (linearmodels PanelOLS with entity and time effects,
clustered by entity; statsmodels GLM Poisson with explicit dummies, offset and clustered
covariance). Tolerance 1e-8 relative: both routes call the same library code on the same data.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from linearmodels import PanelOLS

from evaltk.estimators.did import DiDSpec, InferenceSpec, TWFEModel


def _model(frame: pd.DataFrame, family: str = "linear") -> TWFEModel:
    return TWFEModel(
        frame,
        outcome="s136",
        unit="force",
        treatment="treated",
        exposure="population",
        spec=DiDSpec(family=family),
    )


def test_linear_matches_linearmodels(region: pd.DataFrame) -> None:
    res = _model(region).fit("cluster")
    data = region.assign(rate=region["s136"] / region["population"] * 1e5)
    data = data.set_index(["force", "period"])
    direct = PanelOLS(
        data["rate"], data[["treated"]].astype(float), entity_effects=True, time_effects=True
    ).fit(cov_type="clustered", cluster_entity=True)
    assert res.estimate == pytest.approx(direct.params["treated"], rel=1e-8)
    assert res.std_error == pytest.approx(direct.std_errors["treated"], rel=1e-8)
    assert res.p_value == pytest.approx(direct.pvalues["treated"], rel=1e-6)
    ci = direct.conf_int().loc["treated"]
    assert (res.ci_low, res.ci_high) == pytest.approx((ci["lower"], ci["upper"]), rel=1e-8)
    assert res.inference == "cluster" and res.scale == "difference"


def test_poisson_matches_statsmodels(region: pd.DataFrame) -> None:
    res = _model(region, "poisson").fit("cluster")
    unit = pd.get_dummies(region["force"], dtype=float)
    time = pd.get_dummies(region["period"], dtype=float).iloc[:, 1:]
    X = pd.concat([region[["treated"]].astype(float), unit, time], axis=1)
    direct = sm.GLM(
        region["s136"], X, family=sm.families.Poisson(), offset=np.log(region["population"])
    ).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(region["force"])[0]})
    assert res.estimate == pytest.approx(np.exp(direct.params["treated"]), rel=1e-8)
    assert res.std_error == pytest.approx(direct.bse["treated"], rel=1e-6)
    lo, hi = np.exp(direct.conf_int().loc["treated"])
    assert (res.ci_low, res.ci_high) == pytest.approx((lo, hi), rel=1e-6)
    assert res.scale == "ratio"
    assert 0.6 < res.estimate < 0.8  # the simulator's true s136 ratio is 0.7


def test_auto_inference_is_the_wild_bootstrap_with_few_clusters(region: pd.DataFrame) -> None:
    res = _model(region).fit()
    assert res.inference == "wild_bootstrap"
    assert "5 clusters, fewer than 50" in res.inference_text
    assert "subcluster" in res.inference_text  # fewer than 10 clusters: unit x year weights
    assert res.details["bootstrap"]["draws"] == 9999
    assert res.ci_low < res.estimate < res.ci_high
    many = InferenceSpec(few_clusters=5)
    assert _model(region).fit(many).inference == "cluster"


def test_result_contract(region: pd.DataFrame) -> None:
    before = region.copy()
    res = _model(region, "poisson").fit(InferenceSpec(method="wild_bootstrap", draws=999))
    pd.testing.assert_frame_equal(region, before)  # input untouched
    for name in (
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
        "scale",
        "inference",
        "n_clusters",
        "n_obs",
    ):
        assert hasattr(res, name)
    assert (res.n_clusters, res.n_obs, res.n_periods, res.n_treated) == (5, 600, 120, 3)
    payload = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert payload["inference"] == "wild_bootstrap" and payload["scale"] == "ratio"
    frame = res.to_frame()
    assert list(frame.columns) == [
        "term",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
        "scale",
        "std_error",
    ]
    assert "Inference" in res._repr_html_() and "<table" in res._repr_html_()
    text = res.summary()
    assert "score wild cluster bootstrap" in text and "cluster-robust (CR1)" in text
    fig, ax = res.plot()
    assert ax.get_lines() and fig is ax.get_figure()
    with pytest.raises(AttributeError):
        res.estimate = 1.0  # type: ignore[misc]


def test_same_inputs_give_identical_results(region: pd.DataFrame) -> None:
    spec = InferenceSpec(method="wild_bootstrap", draws=999)
    first = json.dumps(_model(region).fit(spec).to_dict())
    assert first == json.dumps(_model(region).fit(spec).to_dict())


def test_staggered_starts_mapping_equals_treatment_column(region: pd.DataFrame) -> None:
    starts = {
        "E23000018": "2017-01",
        "E23000019": "2016-04",
        "E23000020": None,
        "E23000021": "2015-10",
        "E23000022": None,
    }
    a = TWFEModel(region, outcome="s136", unit="force", starts=starts, exposure="population").fit(
        "cluster"
    )
    b = _model(region).fit("cluster")
    assert a.estimate == b.estimate
