from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.errors import EstimationError
from evaltk.estimators.its import ITSModel, ITSSpec, design_matrix

START = pd.Timestamp("2005-01-01")


def series(n: int = 24, first: str = "2004-01-01", **extra: object) -> pd.DataFrame:
    periods = pd.date_range(first, periods=n, freq="MS")
    return pd.DataFrame({"period": periods, "y": np.arange(n) % 7 + 3, **extra})


def test_level_is_inclusive_and_slope_is_one_at_start() -> None:
    periods = pd.date_range("2004-10-01", periods=6, freq="MS")
    x = design_matrix(periods, START, ITSSpec(slope_change=True, seasonality="none"))
    assert list(x.columns) == ["intercept", "time", "level", "slope"]
    assert x["time"].tolist() == [1, 2, 3, 4, 5, 6]
    assert x["level"].tolist() == [0, 0, 0, 1, 1, 1]
    assert x.loc[START, "level"] == 1
    assert x["slope"].tolist() == [0, 0, 0, 1, 2, 3]


def test_fourier_terms_match_tsmodel_harmonic() -> None:
    # R: tsModel::harmonic(month, 2, 12) = cbind(sin(outer(month, 1:2 * 2 * pi / 12)), cos(...))
    periods = pd.date_range("2004-01-01", periods=12, freq="MS")
    x = design_matrix(periods, START, ITSSpec(harmonics=2))
    month = np.arange(1, 13)
    assert list(x.columns) == ["intercept", "time", "level", "sin1", "cos1", "sin2", "cos2"]
    for k in (1, 2):
        np.testing.assert_allclose(x[f"sin{k}"], np.sin(month * k * 2 * np.pi / 12))
        np.testing.assert_allclose(x[f"cos{k}"], np.cos(month * k * 2 * np.pi / 12))
    assert x.loc["2004-03-01", "sin1"] == pytest.approx(1.0)  # March: sin(pi/2)


def test_month_indicators() -> None:
    periods = pd.date_range("2004-01-01", periods=14, freq="MS")
    x = design_matrix(periods, START, ITSSpec(seasonality="month"))
    months = [c for c in x.columns if c.startswith("month_")]
    assert months == [f"month_{m:02d}" for m in range(2, 13)]
    assert x.loc["2004-01-01", months].sum() == 0  # January is the reference
    assert x.loc["2005-02-01", "month_02"] == 1


def test_washout_dropped_from_fit_and_post_sums() -> None:
    d = ITSModel(series(24), START, ITSSpec(washout_months=3, seasonality="none")).design
    washout = d.post & ~d.in_fit
    assert d.periods[washout].strftime("%Y-%m").tolist() == ["2005-01", "2005-02", "2005-03"]
    assert (d.n_pre, d.n_post, d.n_washout) == (12, 9, 3)
    assert d.exog.loc["2005-04-01", "time"] == 16  # washout months keep their time number


def test_unsorted_rows_are_sorted_without_touching_caller() -> None:
    s = series(24).sample(frac=1.0, random_state=1)
    before = s.copy()
    d = ITSModel(s, START).design
    assert d.periods.is_monotonic_increasing
    pd.testing.assert_frame_equal(s, before)


def test_gap_is_named() -> None:
    s = series(24)
    s = s[~s["period"].isin(pd.to_datetime(["2004-05-01", "2004-06-01"]))]
    with pytest.raises(
        EstimationError, match=r"gap: no row for 2004-05 to 2004-06 \(between 2004-04"
    ):
        ITSModel(s, START)


def test_duplicate_month_is_named() -> None:
    s = series(24)
    s = pd.concat([s, s.iloc[[3]]])
    with pytest.raises(EstimationError, match="more than one row for 2004-04"):
        ITSModel(s, START)


def test_period_must_be_month_start() -> None:
    s = series(24)
    s.loc[2, "period"] = pd.Timestamp("2004-03-15")
    with pytest.raises(EstimationError, match="2004-03-15 00:00:00 is not the start of a month"):
        ITSModel(s, START)
    with pytest.raises(EstimationError, match="start 2005-01-10"):
        ITSModel(series(24), "2005-01-10")


