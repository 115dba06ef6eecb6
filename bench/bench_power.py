"""Benchmark: a 10-scenario x 500-replicate power grid for a monthly ITS, on 1 and 2 workers.

The grid is the example analysis's registered design (27 months before, quasi-Poisson with two
Fourier pairs, population offset): 5 true rate ratios x 2 post-period lengths. It prints the
wall time with 1 worker (in this process), then with 2 joblib workers, cold (starting the
process pool) and warm (pool already running), the speed-up from 1 to 2 workers, and, as the
plain comparison, the time of fitting the same replicates one by one with statsmodels
(ITSModel) on a sample of them. Run from the repository root:

    .venv/bin/python bench/bench_power.py [--replicates 500] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# BLAS threads are fixed before numpy loads: numpy's matrix products would otherwise use both
# cores in the "1 worker" run, and loky already gives each of its workers one thread, so the
# speed-up would compare 2 threads with 2 processes. ``--blas-threads 2`` shows that case.
_THREADS = sys.argv[sys.argv.index("--blas-threads") + 1] if "--blas-threads" in sys.argv else "1"
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = _THREADS
from pathlib import Path  # noqa: E402 (after the BLAS thread settings)

import pandas as pd  # noqa: E402 (after the BLAS thread settings)

from evaltk.estimators.its import ITSModel  # noqa: E402 (after the BLAS thread settings)
from evaltk.power import its_settings, power_analysis  # noqa: E402 (after the BLAS thread settings)
from evaltk.power.cell import _streams, its_spec  # noqa: E402 (after the BLAS thread settings)
from evaltk.power.generate import calendar, draw_counts, exposure  # noqa: E402 (after the BLAS thread settings)
from evaltk.protocol import load_protocol  # noqa: E402 (after the BLAS thread settings)

ROOT = Path(__file__).resolve().parents[1]


def _best(run, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def _statsmodels_per_fit(settings, sample: int = 40) -> float:  # type: ignore[no-untyped-def]
    """Seconds per replicate when each is fitted alone with ITSModel (statsmodels)."""
    months_after = settings.months_after[-1]
    months = calendar(settings, months_after)
    periods = pd.DatetimeIndex(months.astype("datetime64[ns]"))
    y = draw_counts(settings, months_after, 0.9, *_streams(settings, months_after))[:sample]
    pop = exposure(settings, len(months))
    spec = its_spec(settings)
    start = time.perf_counter()
    for counts in y:
        frame = pd.DataFrame({"period": periods, "y": counts, "exposure": pop})
        ITSModel(frame, start=periods[settings.months_before], spec=spec).fit()
    return (time.perf_counter() - start) / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3, help="Best of this many runs.")
    parser.add_argument(
        "--blas-threads", default="1", help="BLAS threads of this process (default 1)."
    )
    args = parser.parse_args()

    loaded = load_protocol(ROOT / "analyses" / "example-street-triage")
    settings = its_settings(
        loaded,
        replicates=args.replicates,
        effects=(0.8, 0.85, 0.9, 0.95, 1.0),
        months_after=(24, 45),
    )
    cells = len(settings.cells)
    fits = cells * settings.replicates

    serial = _best(lambda: power_analysis(settings, workers=1), args.repeats)
    start = time.perf_counter()
    first = power_analysis(settings, workers=2)  # starts the loky pool
    cold = time.perf_counter() - start
    warm = _best(lambda: power_analysis(settings, workers=2), args.repeats)
    assert power_analysis(settings, workers=1) == first, "backends disagree"
    per_fit = _statsmodels_per_fit(settings)

    print(f"grid             {cells} scenarios x {settings.replicates} replicates = {fits:,} fits")
    print(
        f"machine          {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
        f"BLAS threads in the 1-worker run: {_THREADS}"
    )
    print(
        f"design           {settings.months_before} months before, {settings.months_after} "
        f"after, {settings.family}, {settings.harmonics} Fourier pairs, "
        f"{'AR(1)' if settings.ar1 else 'model-based'} errors"
    )
    print(f"1 worker         {serial:.2f} s ({fits / serial:,.0f} fits/s)")
    print(f"2 workers, cold  {cold:.2f} s (includes starting the process pool)")
    print(f"2 workers, warm  {warm:.2f} s ({fits / warm:,.0f} fits/s)")
    print(f"speed-up 1 -> 2  {serial / warm:.2f}x warm, {serial / cold:.2f}x cold")
    print(
        f"statsmodels      {per_fit * 1e3:.1f} ms per fit one by one -> about "
        f"{per_fit * fits:.0f} s for the grid on 1 worker "
        f"({per_fit * fits / serial:.0f}x the batched fit)"
    )
    mde = {m.months_after: m.effect for m in first.minimum_detectable}
    print(
        f"check            power at 0.8: {[c.power for c in first.cells if c.effect == 0.8]}, "
        f"size at 1.0: {[c.power for c in first.cells if c.effect == 1.0]}, MDE {mde}"
    )


if __name__ == "__main__":
    main()
