"""Verdict calibration by simulation (issue: the verdict): the confusion matrix of true
scenario x verdict over seeded datasets from the project's simulator.

    .venv/bin/python bench/calibrate_verdicts.py [SEEDS_PER_SCENARIO]

Scenarios (tests/verdict/calibration.py): the five East Midlands forces at full scale,
2014-2023, triage from January 2019, analysed as one regional series with the shipped ITS
(quasi-Poisson, Fourier seasonality, AR(1) errors) and the protocol's default decision rules.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "verdict"))

import calibration


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    began = time.perf_counter()
    table = calibration.confusion(range(seeds))
    print(f"{seeds} datasets per scenario, {time.perf_counter() - began:.0f} s")
    print(table.round(3).to_string())
    for name, (_, expected) in calibration.SCENARIOS.items():
        share = sum(table.loc[name].get(label, 0.0) for label in expected)
        print(f"{name}: verdict matches the built-in truth in {share:.1%}")


if __name__ == "__main__":
    main()
