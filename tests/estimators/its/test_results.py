from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pytest

from evaltk.estimators.its import ITSModel, ITSResult, ITSSpec

from ._series import poisson_series


@pytest.fixture(scope="module")
def res() -> ITSResult:
    sim = poisson_series(seed=3)
    frame = sim.series.assign(exposure=np.full(len(sim.series), 250_000.0))
    return ITSModel(frame, sim.start, ITSSpec(slope_change=True, washout_months=2)).fit()


def test_result_is_read_only(res: ITSResult) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.effect = None  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.effect.estimate = 1.0  # type: ignore[misc]
    params = res.params
    params.iloc[:] = 0.0
    frame = res.counterfactual
    frame["fitted"] = 0.0
    res.diagnostics["n_pre"] = -1
    assert (res.params != 0).all()
    assert (res.counterfactual["fitted"] > 0).all()
    assert res.diagnostics["n_pre"] == 48


def test_labelled_outputs(res: ITSResult) -> None:
    assert res.params.index.name == "parameter"
    assert list(res.params.index[:4]) == ["intercept", "time", "level", "slope"]
    assert list(res.conf_int().columns) == ["lower", "upper"]
    assert res.cov_params.shape == (len(res.params),) * 2
    wide, narrow = res.conf_int(0.99), res.conf_int(0.5)
    assert (wide["lower"] < narrow["lower"]).all()
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        res.conf_int(1.5)


def test_to_frame_is_tidy(res: ITSResult) -> None:
    frame = res.to_frame()
    assert list(frame.columns) == ["term", "estimate", "ci_low", "ci_high", "p_value", "scale"]
    assert frame["term"].tolist() == [
        "level_change",
        "slope_change",
        "trend_per_year",
        "relative_effect",
        "averted",
        "averted_model",
    ]
    assert (frame["ci_low"] <= frame["estimate"]).all()
    assert (frame["estimate"] <= frame["ci_high"]).all()


def test_to_dict_is_json_safe_and_deterministic(res: ITSResult) -> None:
    out = res.to_dict()
    text = json.dumps(out, allow_nan=False, sort_keys=True)
    assert text == json.dumps(res.to_dict(), allow_nan=False, sort_keys=True)
    back = json.loads(text)
    for key in ("estimate", "ci_low", "ci_high", "p_value", "scale", "n_units", "n_periods"):
        assert key in back
    assert back["estimate"] == res.effect.estimate
    assert back["start"] == res.start.date().isoformat()
    assert back["counterfactual"][0]["period"] == "2012-01-01"
    assert back["spec"]["washout_months"] == 2
    assert back["diagnostics"]["aic"] is None


def test_summary_and_html(res: ITSResult) -> None:
    text = res.summary()
    assert "quasi_poisson" in text and "level_change" in text and "(inclusive)" in text
    assert "washout: 2" in text
    html = res._repr_html_()
    assert html.startswith("<div>") and "<table" in html
    assert "level_change=" in repr(res)


def test_plot_returns_fig_and_ax(res: ITSResult) -> None:
    data = res.get_plot_data()
    assert data["washout"].sum() == 2
    fig, ax = res.plot(title="simulated")
    assert ax.get_title() == "simulated"
    labels = ax.get_legend_handles_labels()[1]
    assert {"observed", "fitted", "counterfactual"} <= set(labels)
    assert "washout (not fitted)" in labels
    fig.savefig(io.BytesIO(), format="png")
