"""Regenerate the records of the book's validation chapter.

    .venv/bin/python bench/validation_checks.py [--check NAME ...] [--out DIR]

Simulation checks: runs each study of :mod:`evaltk.validation.simulation` (the same functions,
with the same replicate counts, that the coverage and size tests in tests/estimators/ run) and
writes one record per check to ``book/validation/NAME.json`` (see
:mod:`evaltk.validation.record`): its_coverage (ITS interval coverage), staggered_coverage
(Callaway & Sant'Anna coverage), few_forces_size (wild cluster bootstrap and randomisation
inference size), verdict_calibration, published_claims (what published before/after claims can
support, :mod:`evaltk.validation.claims`), synthetic_size (the synthetic control's placebo rank
test with one treated force among 20 and 43), synthetic_did_size (synthetic DiD's rank test and
placebo-SE interval, 30 datasets, about ten minutes), template_size (each shipped template's
default test on a true "no change", at the example's data scale and 10 times it; about 50
CPU-minutes, run on --workers processes), ledger_coverage (the whole-system
ledger's intervals against the true ledger of each simulated dataset,
:mod:`evaltk.validation.ledger_coverage`) and stepped_wedge_power (the example trial's
registered analysis rejects at the power ``evaltk power`` states, and at most 6.5 % under no
effect, :mod:`evaltk.validation.stepped_wedge_power`; about 1.5 CPU-minutes). These take
minutes: set OPENBLAS_NUM_THREADS=1 on a shared machine.

Published results reproduced: ``--check reference`` recomputes the Bernal 2017, the R did
(mpdta) and the Proposition 99 (synthetic control, synthetic DiD) comparisons from the
reference folder (``../shared/reference`` or $EVALTK_REFERENCE_DIR) and writes
``book/validation/reference-bernal2017.json``, ``reference-mpdta.json`` and
``reference-prop99.json`` (see :mod:`evaltk.validation.reference_records`); about a minute.

A record is written whole (temporary file, then rename) or not at all.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from evaltk.validation.checks import CHECKS
from evaltk.validation.record import new_record, write_record
from evaltk.validation.template_size import template_size

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "bench/validation_checks.py"
REFERENCE = "reference"


def command(name: str) -> str:
    """The command line that regenerates check ``name``, as stored in its record."""
    return f"OPENBLAS_NUM_THREADS=1 .venv/bin/python {SCRIPT} --check {name}"


def write_reference(out: Path) -> bool:
    """Write the reference records; True when every figure is within its tolerance."""
    from evaltk.validation.reference_records import write_reference_records

    began = time.perf_counter()
    records = write_reference_records(out, command(REFERENCE))
    seconds = time.perf_counter() - began
    for name, record in records.items():
        n = len(record.figures)
        status = "all within tolerance" if record.all_within else "FIGURE OUTSIDE TOLERANCE"
        print(
            f"{name}: {seconds:.0f} s, {record.n_within} of {n} {status} -> {out / name}.json",
            flush=True,
        )
    return all(record.all_within for record in records.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="append", choices=[*sorted(CHECKS), REFERENCE], default=None
    )
    parser.add_argument("--out", type=Path, default=ROOT / "book" / "validation")
    parser.add_argument(
        "--workers", type=int, default=2, help="processes for template_size (joblib)"
    )
    args = parser.parse_args(argv)
    names = args.check or [*CHECKS, REFERENCE]
    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in names:
        if name == REFERENCE:
            if not write_reference(args.out):
                failed.append(name)
            continue
        began = time.perf_counter()
        # template_size alone runs its studies in parallel processes.
        result = template_size(workers=args.workers) if name == "template_size" else CHECKS[name]()
        seconds = time.perf_counter() - began
        record = new_record(
            title=result.title,
            command=command(name),
            description=result.description,
            tables=result.tables,
            requirements=result.requirements,
            replicates=result.replicates,
        )
        target = write_record(record, args.out / f"{name}.json")
        status = "all requirements met" if record.all_met else "REQUIREMENT NOT MET"
        print(f"{name}: {seconds:.0f} s, {status} -> {target}", flush=True)
        if not record.all_met:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
