"""Coverage of the Callaway & Sant'Anna intervals by simulation with known truth.

DGP (:mod:`evaltk.validation.dgp`; the studies are
:func:`evaltk.validation.simulation.cs_unconditional` and ``cs_conditional``, which the book's
validation chapter also reports): balanced panels of units observed in periods 1-6, cohorts
first treated in periods 3, 4 and 5 (20 % each) or never (40 %), unit effects, a common trend
and N(0, 1) noise; the effect in cohort g at period t >= g is ``1 + 0.1 (t - g)``. The true
simple ATT weights those effects by the population cohort shares (without selection, 10/9: the
mean over the 9 post-treatment cells). Two designs:

* unconditional parallel trends, ``dr`` without covariates, 300 units, 400 replicates;
* parallel trends only given a covariate x (a trend ``0.3 x t`` and treatment more likely
  for high x, logit slope 0.8), ``dr`` with x, 400 units, 200 replicates. The same data
  without x must be visibly biased, so the test shows that the covariate adjustment (and its
  influence function) is what brings coverage back.

Bound: the 95 % interval of the simple ATT covers the truth in 90-99 % of replicates. With 400
(200) replicates the binomial standard deviation of the coverage is 1.1 (1.5) points, so a
correct interval fails this bound with probability well under 0.1 %. Under parallel trends the
Wald pre-test rejects at 5 % in 1-10 % of replicates.
"""

from __future__ import annotations

import pytest

from evaltk.validation.simulation import cs_conditional, cs_unconditional

from ._panel import true_simple_att

pytestmark = pytest.mark.slow

LOW, HIGH = 0.90, 0.99


def test_coverage_unconditional_parallel_trends() -> None:
    result = cs_unconditional(400)
    f = result.figures
    assert f["truth"] == pytest.approx(10 / 9) == true_simple_att()
    assert LOW <= f["coverage"] <= HIGH, f"coverage {f['coverage']:.3f}"
    assert abs(f["bias"]) < 3 * f["bias_se"]
    assert 0.01 <= f["pretest_rejects"] <= 0.10, (
        f"pre-test rejection rate {f['pretest_rejects']:.3f}"
    )
    assert result.all_met


def test_coverage_conditional_parallel_trends() -> None:
    result = cs_conditional(200, without_x=50)
    f = result.figures
    assert f["truth"] == true_simple_att(gamma=0.8)
    assert LOW <= f["coverage"] <= HIGH, f"coverage {f['coverage']:.3f}"
    bias = f["bias_without_x"]
    assert bias > 5 * f["bias_se_without_x"], f"bias {bias:.3f}"
    assert result.all_met