def test_period_dtype_and_strings_accepted() -> None:
    s = series(24)
    as_period = s.assign(period=s["period"].dt.to_period("M"))
    as_text = s.assign(period=s["period"].dt.strftime("%Y-%m-%d"))
    base = ITSModel(s, START).exog
    pd.testing.assert_frame_equal(ITSModel(as_period, START).exog, base)
    pd.testing.assert_frame_equal(ITSModel(as_text, "2005-01-01").exog, base)


@pytest.mark.parametrize(
    ("n", "first", "washout", "fragment"),
    [
        (14, "2004-11-01", 0, "has 2 before and 12 after"),
        (14, "2004-01-01", 0, "has 12 before and 2 after"),
        (17, "2004-01-01", 3, r"has 12 before and 2 after \(not counting the 3-month washout\)"),
        (12, "2004-01-01", 0, "has 12 before and 0 after"),
    ],
)
def test_too_few_points(n: int, first: str, washout: int, fragment: str) -> None:
    spec = ITSSpec(seasonality="none", washout_months=washout)
    with pytest.raises(EstimationError, match=f"at least 3 months before and 3 after.*{fragment}"):
        ITSModel(series(n, first), START, spec)


def test_three_and_three_is_enough() -> None:
    res = ITSModel(series(6, "2004-10-01"), START, ITSSpec(seasonality="none")).fit()
    assert (res.n_pre, res.n_post) == (3, 3)


def test_zero_counts_fine() -> None:
    s = series(24).assign(y=[0, 1] * 12)
    assert np.isfinite(ITSModel(s, START).fit().effect.estimate)


def test_all_zero_counts_refused() -> None:
    with pytest.raises(EstimationError, match="zero in every fitted month"):
        ITSModel(series(24).assign(y=0), START)


@pytest.mark.parametrize("bad", [0.0, -5.0, np.nan])
def test_nonpositive_exposure_names_period(bad: float) -> None:
    exposure = np.full(24, 1000.0)
    exposure[5] = bad
    with pytest.raises(EstimationError, match=r"exposure' must be positive.*2004-06"):
        ITSModel(series(24, exposure=exposure), START)


def test_gaussian_with_exposure_refused() -> None:
    s = series(24, exposure=np.full(24, 1000.0))
    with pytest.raises(EstimationError, match=r"'gaussian'.*takes no exposure"):
        ITSModel(s, START, ITSSpec(family="gaussian"))


def test_missing_or_negative_outcome_names_period() -> None:
    s = series(24).astype({"y": float})
    s.loc[3, "y"] = np.nan
    with pytest.raises(EstimationError, match="missing or infinite for 2004-04"):
        ITSModel(s, START)
    s.loc[3, "y"] = -1
    with pytest.raises(EstimationError, match="negative for 2004-04"):
        ITSModel(s, START)
    ITSModel(s, START, ITSSpec(family="gaussian"))  # negative values are fine on that scale


def test_missing_columns_named() -> None:
    with pytest.raises(EstimationError, match="lacks column\\(s\\) 'y'"):
        ITSModel(series(24).rename(columns={"y": "count"}), START)


def test_unidentified_month_indicators() -> None:
    with pytest.raises(EstimationError, match=r"not identified.*Month indicators"):
        ITSModel(series(8, "2004-09-01"), START, ITSSpec(seasonality="month"))


def test_no_fitting_in_init(monkeypatch: pytest.MonkeyPatch) -> None:
    import evaltk.estimators.its.model as model_module

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("fitted in __init__")

    monkeypatch.setattr(model_module, "_fit", boom)
    ITSModel(series(24), START)


def test_gaps_refused_by_default_and_keep_the_calendar_clock_when_allowed() -> None:
    periods = pd.date_range("2015-01-01", periods=36, freq="MS")
    rng = np.random.default_rng(3)
    series = pd.DataFrame({"period": periods, "y": rng.poisson(40, 36).astype(float)})
    gapped = series.drop(index=[5, 6]).reset_index(drop=True)
    spec = ITSSpec(seasonality="none")
    start = pd.Timestamp("2016-01-01")
    with pytest.raises(EstimationError, match="gap: no row for 2015-06 to 2015-07"):
        ITSModel(gapped, start, spec)
    design = ITSModel(gapped, start, spec, allow_gaps=True).design
    # Month 8 (2015-08) keeps time 8 although it is the 6th row.
    assert design.exog["time"].iloc[5] == 8.0
    assert design.exog["time"].iloc[-1] == 36.0
