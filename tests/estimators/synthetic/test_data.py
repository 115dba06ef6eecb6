"""The outcome matrix: donors then treated, summed regions, and one-line refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.errors import EstimationError
from evaltk.estimators.synthetic import Predictor, synthetic_data

from ._panel import factor_panel


def test_layout_donors_first_treated_last() -> None:
    frame = factor_panel()
    data = synthetic_data(frame, treated="u00", start=14)
    assert data.donors == tuple(f"u{i:02d}" for i in range(1, 12))
    assert (data.n_pre, data.n_post, data.start) == (14, 6, 14)
    expected = frame[frame.unit == "u00"].sort_values("period")["y"].to_numpy()
    assert np.array_equal(data.treated_series, expected)
    assert frame.equals(factor_panel())  # the caller's frame is untouched


def test_several_treated_units_are_summed_into_one_region() -> None:
    frame = factor_panel()
    data = synthetic_data(frame, treated=["u00", "u01"], start=14, donors=["u02", "u03", "u04"])
    both = frame[frame.unit.isin(["u00", "u01"])].groupby("period")["y"].sum().to_numpy()
    assert data.treated == "u00+u01"
    assert data.treated_series == pytest.approx(both)
    assert data.donors == ("u02", "u03", "u04")


def test_placebo_moves_the_treated_unit_into_the_pool() -> None:
    data = synthetic_data(factor_panel(), treated="u00", start=14)
    placebo = data.as_treated(2)
    assert placebo.treated == "u03" and "u00" in placebo.donors and "u03" not in placebo.donors
    assert np.array_equal(placebo.treated_series, data.donor_matrix[2])
    row = placebo.donors.index("u00")
    assert np.array_equal(placebo.donor_matrix[row], data.treated_series)
    controls_only = data.as_treated(2, treated_as_donor=False)
    assert "u00" not in controls_only.donors and controls_only.n_donors == data.n_donors - 1


def test_placebo_in_time_drops_predictors_from_the_pretend_start_on() -> None:
    frame = factor_panel()
    data = synthetic_data(
        frame,
        treated="u00",
        start=14,
        predictors=[Predictor("y", (2, 3)), Predictor("y", (10, 11))],
    )
    assert data.predictors == ("y (2-3)", "y (10-11)")
    early = data.truncated(14, 7)
    assert early.predictors == ("y (2-3)",) and early.x is not None and early.x.shape == (1, 12)
    assert early.n_post == 7 and early.start == 7


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"treated": "zz"}, r"treated unit 'zz' is not in the data"),
        ({"treated": "u00", "donors": ["u00", "u01"]}, r"'u00' is both treated and a donor"),
        ({"treated": "u00", "donors": ["u01"]}, r"needs at least two donors"),
        ({"treated": "u00", "donors": ["u01", "nope"]}, r"donor 'nope' is not in the data"),
        ({"treated": "u00", "start": 1}, r"needs at least two periods before 1"),
        (
            {"treated": ["u00", "u01"], "predictors": [Predictor("y", (1,))]},
            r"predictors need one treated unit",
        ),
        (
            {"treated": "u00", "predictors": [Predictor("y", (13, 14))]},
            r"predictor y \(13-14\) uses periods from 14 on",
        ),
    ],
)
def test_bad_input_is_one_clear_error(kwargs: dict, message: str) -> None:
    with pytest.raises(EstimationError, match=message):
        synthetic_data(factor_panel(), **({"start": 14} | kwargs))


def test_a_missing_unit_period_is_named() -> None:
    frame = factor_panel()
    holed = frame.drop(frame[(frame.unit == "u05") & (frame.period == 3)].index)
    with pytest.raises(EstimationError, match=r"unit 'u05' has no single 'y' value in period 3"):
        synthetic_data(holed, treated="u00", start=14)
    doubled = pd.concat([frame, frame.iloc[[0]]])
    with pytest.raises(EstimationError, match=r"unit 'u00' has no single 'y' value in period 0"):
        synthetic_data(doubled, treated="u00", start=14)
