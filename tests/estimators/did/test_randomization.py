"""Randomisation inference against a brute-force reference.

Reference: every distinct assignment of the observed start dates re-estimated by linearmodels'
PanelOLS from scratch; the closed form (one projection per assignment) must give the same
estimates (1e-8) and so the same exact p-value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from linearmodels import PanelOLS

from evaltk.estimators.did import InferenceSpec, TWFEModel
from evaltk.estimators.did.panel import build_panel
from evaltk.estimators.did.randomization import (
    assignments,
    count_assignments,
    p_value,
)
from evaltk.estimators.did.twfe import _linear_ri

from ._panels import toy_panel


def test_assignments_enumerate_distinct_permutations() -> None:
    start = np.array([3.0, 3.0, 5.0, np.inf, np.inf, np.inf])
    assert count_assignments(start) == 60  # 6! / (2! 3!)
    plan = assignments(start, 999, seed=1)
    assert plan.enumerated and plan.count == 60
    assert len({row.tobytes() for row in plan.starts}) == 60
    assert all(sorted(row.tolist()) == sorted(start.tolist()) for row in plan.starts)
    random = assignments(start, 30, seed=1)
    assert not random.enumerated and random.count == 30


def test_p_value_conventions() -> None:
    permuted = np.array([0.1, -0.5, 0.2, 0.9])
    assert p_value(0.5, permuted, enumerated=True) == 0.5
    assert p_value(0.5, permuted, enumerated=False) == (1 + 2) / (4 + 1)


def test_exact_p_value_matches_brute_force() -> None:
    frame = toy_panel(seed=4)
    res = TWFEModel(frame, outcome="y", treatment="treated").fit("randomization")
    panel = build_panel(frame, outcome="y", treatment="treated")
    plan = assignments(panel.start, 999, seed=None)
    estimates = []
    for start in plan.starts:
        d = (panel.clock >= start[panel.unit]).astype(float)
        index = pd.MultiIndex.from_arrays([panel.unit, panel.clock.astype(int)])
        fit = PanelOLS(
            pd.Series(panel.y, index=index),
            pd.DataFrame({"d": d}, index=index),
            entity_effects=True,
            time_effects=True,
        ).fit()
        estimates.append(fit.params["d"])
    observed = res.estimate
    expected = np.mean(np.abs(estimates) >= abs(observed) * (1 - 1e-9))
    assert res.p_value == pytest.approx(expected)
    assert res.details["randomization"]["enumerated"]


def test_inverted_p_values_equal_refitting_shifted_outcomes() -> None:
    """The closed form ``tau_p - tau0 gamma_p`` gives the p-value of re-fitting ``y - tau0 D``."""
    frame = toy_panel(seed=5)
    panel = build_panel(frame, outcome="y", treatment="treated")
    plan = assignments(panel.start, 999, seed=None)
    estimator = _linear_ri(panel, panel.y, panel.treated.astype(float))
    spec = InferenceSpec(method="randomization", ci=False)
    res = TWFEModel(frame, outcome="y", treatment="treated").fit(
        InferenceSpec(method="randomization", level=0.8)
    )
    assert res.ci_low < res.estimate < res.ci_high
    observed, _ = estimator(panel.start)
    est = np.array([estimator(row) for row in plan.starts])
    for tau in (res.ci_low - 0.01, res.ci_low + 0.01, 0.0, res.ci_high + 0.01, 0.37):
        closed = p_value(observed - tau, est[:, 0] - tau * est[:, 1], enumerated=True)
        shifted = frame.assign(y=frame["y"] - tau * frame["treated"])
        refit = TWFEModel(shifted, outcome="y", treatment="treated").fit(spec).p_value
        assert closed == pytest.approx(refit, abs=1e-12)
    low = p_value(
        observed - (res.ci_low - 0.01), est[:, 0] - (res.ci_low - 0.01) * est[:, 1], enumerated=True
    )
    assert low <= 0.2
