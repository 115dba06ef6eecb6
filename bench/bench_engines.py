"""Benchmark: measures and linkage on DuckDB and on Spark (local), side by side, by size.

Usage::

    .venv/bin/python bench/bench_engines.py                      # 1 and 10 million episodes
    .venv/bin/python bench/bench_engines.py --sizes 1e6,10e6,50e6 --spark-master local[2]
    .venv/bin/python bench/bench_engines.py --sizes 1e6 --only measures
    # the measures' scale table (issues 15 and 19), kept in bench/measures_scale.json:
    .venv/bin/python bench/bench_engines.py --only measures --sizes 1e6,10e6,50e6 \
        --record bench/measures_scale.json
    # one engine, added to the runs already recorded (Spark at 50 million is not in the
    # record yet: on the shared 2-core machine 10 million took about 4 minutes on Spark):
    .venv/bin/python bench/bench_engines.py --only measures --sizes 50e6 --engines spark \
        --record bench/measures_scale.json --append

**Measures**: the ten outcomes of ``protocols/street-triage-its.yaml`` for all 43 forces over
2014-2023 (the data and protocol of ``bench/bench_measures.py``, simulated once into
``bench/_data/``), by :func:`evaltk.measures.compute_panel` with ``engine="duckdb"`` and
``engine="spark"``; the two panels must agree (1e-9 relative; sums of minutes add in another
order). **Linkage**: N pseudonymised incidents against three agencies of N records each
(ambulance 0-6 h, A&E 0-12 h, admission 0-72 h windows; a third of the people recur), by
:func:`evaltk.linkage.match.one_to_one` on each engine; the links must be the same.

Each engine and size runs in its own subprocess, so the peak memory is that run's alone: the
largest sum of resident memory over the process and its children (Spark's JVM), sampled every
0.2 s. Spark's time includes starting its JVM (about 10-20 s), as a user's run does; it is
shown separately. CPU seconds (user + system of the run's process tree, Spark's JVM
included, sampled with its memory) are shown beside the wall time: on a shared machine they
say more than wall time about what a run costs. The figures go to ``bench/engines.json``
(``--record`` another file), with the load average when each run started, and a table of
the cost per million episodes (it must stay flat as the size grows) is printed and written
beside the record as markdown (``bench/measures_scale.md`` for the measures' scale table).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
DATA = ROOT / "bench" / "_data"
RECORD = ROOT / "bench" / "engines.json"
WINDOWS = {"ambulance": (0.0, 6.0), "ae": (0.0, 12.0), "admission": (0.0, 72.0)}


def linkage_data(rows: int, seed: int = 5) -> Path:
    """N incidents and three agencies of N records each, as pseudonymised parquet files."""
    folder = DATA / f"linkage-{rows}"
    if (folder / "admission.parquet").is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    people = max(rows // 3, 1)
    start = np.datetime64("2014-01-01T00:00:00", "us")
    span = 10 * 365 * 24 * 3600 * 10**6
    person = rng.integers(0, people, rows)
    times = start + rng.integers(0, span, rows).astype("timedelta64[us]")
    pseudonyms = np.char.mod("%064x", person)  # the width of an HMAC-SHA-256 hex pseudonym
    pd.DataFrame({"record": np.arange(rows), "pseudonym": pseudonyms, "time": times}).to_parquet(
        folder / "police.parquet", index=False
    )
    for number, (agency, (_, high)) in enumerate(WINDOWS.items()):
        genuine = rng.random(rows) < 0.6  # 60 % follow an incident, the rest are elsewhere
        delay = (rng.random(rows) * high * 0.8 * 3600 * 10**6).astype("timedelta64[us]")
        other = start + rng.integers(0, span, rows).astype("timedelta64[us]")
        who = np.where(genuine, person, rng.integers(0, people * 2, rows))
        pd.DataFrame(
            {
                "record": np.arange(rows) + (number + 1) * 10**10,
                "pseudonym": np.char.mod("%064x", who),
                "time": np.where(genuine, times + delay, other),
            }
        ).to_parquet(folder / f"{agency}.parquet", index=False)
    return folder


def _backend(engine: str, master: str):
    if engine == "duckdb":
        from evaltk.ingest.engine import DuckDBBackend, connect

        return DuckDBBackend(connect())
    from evaltk.ingest.spark import SparkBackend, SparkSettings, spark_session

    return SparkBackend(spark_session(SparkSettings(master=master)))


def child(task: str, engine: str, rows: int, master: str) -> dict:
    """One run (in a subprocess): its wall time and what it found."""
    from evaltk.measures import EngineSettings, compute_panel

    started = time.perf_counter()
    if engine == "spark":
        from evaltk.ingest.spark import SparkSettings, spark_session

        spark_session(SparkSettings(master=master))
    startup = time.perf_counter() - started
    if task == "measures":
        from bench_measures import bench_protocol, ensure_data

        folder = ensure_data(rows)
        protocol = bench_protocol(folder)
        settings = (
            EngineSettings(engine="spark", spark=None) if engine == "spark" else EngineSettings()
        )
        begun = time.perf_counter()
        panel = compute_panel(protocol, folder, settings=settings)
        seconds = time.perf_counter() - begun
        panel.frame.to_parquet(DATA / f"panel-{engine}-{rows}.parquet")
        found = {"rows_used": panel.accounting.rows_used}
    else:
        from evaltk.linkage.match import one_to_one

        folder = linkage_data(rows)
        backend = _backend(engine, master)
        begun = time.perf_counter()
        links = []
        if engine == "spark":
            for name in ("police", *WINDOWS):
                backend.open_location(str(folder / f"{name}.parquet"), "parquet", f"t_{name}")
        else:
            for name in ("police", *WINDOWS):
                backend.con.execute(
                    f"CREATE VIEW t_{name} AS SELECT * FROM "
                    f"read_parquet('{folder / f'{name}.parquet'}')"
                )
        for number, (agency, window) in enumerate(WINDOWS.items()):
            found_links = one_to_one(backend, "t_police", f"t_{agency}", window, str(number))
            links.append(found_links.assign(agency=agency))
        seconds = time.perf_counter() - begun
        table = pd.concat(links, ignore_index=True)
        table.to_parquet(DATA / f"links-{engine}-{rows}.parquet")
        found = {"links": len(table)}
    return {"seconds": round(seconds, 2), "startup_seconds": round(startup, 2), **found}


def _tree_sample(pid: int, cpu: dict[int, float]) -> int:
    """Resident memory of the process tree now; each process's CPU seconds so far into ``cpu``.

    CPU is sampled rather than taken from the exit status because Spark's JVM is not a child
    that the run waits for, so the operating system never adds its time to the run's.
    """
    import psutil

    total = 0
    try:
        process = psutil.Process(pid)
        tree = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in tree:
        try:
            with p.oneshot():
                total += p.memory_info().rss
                times = p.cpu_times()
                cpu[p.pid] = times.user + times.system
        except psutil.Error:
            continue
    return total


def measure(task: str, engine: str, rows: int, master: str) -> dict:
    """Run one child, sampling its memory; its result with the peak."""
    command = [sys.executable, __file__, "--child", task, engine, str(rows), master]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    load = os.getloadavg()[0]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    peak = 0
    cpu: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_sample(process.pid, cpu))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{task} on {engine} with {rows:,} rows failed")
    result = json.loads(output.strip().splitlines()[-1])
    return {
        **result,
        # The whole tree (imports, JVM start-up too), as last sampled: at most 0.2 s short.
        "process_cpu_seconds": round(sum(cpu.values()), 2),
        "peak_gib": round(peak / 1024**3, 2),
        "load_average": round(load, 2),
    }


def table(record: dict) -> str:
    """The record's runs as a markdown table: time, CPU and memory, and both per million.

    The process CPU includes a fixed cost (imports; Spark's JVM start-up), so its per-million
    figure is highest at the smallest size; the growth is linear when it levels off.
    """
    lines = [
        "| task | rows | engine | wall s | wall s per million | process CPU s "
        "| CPU s per million | peak GiB | load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in record["runs"]:
        for engine in ("duckdb", "spark"):
            if engine not in run:
                continue
            r = run[engine]
            cpu = r.get("process_cpu_seconds")
            per_million = f"{cpu / run['rows'] * 1e6:.2f}" if cpu is not None else ""
            lines.append(
                f"| {run['task']} | {run['rows']:,} | {engine} | {r['seconds']:.2f} | "
                f"{r['seconds'] / run['rows'] * 1e6:.3f} | {cpu if cpu is not None else ''} | "
                f"{per_million} | {r['peak_gib']:.2f} | {r.get('load_average', '')} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1e6,10e6")
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--only", choices=["measures", "linkage"], default=None)
    parser.add_argument("--engines", default="duckdb,spark", help="comma-separated")
    parser.add_argument("--record", type=Path, default=RECORD, help="where the figures go")
    parser.add_argument("--append", action="store_true", help="add to the record's runs")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        task, engine, rows, master = args.child
        print(json.dumps(child(task, engine, int(rows), master)))
        return
    record = {
        "machine": f"{os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "spark_master": args.spark_master,
        "runs": [],
    }
    if args.append and args.record.is_file():
        record["runs"] = json.loads(args.record.read_text(encoding="utf-8"))["runs"]
    for rows in [int(float(s)) for s in args.sizes.split(",")]:
        for task in [args.only] if args.only else ["measures", "linkage"]:
            results = {
                engine: measure(task, engine, rows, args.spark_master)
                for engine in args.engines.split(",")
            }
            row = {"task": task, "rows": rows, **{e: r for e, r in results.items()}}
            record["runs"].append(row)
            print(json.dumps(row), flush=True)
            if len(results) < 2:
                continue
            name = "panel" if task == "measures" else "links"
            duck = pd.read_parquet(DATA / f"{name}-duckdb-{rows}.parquet")
            spark = pd.read_parquet(DATA / f"{name}-spark-{rows}.parquet")
            if task == "measures":
                pd.testing.assert_frame_equal(duck, spark, check_exact=False, rtol=1e-9)
            else:
                key = ["agency", "police_record", "agency_record"]
                assert (
                    duck.sort_values(key)[key]
                    .reset_index(drop=True)
                    .equals(spark.sort_values(key)[key].reset_index(drop=True))
                ), "the engines' links differ"
    args.record.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    # The same table as markdown beside the record, for the book to include as it is.
    shown = args.record.with_suffix(".md")
    shown.write_text(
        f"Measured {record['date']} on {record['machine']} (Spark {record['spark_master']}); "
        "load is the 1-minute load average when the run started.\n\n" + table(record) + "\n",
        encoding="utf-8",
    )
    print(table(record))
    print(f"wrote {args.record} and {shown}")


if __name__ == "__main__":
    main()
