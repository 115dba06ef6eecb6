"""Wall and CPU time of `evaltk demo`, step by step (target: 15 s wall or less on 2 cores).

Runs the demo in a child process into fresh temporary folders, ``--runs`` times (the first
also warms the file cache and Python's bytecode), and prints for each run the wall-clock and
CPU seconds (user + system, of the demo and every process it waited for: its analysis
workers and the Sphinx build) of every step and in total, with the load average before and
after. On a machine shared with other work the CPU seconds are the figure to compare; the wall
time says how long a user waits on this machine as loaded.

    .venv/bin/python bench/bench_demo.py                 # as `evaltk demo` runs
    .venv/bin/python bench/bench_demo.py --workers 1     # the analyses one after another
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 15.0


def child(workdir: Path, out: Path, workers: int | None) -> None:
    """Run the demo here, its output discarded, and write each step's times to ``out``."""
    from rich.console import Console

    from evaltk.cli.demo import run_demo

    with open(os.devnull, "w", encoding="utf-8") as devnull:
        times = run_demo(workdir, None, Console(file=devnull), workers=workers)
    out.write_text(json.dumps([vars(t) for t in times]), encoding="utf-8")
    try:  # end as the `evaltk` command ends (an evaltk from before quick_exit: as Python does)
        from evaltk.quick_exit import exit_now
    except ImportError:
        return
    exit_now(0)


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(workers: int | None) -> tuple[float, float, list[dict[str, float | str]]]:
    """One demo in a fresh folder: total wall, total CPU, and the steps' times."""
    with tempfile.TemporaryDirectory(prefix="evaltk-demo-bench-") as folder:
        out = Path(folder) / "times.json"
        command = [sys.executable, __file__, "--child", folder, str(out)]
        if workers is not None:
            command += ["--workers", str(workers)]
        began, cpu = time.perf_counter(), _cpu_children()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall, cpu = time.perf_counter() - began, _cpu_children() - cpu
        steps = json.loads(out.read_text(encoding="utf-8"))
    return wall, cpu, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None, help="default: as the demo picks")
    parser.add_argument("--child", nargs=2, metavar=("WORKDIR", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]), args.workers)
        return
    from evaltk.cli.parallel_runs import worker_count

    workers = args.workers if args.workers is not None else worker_count(5)
    print(f"cores: {os.cpu_count()}, analyses in {workers} process(es)")
    walls = []
    for attempt in range(1, args.runs + 1):
        load_before = os.getloadavg()[0]
        wall, cpu, steps = run_once(args.workers)
        walls.append(wall)
        print(
            f"run {attempt}: {wall:.1f} s wall, {cpu:.1f} s CPU; load average (1 min) "
            f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
        )
        for step in steps:
            print(
                f"  {step['step']:<34} {step['wall_seconds']:6.1f} s wall "
                f"{step['cpu_seconds']:6.1f} s CPU"
            )
        parallel = sum(float(s["wall_seconds"]) for s in steps)
        print(f"  {'(sum of the steps)':<34} {parallel:6.1f} s wall (steps overlap when parallel)")
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    verdict = "meets" if min(walls) <= TARGET_SECONDS else "MISSES"
    print(
        f"evaltk demo: best {min(walls):.1f} s, worst {max(walls):.1f} s wall; largest process "
        f"{peak_gib:.2f} GiB; {verdict} the {TARGET_SECONDS:.0f} s target on this machine as loaded"
    )


if __name__ == "__main__":
    main()
