"""Verdict calibration by simulation (issue: the verdict): the confusion matrix of true
scenario x verdict over seeded datasets from the project's simulator.

    .venv/bin/python bench/calibrate_verdicts.py [SEEDS_PER_SCENARIO] [--model gls|glm]

Prints the matrix and the share right per scenario. The book's record of the same study
(100 seeds, both models) is written by ``bench/validation_checks.py --check
verdict_calibration``; settings are in :mod:`evaltk.validation.calibration`.
"""

from __future__ import annotations

import argparse
import time

from evaltk.validation import calibration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seeds", nargs="?", type=int, default=100)
    parser.add_argument("--model", choices=("gls", "glm"), default="gls")
    args = parser.parse_args()
    began = time.perf_counter()
    table = calibration.confusion(calibration.verdicts(range(args.seeds), args.model))
    print(
        f"{args.seeds} datasets per scenario, model {args.model}: "
        f"{time.perf_counter() - began:.0f} s"
    )
    print(table.round(3).to_string())
    for name in calibration.SCENARIOS:
        print(
            f"{name}: verdict matches the built-in truth in "
            f"{calibration.right_share(table, name):.1%}"
        )


if __name__ == "__main__":
    main()
