"""Coverage of the ITS 95 % interval on the project's own simulator, against its built-in truth.

200 seeded datasets of the demo story restricted to Nottinghamshire (72 months, street triage
from April 2016, true s136 rate ratio 0.7) drawn by ``evaltk.simulate.simulate_series`` (the
same generative model as the episode rows: seasonality, trend, AR(1) month-to-month noise,
overdispersion), each fitted by the shipped template's default (model ``auto``: GLS on the log
rate with AR(1) errors, as every month has detentions) and by the quasi-Poisson GLM with
model-based errors; two Fourier pairs, level change, population offset.

The study is :func:`evaltk.validation.simulation.its_simulator_coverage`, which the book's
validation chapter also reports (``bench/validation_checks.py``). Bound: coverage in
[0.90, 0.99]. With 200 replicates the Monte Carlo standard error of a 95 %
coverage is about 0.015, so a correct interval falls below 0.90 with probability < 0.1 %.
"""

from __future__ import annotations

from evaltk.validation.simulation import its_simulator_coverage

REPLICATES = 200


def test_its_interval_covers_the_simulated_truth() -> None:
    result = its_simulator_coverage(REPLICATES)
    assert result.figures["truth"] == 0.7
    auto, glm = result.figures["coverage_auto"], result.figures["coverage_glm"]
    print(f"ITS 95% interval coverage of the true s136 rate ratio: auto {auto:.3f}, GLM {glm:.3f}")
    assert 0.90 <= auto <= 0.99
    assert 0.90 <= glm <= 0.99
    assert result.all_met
