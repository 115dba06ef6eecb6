"""Size of the placebo-in-space rank test on the project's own simulator.

300 seeded datasets with no effect of triage, 20 forces of the national preset, 48 months,
one force (drawn at random per dataset) treated from January 2017; the outcome-only synthetic
control of the s136 rate per 100,000; the treated force's post/pre RMSPE ratio ranked among
all 20 (:func:`evaltk.validation.synthetic_size.sc_size`). The test is exact: it rejects at
5 % and 10 % with probability exactly 0.05 and 0.10 (1 and 2 ranks of 20). Bound: three
Monte Carlo standard errors either side (0.0126 and 0.0173 with 300 datasets), so a correct
test fails with probability below 0.3 % per level. The long version (600 datasets with 20
forces, 200 with 43) is ``bench/validation_checks.py --check synthetic_size``.
"""

from __future__ import annotations

from evaltk.validation.synthetic_size import SC_SIZE_REPLICATES, sc_size


def test_placebo_rank_test_keeps_its_size_with_20_forces() -> None:
    result = sc_size(SC_SIZE_REPLICATES, 20)
    print(result.figures)
    assert result.figures["replicates"] == 300
    assert 0.05 - 3 * 0.0126 <= result.figures["reject_0.05"] <= 0.05 + 3 * 0.0126
    assert 0.10 - 3 * 0.0174 <= result.figures["reject_0.1"] <= 0.10 + 3 * 0.0174
    assert result.all_met
