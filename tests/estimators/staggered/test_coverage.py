"""Coverage of the Callaway & Sant'Anna intervals by simulation with known truth.

DGP (``_panel.py``): balanced panels of units observed in periods 1-6, cohorts first treated
in periods 3, 4 and 5 (20 % each) or never (40 %), unit effects, a common trend and
N(0, 1) noise; the effect in cohort g at period t >= g is ``1 + 0.1 (t - g)``. The true
simple ATT weights those effects by the population cohort shares (without
selection, 10/9: the mean over the 9 post-treatment cells). Two designs:

* unconditional parallel trends, ``dr`` without covariates, 300 units, 400 replicates;
* parallel trends only given a covariate x (a trend ``0.3 x t`` and treatment more likely
  for high x, logit slope 0.8), ``dr`` with x, 400 units, 200 replicates. The same data
  without x must be visibly biased, so the test shows that the covariate adjustment (and its
  influence function) is what brings coverage back.

Bound: the 95 % interval of the simple ATT covers the truth in 90-99 % of replicates. With
400 (200) replicates the binomial standard deviation of the coverage is 1.1 (1.5) points, so
a correct interval fails this bound with probability well under 0.1 %. Under parallel trends
the Wald pre-test rejects at 5 % in 1-10 % of replicates.
"""

from __future__ import annotations

import numpy as np
import pytest

from evaltk.estimators.staggered import CallawaySantAnna

from ._panel import simulate, true_simple_att

pytestmark = pytest.mark.slow

LOW, HIGH = 0.90, 0.99


def _replicate(seed: int, covariates: list[str] | None, **dgp: float) -> tuple[float, ...]:
    df = simulate(np.random.default_rng(seed), **dgp)  # type: ignore[arg-type]
    res = CallawaySantAnna(
        df, outcome="y", unit="id", time="t", group="g", covariates=covariates
    ).fit()
    s = res.aggregate("simple")
    return s.estimate, s.ci_low, s.ci_high, res.pretest.p_value or np.nan


def test_coverage_unconditional_parallel_trends() -> None:
    truth = true_simple_att()
    assert truth == pytest.approx(10 / 9)
    out = np.array([_replicate(1000 + r, None, n=300) for r in range(400)])
    covered = (out[:, 1] <= truth) & (truth <= out[:, 2])
    assert LOW <= covered.mean() <= HIGH, f"coverage {covered.mean():.3f}"
    assert abs(out[:, 0].mean() - truth) < 3 * out[:, 0].std() / np.sqrt(len(out))
    rejects = (out[:, 3] < 0.05).mean()
    assert 0.01 <= rejects <= 0.10, f"pre-test rejection rate {rejects:.3f}"


def test_coverage_conditional_parallel_trends() -> None:
    dgp = {"n": 400, "beta": 0.3, "gamma": 0.8}
    truth = true_simple_att(gamma=0.8)
    with_x = np.array([_replicate(5000 + r, ["x"], **dgp) for r in range(200)])
    covered = (with_x[:, 1] <= truth) & (truth <= with_x[:, 2])
    assert LOW <= covered.mean() <= HIGH, f"coverage {covered.mean():.3f}"
    without_x = np.array([_replicate(5000 + r, None, **dgp) for r in range(50)])
    bias = without_x[:, 0].mean() - truth
    assert bias > 5 * without_x[:, 0].std() / np.sqrt(50), f"bias {bias:.3f}"
