"""Size of randomisation inference on the project simulator.

200 null datasets of the five-force region whose three start dates (and two "never") are
assigned to forces at random in each dataset, as randomisation inference assumes; linear TWFE
of the s136 rate with ``inference="randomization"`` (all 60 assignments enumerated, so
p-values are multiples of 1/60 and exactly 3/60 = 5 % of assignments reject). Bound: rejection
at 5 % in [1.5 %, 10 %] (Monte Carlo standard error 1.5 %).
"""

from __future__ import annotations

import numpy as np
import pytest

from evaltk.estimators.did import InferenceSpec, TWFEModel

from ._simulation import permuted_region


@pytest.mark.slow
def test_randomization_inference_size() -> None:
    spec = InferenceSpec(method="randomization", ci=False)
    p = []
    for seed in range(200):
        res = TWFEModel(
            permuted_region(seed),
            outcome="s136",
            unit="force",
            treatment="treated",
            exposure="population",
        ).fit(spec)
        assert res.details["randomization"]["enumerated"]
        p.append(res.p_value)
    rate = float(np.mean(np.array(p) <= 0.05))
    print(f"\nrandomisation inference, 5 forces, random adoption dates: rejects {rate:.3f}")
    assert 0.015 <= rate <= 0.10
