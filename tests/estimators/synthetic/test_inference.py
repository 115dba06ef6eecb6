"""Placebo in space (rank p-value), placebo in time, leave one donor out, placebo SE."""

from __future__ import annotations

import numpy as np
import pytest

from evaltk.errors import EstimationError
from evaltk.estimators.synthetic import Predictor, synthetic_control, synthetic_data, synthetic_did
from evaltk.estimators.synthetic.adh import fit_sc
from evaltk.estimators.synthetic.inference import (
    PlaceboInSpace,
    placebo_in_space,
    placebo_in_time,
    ratio,
    rmspe,
)
from evaltk.estimators.synthetic.sdid import fit_weighted, placebo_refit

from ._panel import factor_panel


def test_rank_p_value_counts_ties_against_the_treated_unit() -> None:
    # Four units; pre gaps all 1, post gaps 3, 2, 3, 1: ratios 3, 2, 3, 1.
    gaps = np.array([[1.0, 1.0, 3.0], [1.0, 1.0, 2.0], [1.0, 1.0, 3.0], [1.0, 1.0, 1.0]])
    space = PlaceboInSpace(("t", "a", "b", "c"), np.zeros(4), gaps, n_pre=2)
    assert space.ratios == pytest.approx([3.0, 2.0, 3.0, 1.0])
    assert (space.rank, space.p_value, space.smallest_p) == (2, 0.5, 0.25)
    table = space.table()
    assert table["unit"].tolist()[:2] == ["t", "b"] and table["rank"].tolist()[:2] == [2, 2]


def test_rmspe_ratio_edge_cases() -> None:
    assert rmspe(np.array([3.0, 4.0, 6.0, 8.0]), 2) == pytest.approx((np.sqrt(12.5), np.sqrt(50.0)))
    assert ratio(0.0, 1.0) == np.inf and ratio(0.0, 0.0) == 1.0


@pytest.mark.parametrize("fitter", ["sc", "sdid"])
def test_a_large_effect_ranks_first(fitter: str) -> None:
    data = synthetic_data(factor_panel(seed=3, effect=30.0), treated="u00", start=14)
    fit_one = fit_sc if fitter == "sc" else (lambda d: fit_weighted(d, "sdid"))
    fit = fit_one(data)
    space = placebo_in_space(data, fit_one, fit)
    assert fit.estimate == pytest.approx(30.0, abs=2.0)
    assert space.units[0] == "u00" and len(space.units) == 12
    assert (space.rank, space.p_value) == (1, pytest.approx(1 / 12))
    assert space.gaps.shape == (12, 20)


def test_placebo_in_time_and_leave_one_out_of_the_synthetic_control() -> None:
    data = synthetic_data(factor_panel(seed=5, effect=10.0), treated="u00", start=14)
    result = synthetic_control(data)
    in_time = result.placebo_time
    assert in_time is not None and in_time.start == 7 and in_time.n_pre == 7
    # Before the real start there is no effect: the pretend one is small beside the real one.
    assert abs(in_time.estimate) < 1.0 < 8.0 < result.estimate
    loo = result.leave_one_out
    assert loo is not None
    used = [d for d, w in zip(data.donors, result.weights, strict=True) if w > 1e-6]
    assert list(loo.donors) == used and loo.estimates.size == len(used)
    for donor, estimate in zip(loo.donors, loo.estimates, strict=True):
        alone = fit_sc(data.without_donor(data.donors.index(donor)))
        assert estimate == pytest.approx(alone.estimate)


def test_sdid_placebo_se_is_algorithm_4_over_every_donor() -> None:
    data = synthetic_data(factor_panel(seed=8, units=8), treated="u00", start=14)
    result = synthetic_did(data, robustness=False)
    fit = fit_weighted(data, "sdid")
    placebos = [placebo_refit(fit, data, j) for j in range(data.n_donors)]
    assert result.placebo_se == pytest.approx(float(np.std(placebos)))
    assert result.estimate == pytest.approx(fit.estimate)
    assert result.placebo_time is None and result.leave_one_out is None


def test_refusals_are_one_line() -> None:
    data = synthetic_data(factor_panel(), treated="u00", start=14)
    with pytest.raises(EstimationError, match=r"between 2 and 13 periods before the pretend start"):
        placebo_in_time(data, fit_sc, 1)
    with_x = synthetic_data(
        factor_panel(), treated="u00", start=14, predictors=[Predictor("y", (1, 2))]
    )
    with pytest.raises(EstimationError, match=r"synthetic DiD: predictors are not used"):
        synthetic_did(with_x)
