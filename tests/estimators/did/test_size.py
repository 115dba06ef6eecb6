"""Size of the wild cluster bootstrap with 5 and 12 forces, on the project simulator.

Each test draws 500 datasets with NO effect of triage (``effects={}``) from the project
simulator (``evaltk.simulate``: force-level rate multipliers, trend, seasonality, AR(1) and
gamma noise, Poisson counts), fits the linear TWFE of the s136 rate per 100,000 by force and
month with ``inference="auto"`` at the default 9,999 draws, and counts rejections at 5 %.

Bound: the wild bootstrap rejects between 2.5 % and 8 % (500 replicates: the Monte Carlo
standard error of a 5 % rate is 1 %). The same run records how often the plain cluster-robust
(CR1, linearmodels) test rejects; it over-rejects, and the test asserts that it rejects more
often than the bootstrap. Measured when written: see the printed line (``pytest -s``).
"""

from __future__ import annotations

import numpy as np
import pytest

from evaltk.estimators.did import InferenceSpec, TWFEModel
from evaltk.estimators.did.design import linear_response, wild_design
from evaltk.estimators.did.wild_bootstrap import LinearWCR, draw_weights

from ._simulation import REGION, TWELVE, null_panel

REPLICATES = 500
SPEC = InferenceSpec(ci=False)


def _rejections(config, n_clusters: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    wild, cluster, unit_level = [], [], []
    unit_weights = draw_weights(n_clusters, 9999, "auto", seed=1)
    for seed in range(REPLICATES):
        model = TWFEModel(
            null_panel(config, seed),
            outcome="s136",
            unit="force",
            treatment="treated",
            exposure="population",
        )
        res = model.fit(SPEC)
        assert res.inference == "wild_bootstrap"
        wild.append(res.p_value)
        cluster.append(res.details["cluster"]["p_value"])
        # the ordinary (weights by force) WCR, for the record
        panel = model.panel
        y, X = wild_design(panel, linear_response(panel, 1e5), panel.treated[:, None] * 1.0)
        R = np.zeros(X.shape[1])
        R[0] = 1.0
        unit_level.append(LinearWCR(y, X, panel.unit).t_test(R, unit_weights).p_value)
    rates = {
        name: float(np.mean(np.array(p) <= 0.05))
        for name, p in (("wild", wild), ("cluster", cluster), ("unit_level", unit_level))
    }
    print(
        f"\n{n_clusters} forces, {REPLICATES} null datasets, rejection at 5 %: "
        f"wild bootstrap (auto: {res.inference_text}) {rates['wild']:.3f}; "
        f"cluster-robust CR1 {rates['cluster']:.3f}; "
        f"WCR with weights by force {rates['unit_level']:.3f}"
    )
    return rates


@pytest.mark.slow
def test_wild_bootstrap_size_with_five_forces() -> None:
    rates = _rejections(REGION, 5)
    assert 0.025 <= rates["wild"] <= 0.08
    assert rates["cluster"] > rates["wild"]


@pytest.mark.slow
def test_wild_bootstrap_size_with_twelve_forces() -> None:
    rates = _rejections(TWELVE, 12)
    assert 0.025 <= rates["wild"] <= 0.08
    assert rates["cluster"] > rates["wild"]
