"""Result objects: frozen, tidy, rendered as text, HTML, JSON and figures."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from evaltk.errors import EstimationError
from evaltk.estimators.staggered import AggregateResult, CallawaySantAnna, CSResult

from ._panel import simulate


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return simulate(np.random.default_rng(4), n=300)


@pytest.fixture(scope="module")
def res(data: pd.DataFrame) -> CSResult:
    return CallawaySantAnna(data, outcome="y", unit="id", time="t", group="g").fit()


def test_to_frame(res: CSResult) -> None:
    f = res.to_frame()
    assert list(f.columns) == [
        "group", "time", "event_time", "base_period", "post",
        "att", "std_error", "ci_low", "ci_high", "p_value",
    ]  # fmt: skip
    assert f["group"].dtype == np.int64 and f["time"].dtype == np.int64
    assert len(f) == 3 * 5
    assert (f["event_time"] == f["time"] - f["group"]).all()
    assert (f["post"] == (f["group"] <= f["time"])).all()
    np.testing.assert_allclose(f["ci_high"] - f["att"], 1.959964 * f["std_error"], rtol=1e-6)
    f.loc[0, "att"] = 99.0
    assert res.to_frame().loc[0, "att"] != 99.0


def test_results_are_frozen(res: CSResult) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.crit_val = 1.0  # type: ignore[misc]
    agg = res.aggregate("group")
    with pytest.raises(dataclasses.FrozenInstanceError):
        agg.estimate = 0.0  # type: ignore[misc]
    levels = agg.levels
    levels.loc[0, "estimate"] = 99.0
    assert agg.levels.loc[0, "estimate"] != 99.0


def test_influence_functions_are_centred(res: CSResult) -> None:
    inf = res.influence_function()
    assert inf.shape == (300, 15)
    assert inf.index.name == "id" and sorted(inf.index) == list(range(300))
    np.testing.assert_allclose(inf.mean(), 0.0, atol=1e-10)
    agg = res.aggregate("dynamic").influence_function()
    assert agg.columns[-1] == "overall"
    np.testing.assert_allclose(agg.mean(), 0.0, atol=1e-10)


def test_to_dict_is_json(res: CSResult) -> None:
    d = res.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == d
    for key in ("estimate", "ci_low", "ci_high", "p_value", "scale", "n_units", "n_periods"):
        assert key in d
    assert d["scale"] == "difference"
    assert d["estimate"] == pytest.approx(res.aggregate("simple").estimate)
    assert d["attgt"][0]["group"] == 3 and isinstance(d["attgt"][0]["time"], int)
    assert set(d["aggregations"]) == {"simple", "group", "dynamic", "calendar"}
    assert d["pretest"]["df"] == 6


def test_text_and_html(res: CSResult) -> None:
    text = res.summary()
    assert "Callaway & Sant'Anna" in text and "Pre-trend Wald test" in text
    assert "doubly robust" in text and "never treated" in text
    assert "<table" in res._repr_html_()
    assert "CSResult(" in repr(res)
    agg = res.aggregate("dynamic")
    assert "event time" in agg.summary()
    assert "<table" in agg._repr_html_()
    tidy = agg.to_frame()
    assert tidy["term"].iloc[0] == "overall" and tidy["term"].iloc[1].startswith("e=")


@pytest.mark.parametrize("kind", ["simple", "group", "dynamic", "calendar"])
def test_aggregate_plots(res: CSResult, kind: str) -> None:
    fig, ax = res.aggregate(kind).plot()
    assert isinstance(fig, Figure) and isinstance(ax, Axes)
    fig.savefig(io.BytesIO(), format="png")


def test_event_study_and_heatmap(res: CSResult) -> None:
    for fig, ax in (res.plot_event_study(), res.plot_heatmap(), res.plot()):
        assert isinstance(fig, Figure) and isinstance(ax, Axes)
        fig.savefig(io.BytesIO(), format="png")
    fig = Figure()
    ax = fig.add_subplot()
    assert res.plot_heatmap(ax=ax)[1] is ax


def test_universal_base_period(data: pd.DataFrame) -> None:
    res = CallawaySantAnna(
        data, outcome="y", unit="id", time="t", group="g", base_period="universal"
    ).fit(cband=True, n_boot=300)
    f = res.to_frame()
    base = f[f["time"] == f["group"] - 1]
    assert (base["att"] == 0).all() and base["std_error"].isna().all()
    dyn = res.aggregate("dynamic")
    row = dyn.levels.set_index("event_time").loc[-1]
    assert row["estimate"] == 0 and np.isnan(row["std_error"])
    res.plot_heatmap()
    json.dumps(res.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    ("args", "kw", "message"),
    [
        (("weekly",), {}, "not supported"),
        (("group",), {"min_e": 0}, "dynamic"),
        (("calendar",), {"max_e": 2}, "calendar"),
        (("dynamic",), {"min_e": 10}, "no event times"),
        (("dynamic",), {"balance_e": -1}, "balance_e"),
        (("simple",), {"alpha": 0}, "alpha"),
        (("dynamic",), {"min_e": "-2"}, "min_e must be a number"),
    ],
)
def test_aggregate_errors(res: CSResult, args: tuple, kw: dict, message: str) -> None:
    with pytest.raises(EstimationError, match=message):
        res.aggregate(*args, **kw)


def test_dynamic_window_and_alpha(res: CSResult) -> None:
    agg = res.aggregate("dynamic", min_e=-1, max_e=1, alpha=0.1)
    assert list(agg.levels["event_time"]) == [-1, 0, 1]
    assert agg.crit_val == pytest.approx(1.644854, abs=1e-6)
    assert isinstance(agg, AggregateResult)
    pre_only = res.aggregate("dynamic", max_e=-1)
    assert np.isnan(pre_only.estimate) and pre_only.notes


def test_no_pre_periods(data: pd.DataFrame) -> None:
    df = simulate(np.random.default_rng(2), n=100, cohorts=(0, 2), shares=(0.5, 0.5))
    res = CallawaySantAnna(df, outcome="y", unit="id", time="t", group="g").fit()
    assert res.pretest.statistic is None and "no pre-treatment" in res.pretest.reason
    assert "not computed" in res.summary()


def test_heatmap_of_many_periods_stays_readable(res: CSResult) -> None:
    from evaltk.estimators.staggered.plot import MAX_HEATMAP_WIDTH_INCHES, plot_heatmap

    frame = res.to_frame()
    times = np.sort(frame["time"].unique())
    fig, ax = plot_heatmap(frame)
    labels = [t.get_text() for t in ax.texts]
    if len(times) <= 12:  # few periods: every cell shows its value
        assert all(label.rstrip("*") for label in labels)
    many = pd.concat([frame.assign(time=frame["time"] + 100 * k) for k in range(4)])
    fig, ax = plot_heatmap(many)
    assert fig.get_size_inches()[0] == MAX_HEATMAP_WIDTH_INCHES
    assert {t.get_text() for t in ax.texts} <= {"*", ""}
