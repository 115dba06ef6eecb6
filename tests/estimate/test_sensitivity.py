"""The sensitivity record an event-study or staggered outcome carries into results.json."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.estimate.sensitivity import from_event_times
from evaltk.estimators.sensitivity import rm_interval, sd_flci
from evaltk.verdict.outcome_result import _sensitivity

TIMES = [-3, -2, 0]
BETA = np.array([0.02, 0.05, 0.30])
SIGMA = 0.04**2 * (0.3 * np.ones((3, 3)) + 0.7 * np.eye(3))


def _record(scale: str) -> dict:
    return from_event_times(
        pd.Series(BETA, index=TIMES),
        pd.DataFrame(SIGMA, index=TIMES, columns=TIMES),
        0.95,
        scale,
        seed=0,
    )


def test_record_holds_the_bounds_and_breakdown_values_and_fits_the_schema() -> None:
    record = _record("difference")
    assert record["computed"] and record["n_pre"] == 2 and record["n_post"] == 1
    rm = [r for r in record["rows"] if r["restriction"] == "relative_magnitudes"]
    direct = rm_interval(BETA, SIGMA, 2, 1, np.array([1.0]), rm[1]["bound"], 0.95)
    assert (rm[1]["ci_low"], rm[1]["ci_high"]) == pytest.approx((direct.low, direct.high))
    sd = [r for r in record["rows"] if r["restriction"] == "smoothness"]
    flci = sd_flci(BETA, SIGMA, 2, 1, np.array([1.0]), sd[2]["bound"], 0.95)
    assert (sd[2]["ci_low"], sd[2]["ci_high"]) == pytest.approx((flci.low, flci.high))
    # The breakdown value is where the relative-magnitudes set starts to hold zero.
    mbar = record["breakdown_mbar"]
    assert 0 < mbar < record["search_max_mbar"]
    below = rm_interval(BETA, SIGMA, 2, 1, np.array([1.0]), 0.95 * mbar, 0.95)
    above = rm_interval(BETA, SIGMA, 2, 1, np.array([1.0]), 1.1 * mbar, 0.95)
    assert below.excludes(0.0) and not above.excludes(0.0)
    assert record["sentence"] == (
        "The conclusion holds unless post-start trend differences exceed "
        f"{mbar:.2f} times the largest pre-start one."
    )
    schema = _sensitivity(record)
    assert schema is not None and schema.computed and len(schema.bounds) == len(record["rows"])
    assert [b.excludes_null for b in schema.bounds[:2]] == [
        not (r["ci_low"] <= 0 <= r["ci_high"]) for r in rm[:2]
    ]


def test_ratio_scale_reports_rate_ratios_against_one() -> None:
    log_scale, ratio = _record("difference"), _record("ratio")
    assert ratio["null"] == 1.0 and ratio["estimate"] == pytest.approx(np.exp(0.30))
    for a, b in zip(log_scale["rows"], ratio["rows"], strict=True):
        assert b["ci_low"] == pytest.approx(np.exp(a["ci_low"]))
        assert b["ci_high"] == pytest.approx(np.exp(a["ci_high"]))


def test_singular_covariance_is_recorded_as_not_computed_with_the_reason() -> None:
    times = [-3, -2, 0, 1]
    influence = np.random.default_rng(0).normal(size=(3, 4))  # 3 units, 4 event times
    record = from_event_times(
        pd.Series([0.0, 0.1, 0.2, 0.3], index=times),
        pd.DataFrame(influence.T @ influence / 9, index=times, columns=times),
        0.95,
        "difference",
        seed=0,
    )
    assert record == {
        "computed": False,
        "reason": "the covariance of the 4 event-time coefficients is singular (rank 3): the "
        "bounds need one of full rank (more units, or fewer event times)",
    }
    schema = _sensitivity(record)
    assert schema is not None and not schema.computed and "rank 3" in schema.reason


def test_event_study_with_many_units_carries_computed_bounds_on_its_headline() -> None:
    from evaltk.estimate.sensitivity import event_study_sensitivity
    from evaltk.estimators.did import EventStudyModel, EventStudySpec
    from tests.estimators.did._panels import toy_panel

    starts = {u: (5 + u % 3 if u < 20 else None) for u in range(40)}
    frame = toy_panel(n_units=40, n_periods=10, starts=starts, seed=3, effect=1.3)
    study = EventStudyModel(
        frame,
        outcome="y",
        unit="unit",
        treatment="treated",
        exposure="pop",
        spec=EventStudySpec(leads=3, lags=2, width=1),
    ).fit("cluster")
    record = event_study_sensitivity(study, 0.95, seed=0)
    assert record["computed"], record
    assert record["event_times"] == [-3, -2, 0, 1, 2]
    # The target is the event study's own headline: the mean of the post-start bins.
    assert record["estimate"] == pytest.approx(study.estimate, rel=1e-10)
    assert "cluster-robust covariance" in record["note"]
    assert _sensitivity(record) is not None
