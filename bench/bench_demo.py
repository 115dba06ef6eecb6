"""Wall time of `evaltk demo` on this machine (target: 60 s or less after installation).

Runs the demo twice into fresh temporary folders (the first run also warms the file cache and
Python's bytecode), prints both times and the peak memory of the slower run.

    .venv/bin/python bench/bench_demo.py
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVALTK = Path(sys.executable).parent / "evaltk"
TARGET_SECONDS = 60.0


def run_once() -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="evaltk-demo-bench-") as workdir:
        began = time.perf_counter()
        subprocess.run(
            [str(EVALTK), "demo", "--workdir", workdir],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - began
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    return seconds, peak_gib


def main() -> None:
    print(f"cores: {os.cpu_count()}")
    times = []
    for attempt in (1, 2):
        seconds, peak = run_once()
        times.append(seconds)
        print(f"run {attempt}: {seconds:.1f} s wall, peak RSS of children so far {peak:.2f} GiB")
    best = min(times)
    verdict = "meets" if max(times) <= TARGET_SECONDS else "MISSES"
    print(
        f"evaltk demo: best {best:.1f} s, worst {max(times):.1f} s; "
        f"{verdict} the {TARGET_SECONDS:.0f} s target"
    )


if __name__ == "__main__":
    main()
