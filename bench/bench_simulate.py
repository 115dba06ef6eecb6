"""Benchmark: simulate a dataset (default: the national preset) and write it to parquet.

Prints wall time, peak resident memory, episodes and file size. Run from the repository root:

    .venv/bin/python bench/bench_simulate.py [--preset national] [--out DIR] [--keep]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from evaltk.simulate import SimulationConfig, write_dataset
from evaltk.simulate.write import EPISODES_FILE


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024**2 if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--preset", default="national", choices=("demo", "small", "region", "national")
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--out", type=Path, default=None, help="Where to write (default: a temp dir)."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the written dataset.")
    args = parser.parse_args()

    overrides = {} if args.seed is None else {"seed": args.seed}
    config = SimulationConfig.preset(args.preset, **overrides)
    scratch = Path(tempfile.mkdtemp(prefix="bench_simulate_"))
    out = args.out or scratch / "dataset"
    baseline = peak_rss_mib()
    start = time.perf_counter()
    last = [start]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 10 or done == total:
            print(f"  {done}/{total} forces, {now - start:.1f} s", flush=True)
            last[0] = now

    try:
        write_dataset(config, out, progress=progress)
        wall = time.perf_counter() - start
        rows = pq.ParquetFile(out / EPISODES_FILE).metadata.num_rows
        size = (out / EPISODES_FILE).stat().st_size
        print(
            f"preset           {args.preset} ({len(config.forces)} forces, {config.months} months)"
        )
        print(f"episodes         {rows:,}")
        print(f"wall time        {wall:.1f} s ({rows / wall / 1e6:.2f} M episodes/s)")
        print(f"peak RSS         {peak_rss_mib():,.0f} MiB (after imports: {baseline:,.0f} MiB)")
        print(f"episodes.parquet {size / 1024**2:,.0f} MiB ({size / rows:.1f} bytes/episode)")
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
            if args.out is not None:
                shutil.rmtree(args.out, ignore_errors=True)


if __name__ == "__main__":
    main()
