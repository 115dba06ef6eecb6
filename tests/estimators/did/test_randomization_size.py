"""Size of randomisation inference on the project simulator.

The study is :func:`evaltk.validation.simulation.randomization_size` (also reported in the
book's validation chapter): 200 null datasets of the five-force region whose three start dates
(and two "never") are assigned to forces at random in each dataset, as randomisation inference
assumes; linear TWFE of the s136 rate with ``inference="randomization"`` (all 60 assignments
enumerated, so p-values are multiples of 1/60 and exactly 3/60 = 5 % of assignments reject).
Bound: rejection at 5 % in [1.5 %, 10 %] (Monte Carlo standard error 1.5 %).
"""

from __future__ import annotations

import pytest

from evaltk.validation.simulation import randomization_size


@pytest.mark.slow
def test_randomization_inference_size() -> None:
    result = randomization_size(200)
    rate = result.figures["rate"]
    print(f"\nrandomisation inference, 5 forces, random adoption dates: rejects {rate:.3f}")
    assert 0.015 <= rate <= 0.10
    assert result.all_met
