"""Size of the wild cluster bootstrap with 5 and 12 forces, on the project simulator.

The study is :func:`evaltk.validation.simulation.wild_bootstrap_size` (also reported in the
book's validation chapter). Each test draws 500 datasets with NO effect of triage
(``effects={}``) from the project simulator (``evaltk.simulate``: force-level rate multipliers,
trend, seasonality, AR(1) and gamma noise, Poisson counts), fits the linear TWFE of the s136
rate per 100,000 by force and month with ``inference="auto"`` at the default 9,999 draws, and
counts rejections at 5 %.

Bound: the wild bootstrap rejects between 2.5 % and 8 % (500 replicates: the Monte Carlo
standard error of a 5 % rate is 1 %). The same run records how often the plain cluster-robust
(CR1, linearmodels) test rejects; it over-rejects, and the test asserts that it rejects more
often than the bootstrap. Measured when written: see the printed line (``pytest -s``).
"""

from __future__ import annotations

import pytest

from evaltk.validation.simulation import wild_bootstrap_size

REPLICATES = 500


def _rejections(n_clusters: int) -> dict[str, float]:
    result = wild_bootstrap_size(n_clusters, REPLICATES)
    rates = result.figures
    print(
        f"\n{n_clusters} forces, {REPLICATES} null datasets, rejection at 5 %: "
        f"wild bootstrap (auto: {result.description}) {rates['wild']:.3f}; "
        f"cluster-robust CR1 {rates['cluster']:.3f}; "
        f"WCR with weights by force {rates['unit_level']:.3f}"
    )
    assert result.all_met
    return rates


@pytest.mark.slow
def test_wild_bootstrap_size_with_five_forces() -> None:
    rates = _rejections(5)
    assert 0.025 <= rates["wild"] <= 0.08
    assert rates["cluster"] > rates["wild"]


@pytest.mark.slow
def test_wild_bootstrap_size_with_twelve_forces() -> None:
    rates = _rejections(12)
    assert 0.025 <= rates["wild"] <= 0.08
    assert rates["cluster"] > rates["wild"]
