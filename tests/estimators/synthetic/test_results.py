"""SyntheticResult satisfies the estimators' result contract."""

from __future__ import annotations

import pandas as pd
import pytest

from evaltk.estimators.effect import critical_value
from evaltk.estimators.result import TIDY_COLUMNS, EstimatorResult
from evaltk.estimators.synthetic import (
    Predictor,
    SyntheticResult,
    synthetic_control,
    synthetic_data,
    synthetic_did,
)

from ._panel import factor_panel


@pytest.fixture(scope="module")
def sc() -> SyntheticResult:
    frame = factor_panel(seed=11, effect=-6.0)
    frame.loc[frame.unit == "u03", "unit"] = "<b>u03</b>"
    data = synthetic_data(
        frame,
        treated="u00",
        start=14,
        predictors=[Predictor("y", (0, 1, 2)), Predictor("y", (12,))],
    )
    return synthetic_control(data)


@pytest.fixture(scope="module")
def sdid() -> SyntheticResult:
    return synthetic_did(
        synthetic_data(factor_panel(seed=11, effect=-6.0), treated="u00", start=14)
    )


def test_both_satisfy_the_contract(sc: SyntheticResult, sdid: SyntheticResult) -> None:
    for result in (sc, sdid):
        assert isinstance(result, EstimatorResult)
        head = result.headline
        assert head.term == "att" and head.scale == "difference" and head.df is None
        assert head.p_value == result.placebo_space.p_value
        half = critical_value(0.95) * result.placebo_se
        assert (head.ci_low, head.ci_high) == pytest.approx(
            (result.estimate - half, result.estimate + half)
        )
        tidy = result.tidy()
        assert tuple(tidy.columns) == TIDY_COLUMNS
        assert tidy["term"].tolist()[0] == "att"
        assert tidy.iloc[0]["estimate"] == pytest.approx(result.estimate)
        assert {"placebo_in_time", "leave_one_out_min", "leave_one_out_max"} <= set(tidy["term"])
        assert result.synthetic == pytest.approx(result.data.treated_series - result.gaps)


def test_summary_says_where_the_p_value_and_interval_come_from(sc: SyntheticResult) -> None:
    text = sc.summary()
    assert text.startswith("Synthetic control (Abadie, Diamond & Hainmueller 2010): u00")
    assert f"rank {sc.placebo_space.rank} of 12 by post/pre RMSPE ratio" in text
    assert "placebo standard error" in text
    assert "Donor weights" in text and "Predictor balance" in text and "y (0-2)" in text
    balance = sc.predictor_balance()
    assert isinstance(balance, pd.DataFrame)
    assert balance["synthetic"].tolist() == pytest.approx(
        (sc.data.x[:, :-1] @ sc.weights).tolist()  # type: ignore[index]
    )


def test_html_escapes_unit_names(sc: SyntheticResult) -> None:
    html = sc._repr_html_()
    assert "<b>u03</b>" not in html and "&lt;b&gt;u03&lt;/b&gt;" in html


def test_sdid_keeps_its_time_weights(sdid: SyntheticResult) -> None:
    assert sdid.time_weights is not None and sdid.time_weights.sum() == pytest.approx(1.0)
    assert sdid.predictor_weights is None and sdid.predictor_balance() is None
    assert sdid.summary().startswith("Synthetic difference-in-differences (Arkhangelsky")


def test_plots(sc: SyntheticResult) -> None:
    _fig, ax = sc.plot(title="paths")
    assert ax.get_title() == "paths" and len(ax.get_lines()) == 3
    _fig, ax = sc.plot_placebos()
    # 11 placebo gaps, the treated gap, the zero line and the start line.
    assert len(ax.get_lines()) == 11 + 1 + 2
    assert ax.get_lines()[11].get_color() == "black"
