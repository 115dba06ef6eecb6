"""Benchmark: a 10-scenario x 500-replicate power grid for a monthly ITS, on 1 worker, 2 joblib
workers and a 2-worker Dask local cluster (issue 19: <= 60 s on 2 cores, Dask no slower than
joblib).

The grid is the example analysis's registered design (27 months before, quasi-Poisson with two
Fourier pairs, population offset, ``model: auto``: GLS with AR(1) errors by REML wherever every
month has a count): 5 true rate ratios x 2 post-period lengths. The legs run interleaved,
``--repeats`` rounds of each, so that a machine shared with other work slows them alike; every
leg reports its wall time and the CPU time of this process and all its worker processes
(psutil), and the load average. CPU time is the fair measure on a busy machine: the wall time
of a quiet 2-core machine is about the CPU time over 2 for the 2-worker legs.

Every replicate is fitted by the analysis's own REML fit
(:func:`evaltk.estimators.its.gls.fit_gls_ar1`). Run from the repository root:

    .venv/bin/python bench/bench_power.py [--replicates 500] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

# BLAS threads are fixed before numpy loads (the workers inherit them): otherwise matrix
# products use both cores in the 1-worker leg, and the comparison is threads against processes.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"
from pathlib import Path  # noqa: E402 (after the BLAS thread settings)

import psutil  # noqa: E402 (after the BLAS thread settings)

from evaltk.power import its_settings, power_analysis  # noqa: E402
from evaltk.protocol import load_protocol  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _cpu_seconds() -> dict[int, float]:
    """CPU seconds (user + system) of this process and every live descendant, by pid."""
    me = psutil.Process()
    out = {}
    for proc in [me, *me.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            out[proc.pid] = times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return out


def _measure(run) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    before = _cpu_seconds()
    start = time.perf_counter()
    result = run()
    wall = time.perf_counter() - start
    after = _cpu_seconds()
    cpu = sum(v - before.get(pid, 0.0) for pid, v in after.items())
    return wall, cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=2, help="Rounds of every leg.")
    parser.add_argument("--legs", default="serial,joblib,dask")
    args = parser.parse_args()
    legs = args.legs.split(",")

    loaded = load_protocol(ROOT / "analyses" / "example-street-triage")
    settings = its_settings(
        loaded,
        replicates=args.replicates,
        effects=(0.8, 0.85, 0.9, 0.95, 1.0),
        months_after=(24, 45),
    )
    cells = len(settings.cells)
    fits = cells * settings.replicates

    cluster = client = None
    if "dask" in legs:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    if "joblib" in legs:
        power_analysis(settings.model_copy(update={"replicates": 10}), workers=2)  # warm pool
    if client is not None:
        power_analysis(
            settings.model_copy(update={"replicates": 10}), scheduler=cluster.scheduler_address
        )

    runs = {
        "serial": lambda: power_analysis(settings, workers=1),
        "joblib": lambda: power_analysis(settings, workers=2),
        "dask": lambda: power_analysis(
            settings, scheduler=None if cluster is None else cluster.scheduler_address
        ),
    }
    times: dict[str, list[tuple[float, float]]] = {leg: [] for leg in legs}
    reports = {}
    loads = []
    for _ in range(args.repeats):
        for leg in legs:  # interleaved: each round runs every leg once
            wall, cpu, report = _measure(runs[leg])
            times[leg].append((wall, cpu))
            reports[leg] = report
            loads.append(os.getloadavg()[0])
    if client is not None:
        client.close()
        cluster.close()

    first = reports[legs[0]]
    same = all(reports[leg].cells == first.cells for leg in legs)
    print(f"grid        {cells} scenarios x {settings.replicates} replicates = {fits:,} fits")
    print(
        f"design      {settings.months_before} months before, {settings.months_after} after, "
        f"{settings.family}, model {settings.model}, {settings.harmonics} Fourier pairs"
    )
    print(
        f"machine     {os.cpu_count()} cores; load average during the legs "
        f"{min(loads):.1f}-{max(loads):.1f} (other work on the machine)"
    )
    print(f"{'leg':<10}  {'wall s (each round)':<26} {'CPU s (each round)':<26} CPU ms/fit")
    for leg in legs:
        walls = [w for w, _ in times[leg]]
        cpus = [c for _, c in times[leg]]
        print(
            f"{leg:<10}  {', '.join(f'{w:.1f}' for w in walls):<26} "
            f"{', '.join(f'{c:.1f}' for c in cpus):<26} {1000 * statistics.median(cpus) / fits:.1f}"
        )
    for leg in ("joblib", "dask"):
        if leg in legs:
            cpu = statistics.median(c for _, c in times[leg])
            print(f"{leg:<10}  quiet 2-core wall estimate {cpu / 2:.1f} s (CPU / 2)")
    print(f"same table  {same} (every backend)")
    mde = {m.months_after: m.effect for m in first.minimum_detectable}
    print(
        f"check       power at 0.8: {[c.power for c in first.cells if c.effect == 0.8]}, "
        f"size at 1.0: {[c.power for c in first.cells if c.effect == 1.0]}, MDE {mde}"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
