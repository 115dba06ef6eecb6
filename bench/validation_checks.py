"""Regenerate the simulation checks of the book's validation chapter.

    .venv/bin/python bench/validation_checks.py [--check NAME ...] [--out DIR]

Runs each study of :mod:`evaltk.validation.simulation` (the same functions, with the same
replicate counts, that the coverage and size tests in tests/estimators/ run) and writes one
record per check to ``book/validation/NAME.json`` (see :mod:`evaltk.validation.record`).
Checks: its_coverage (ITS interval coverage), staggered_coverage (Callaway & Sant'Anna
coverage), few_forces_size (wild cluster bootstrap and randomisation inference size). A record
is written whole (temporary file, then rename) or not at all. Takes minutes: set
OPENBLAS_NUM_THREADS=1 on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from evaltk.validation.record import new_record
from evaltk.validation.simulation import CHECKS

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "bench/validation_checks.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="append", choices=sorted(CHECKS), default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "book" / "validation")
    args = parser.parse_args(argv)
    names = args.check or list(CHECKS)
    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in names:
        began = time.perf_counter()
        result = CHECKS[name]()
        seconds = time.perf_counter() - began
        record = new_record(
            title=result.title,
            command=f"OPENBLAS_NUM_THREADS=1 .venv/bin/python {SCRIPT} --check {name}",
            description=result.description,
            tables=result.tables,
            requirements=result.requirements,
        )
        target = args.out / f"{name}.json"
        partial = target.with_suffix(".json.partial")
        partial.write_text(record.to_json(), encoding="utf-8")
        os.replace(partial, target)
        status = "all requirements met" if record.all_met else "REQUIREMENT NOT MET"
        print(f"{name}: {seconds:.0f} s, {status} -> {target}", flush=True)
        if not record.all_met:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
