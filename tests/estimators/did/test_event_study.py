"""Event study: coefficients against a direct linearmodels fit; the table, test and plot."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from linearmodels import PanelOLS

from evaltk.errors import EstimationError
from evaltk.estimators.did import EventStudyModel, EventStudySpec, InferenceSpec


def _bins(frame: pd.DataFrame, leads: int, lags: int, width: int) -> pd.DataFrame:
    """Event-time bin dummies built by hand from the treatment column (reference -1)."""
    clock = frame["period"].dt.year * 12 + frame["period"].dt.month - 1
    start = clock.where(frame["treated"] == 1).groupby(frame["force"]).transform("min")
    event = np.floor((clock - start) / width).clip(-leads, lags)
    cols = {}
    for b in range(-leads, lags + 1):
        if b != -1:
            cols[f"event_{b:+d}"] = (event == b).astype(float)
    return pd.DataFrame(cols, index=frame.index)


def test_linear_coefficients_match_linearmodels(region: pd.DataFrame) -> None:
    spec = EventStudySpec(leads=3, lags=4, width=6)
    res = EventStudyModel(
        region, outcome="s136", unit="force", treatment="treated", exposure="population", spec=spec
    ).fit("cluster")
    data = region.assign(rate=region["s136"] / region["population"] * 1e5)
    X = _bins(data, 3, 4, 6)
    data = pd.concat([data, X], axis=1).set_index(["force", "period"])
    direct = PanelOLS(
        data["rate"], data[list(X.columns)], entity_effects=True, time_effects=True
    ).fit(cov_type="clustered", cluster_entity=True)
    table = res.coefficients.set_index("event_time")
    for name in X.columns:
        b = int(name.split("_")[1])
        assert table.loc[b, "estimate"] == pytest.approx(direct.params[name], rel=1e-8)
        assert table.loc[b, "std_error"] == pytest.approx(direct.std_errors[name], rel=1e-8)
    assert table.loc[-1, "kind"] == "reference" and table.loc[-1, "estimate"] == 0.0
    assert bool(table.loc[-3, "binned"]) and bool(table.loc[4, "binned"])
    lags = [direct.params[f"event_{b:+d}"] for b in range(0, 5)]
    assert res.estimate == pytest.approx(np.mean(lags), rel=1e-8)
    # the cluster-robust joint test of the two leads, F(2, G - 1)
    assert res.pretrend.df == 2 and res.pretrend.method == "cluster"
    assert "F(2, 4)" in res.pretrend.text


def test_result_renders(region: pd.DataFrame) -> None:
    res = EventStudyModel(
        region,
        outcome="s136",
        unit="force",
        treatment="treated",
        exposure="population",
        spec=EventStudySpec(family="poisson", leads=3, lags=3, width=6),
    ).fit(InferenceSpec(method="wild_bootstrap", draws=999, ci=False))
    assert res.scale == "ratio" and 0.6 < res.estimate < 0.8
    assert res.pretrend.method == "wild_bootstrap" and 0 <= res.pretrend.p_value <= 1
    payload = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert len(payload["event_time"]) == 7 and payload["pretrend"]["df"] == 2
    assert "Pre-trend test" in res.summary()
    _fig, ax = res.plot()
    assert ax.get_xlabel().startswith("event time")
    assert next(t.get_text() for t in ax.get_xticklabels()) == "≤-3"


def test_randomization_event_study(region: pd.DataFrame) -> None:
    res = EventStudyModel(
        region,
        outcome="s136",
        unit="force",
        treatment="treated",
        exposure="population",
        spec=EventStudySpec(leads=2, lags=2, width=12),
    ).fit("randomization")
    assert res.inference == "randomization"
    assert res.details["randomization"]["n_distinct"] == 60  # 5! / 2! assignments
    assert res.p_value == pytest.approx(1 / 60)  # the observed assignment is the most extreme
    assert res.ci_low < res.estimate < res.ci_high


def test_too_many_leads_for_the_clusters(region: pd.DataFrame) -> None:
    model = EventStudyModel(
        region,
        outcome="s136",
        unit="force",
        treatment="treated",
        exposure="population",
        spec=EventStudySpec(leads=6, lags=2, width=3),
    )
    with pytest.raises(EstimationError, match="needs more than 5 clusters"):
        model.fit("cluster")


def test_empty_bins_are_refused(region: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="no observations"):
        EventStudyModel(
            region,
            outcome="s136",
            unit="force",
            treatment="treated",
            spec=EventStudySpec(leads=2, lags=200, width=1),
        )


def test_kept_event_time_covariance_is_linearmodels_cluster_covariance(
    region: pd.DataFrame,
) -> None:
    """The coefficients and covariance the sensitivity bounds start from."""
    spec = EventStudySpec(leads=3, lags=2, width=6)
    res = EventStudyModel(
        region, outcome="s136", unit="force", treatment="treated", exposure="population", spec=spec
    ).fit("cluster")
    data = region.assign(rate=region["s136"] / region["population"] * 1e5)
    X = _bins(data, 3, 2, 6)
    data = pd.concat([data, X], axis=1).set_index(["force", "period"])
    direct = PanelOLS(
        data["rate"], data[list(X.columns)], entity_effects=True, time_effects=True
    ).fit(cov_type="clustered", cluster_entity=True)
    kept = res.event_time_covariance()
    assert kept is not None
    estimates, covariance = kept
    assert list(estimates.index) == [-3, -2, 0, 1, 2] == list(covariance.columns)
    names = [f"event_{b:+d}" for b in estimates.index]
    np.testing.assert_allclose(estimates.to_numpy(), direct.params[names].to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(
        covariance.to_numpy(), direct.cov.loc[names, names].to_numpy(), rtol=1e-8, atol=1e-14
    )
