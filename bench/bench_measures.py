"""Benchmark: street-triage measures on 10 million episodes, evaltk (DuckDB) against plain pandas.

Usage::

    .venv/bin/python bench/bench_measures.py               # 10 million episodes
    .venv/bin/python bench/bench_measures.py --rows 2e6    # a quicker run

The episodes come from ``evaltk.simulate`` (the national preset: 43 forces, 2014-2023, scaled
to the requested size) written once into ``bench/_data/`` (git-ignored) and reused; without
the simulator, an equivalent synthetic file is generated with numpy. All 10 outcomes of
``protocols/street-triage-its.yaml`` are computed for all 43 forces over the whole period:

* **evaltk** — :func:`evaltk.measures.compute_panel` (one streamed DuckDB pass);
* **polars** — the same aggregates written for polars (lazy ``scan_parquet``, the same
  exclusion rules, persons keyed by polars' 64-bit hash of ``person_id``, the repeat window
  by a sort on key and time and the next strictly later episode), run in its own virtual
  environment ``bench/.venv-measures-peers`` (polars from ``bench/requirements-peers.txt``,
  installed on first use; never in the project venv);
* **pandas** — :func:`evaltk.measures.reference.reference_panel`, the plain pandas
  implementation the tests use as their oracle (``read_parquet``, ``groupby``, repeat windows
  by a per-person ``groupby`` running minimum and ``shift``); ``--no-pandas`` leaves it out.

``--baseline DIR`` also times the evaltk of another checkout (``DIR`` holding its ``evaltk``
package, e.g. ``git archive COMMIT | tar -x -C DIR``): before and after in the same run.
``--scaling 1e6,10e6,50e6`` times evaltk alone at each size, to show that the cost grows
linearly with the episodes.

Each run is its own subprocess so that peak memory (maximum resident set size) is measured for
that engine alone. Each engine runs ``--repeat`` times (default 3) and the best wall time is
kept, as ``timeit`` does, because other work on a shared machine only ever adds time; CPU time
(user + system, all threads) is shown beside it. The engines run interleaved (round 1 of
each, then round 2...) so that load from other work on a shared machine falls on each alike.
The panels must agree (relative tolerance 1e-9: sums of floating-point minutes are added in
different orders). Targets: evaltk at least 1.5x faster than polars with hashed keys and 3x
faster than pandas, at most 1 GiB peak.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import venv
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "_data"
PROTOCOL = ROOT / "protocols" / "street-triage-its.yaml"
GIB = 1024**3
# Episodes per unit of the simulator's `scale` for the national preset (measured: 0.77 gave
# 10.69 million over 2014-2023).
NATIONAL_ROWS_PER_SCALE = 13.88e6
TARGET_SPEEDUP, TARGET_POLARS, TARGET_PEAK = 3.0, 1.5, 1 * GIB
PEERS_VENV = ROOT / "bench" / ".venv-measures-peers"
REQUIREMENTS = ROOT / "bench" / "requirements-peers.txt"


# --------------------------------------------------------------------------- data


def ensure_data(rows: int) -> Path:
    """The benchmark dataset of about ``rows`` episodes, generated on first use."""
    folder = DATA / f"national-{rows}"
    if (folder / "episodes.parquet").is_file() and (folder / "population.csv").is_file():
        return folder
    try:
        from evaltk.simulate import SimulationConfig, write_dataset
    except ImportError:
        print(f"evaltk.simulate not available: generating {rows:,} synthetic episodes", flush=True)
        return synthetic_data(rows, folder)
    scale = rows / NATIONAL_ROWS_PER_SCALE
    print(f"simulating about {rows:,} episodes (national preset, scale {scale:.3f})...", flush=True)
    started = time.perf_counter()
    write_dataset(SimulationConfig.preset("national", scale=scale), folder, overwrite=True)
    print(f"  written in {time.perf_counter() - started:.0f} s to {folder}", flush=True)
    return folder


def synthetic_data(rows: int, folder: Path, seed: int = 1) -> Path:
    """A canonical-schema parquet of ``rows`` episodes (43 forces, 10 years, ~0.3 persons/row)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from evaltk.episodes.schema import PLACES_OF_SAFETY, REFERRALS

    rng = np.random.default_rng(seed)
    forces = np.array([f"E23{i:06d}" for i in range(1, 40)] + [f"W15{i:06d}" for i in range(1, 5)])
    n_persons = max(int(rows * 0.3), 1)
    home = rng.integers(0, len(forces), n_persons)
    weight = rng.lognormal(0, 1.2, n_persons)
    cdf = np.cumsum(weight) / weight.sum()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "episodes.parquet"
    start = np.datetime64("2014-01-01T00:00:00", "s")
    seconds = int((np.datetime64("2024-01-01T00:00:00", "s") - start).astype(int))
    with pq.ParquetWriter(path, _arrow_schema(pa)) as writer:
        for first in range(0, rows, 1_000_000):
            n = min(1_000_000, rows - first)
            person = np.searchsorted(cdf, rng.random(n))
            force = np.where(rng.random(n) < 0.95, home[person], rng.integers(0, 43, n))
            s136 = rng.random(n) < 0.15
            place = np.where(s136, rng.choice(np.array(PLACES_OF_SAFETY), n), None)
            table = {
                "episode_id": [f"EP{first + i:010d}" for i in range(n)],
                "person_id": np.char.mod("%016x", person * 2654435761 % 2**63),
                "force": forces[force],
                "timestamp": start + rng.integers(0, seconds, n).astype("timedelta64[s]"),
                "triage_available": rng.random(n) < 0.5,
                "triage_attended": rng.random(n) < 0.3,
                "s136": s136,
                "place_of_safety": place,
                "ae_conveyance": rng.random(n) < 0.2,
                "ambulance_conveyance": rng.random(n) < 0.25,
                "referral": rng.choice(np.array(REFERRALS), n),
                "missing_person": rng.random(n) < 0.05,
                "arrest": rng.random(n) < 0.05,
                "officer_minutes": rng.gamma(2.0, 60.0, n),
                "hospital_wait_minutes": np.where(rng.random(n) < 0.3, rng.gamma(2, 90, n), 0.0),
                "admitted_72h": rng.random(n) < 0.1,
            }
            writer.write_table(pa.table(table, schema=_arrow_schema(pa)))
    pd.DataFrame(
        [(f, y, 1_000_000 + 20_000 * i) for i, f in enumerate(forces) for y in range(2014, 2024)],
        columns=["force", "year", "population"],
    ).to_csv(folder / "population.csv", index=False)
    return folder


def _arrow_schema(pa):
    from evaltk.episodes.schema import EPISODE_FIELDS

    types = {
        "id": pa.string(),
        "text": pa.string(),
        "timestamp": pa.timestamp("s"),
        "bool": pa.bool_(),
        "category": pa.string(),
        "number": pa.float64(),
    }
    return pa.schema([pa.field(f.name, types[f.kind]) for f in EPISODE_FIELDS])


# --------------------------------------------------------------------------- protocol


def bench_protocol(folder: Path):
    """The street-triage protocol with every force in the data as a unit, over 2014-2023."""
    from evaltk.protocol import load_protocol
    from evaltk.protocol.spec import Protocol

    document = load_protocol(PROTOCOL).document
    units = sorted(pd.read_csv(folder / "population.csv", dtype={"force": str})["force"].unique())
    document["units"] = units
    document["intervention"] = {
        **document["intervention"],
        "start": dict.fromkeys(units, "2018-04-01"),
    }
    document["window"] = {"start": "2014-01-01", "end": "2023-12-31", "washout_months": 0}
    document["data"] = {
        **document["data"],
        "path": "episodes.parquet",
        "population": "population.csv",
    }
    protocol = Protocol.model_validate(document)
    assert len(protocol.outcomes) == 10
    return protocol


# --------------------------------------------------------------------------- polars peer


def ensure_polars() -> Path:
    """Python of ``bench/.venv-measures-peers`` with the pinned polars (created on first use)."""
    wanted = "".join(
        line + "\n"
        for line in REQUIREMENTS.read_text().splitlines()
        if line.startswith(("polars", "pyarrow", "numpy", "pandas"))
    )
    python = PEERS_VENV / "bin" / "python"
    stamp = PEERS_VENV / ".installed"
    if python.is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return python
    print(f"installing {wanted.split()} from PyPI into {PEERS_VENV} ...", flush=True)
    if not python.is_file():
        venv.EnvBuilder(with_pip=True).create(PEERS_VENV)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *wanted.split()], check=True)
    stamp.write_text(wanted)
    return python


def polars_spec(folder: Path) -> dict:
    """What the polars child needs from the protocol (it cannot import evaltk)."""
    from evaltk.episodes.schema import FIELDS_BY_NAME

    protocol = bench_protocol(folder)
    return {
        "units": list(protocol.units),
        "first": protocol.window.start.strftime("%Y-%m-01"),
        "last": protocol.window.end.strftime("%Y-%m-01"),
        "places": list(FIELDS_BY_NAME["place_of_safety"].codes),
        "referrals": list(FIELDS_BY_NAME["referral"].codes),
    }


def run_polars(folder: Path, out: Path, spec: dict) -> None:
    """Child process (peers' venv): the ten outcomes of the protocol, written for polars.

    The same rows are excluded for the same reasons (the first that applies), persons are
    keyed by polars' 64-bit hash of ``person_id``, and an episode repeats when the same
    person's next strictly later episode (any episode, as ``among: {}``) is within 28 days.
    """
    import datetime as dt

    import polars as pl

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    ts = pl.col("timestamp")
    period = ts.dt.truncate("1mo").cast(pl.Date)
    first = dt.date.fromisoformat(spec["first"])
    last = dt.date.fromisoformat(spec["last"])
    unit = pl.col("force").replace_strict(
        {u: i for i, u in enumerate(spec["units"])}, default=None, return_dtype=pl.Int32
    )
    place, referral = pl.col("place_of_safety"), pl.col("referral")
    excluded = (
        pl.when(ts.is_null()).then(1)
        .when(unit.is_null()).then(2)
        .when((period < first) | (period > last)).then(3)
        .when(pl.col("episode_id").is_null()).then(4)
        .when(pl.col("episode_id").is_duplicated()).then(5)
        .when((pl.col("officer_minutes") < 0) | (pl.col("hospital_wait_minutes") < 0)).then(6)
        .when(~place.is_in(spec["places"]) | ~referral.is_in(spec["referrals"])).then(8)
        .otherwise(None)
    )  # fmt: skip
    key = pl.col("person_id").hash()
    rows = (
        pl.scan_parquet(folder / "episodes.parquet")
        .with_columns(excluded=excluded, unit=unit, period=period, key=key)
        .sort("key", "timestamp")
    )
    # The next strictly later time of the same person: the next row's time where it is later
    # and of the same person; rows tied in time take the value of the tie's last row
    # (backward fill), and the end of a person's rows a sentinel so no fill crosses persons.
    same = pl.col("key").shift(-1) == pl.col("key")
    nxt = ts.shift(-1)
    sentinel = pl.lit(dt.datetime(9999, 1, 1))
    following = (
        pl.when(same & (nxt > ts)).then(nxt).when(same).then(None).otherwise(sentinel)
    ).backward_fill()
    within = following.cast(pl.Datetime("us")) - ts.cast(pl.Datetime("us"))
    repeat = (following != sentinel) & (within <= pl.duration(days=28))
    s136 = pl.col("s136")
    sums = {
        "s136_rate": s136,
        "s136_custody": s136 & (place == "police_custody"),
        "ae_conveyances": pl.col("ae_conveyance"),
        "s136_to_ae_share": s136 & (place == "emergency_department"),
        "ambulance_conveyances": pl.col("ambulance_conveyance"),
        "onward_referrals": referral.is_in(["gp", "community_team", "crisis_team"]),
        "repeat_28d": pl.col("repeat"),
        "missing_person_reports": pl.col("missing_person"),
    }
    aggregates = [pl.len().alias("n_rows")]
    aggregates += [e.sum().cast(pl.Float64).alias(f"num__{k}") for k, e in sums.items()]
    aggregates += [
        s136.sum().cast(pl.Float64).alias("den__s136_to_ae_share"),
        pl.len().cast(pl.Float64).alias("den__repeat_28d"),
    ]
    for name in ("hospital_wait_minutes", "officer_minutes"):
        aggregates += [
            pl.col(name).sum().alias(f"num__{name}"),
            pl.col(name).count().cast(pl.Float64).alias(f"den__{name}"),
        ]
    groups = (
        rows.with_columns(repeat=repeat)
        .filter(pl.col("excluded").is_null())
        .group_by("unit", "period")
        .agg(aggregates)
        .collect()
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    groups.write_parquet(out)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": (after.ru_utime + after.ru_stime)
                - (before.ru_utime + before.ru_stime),
                "peak_rss": after.ru_maxrss * 1024,
                "rows_in": None,
                "rows_used": int(groups["n_rows"].sum()),
            }
        )
    )


def polars_frame(groups: pd.DataFrame, units: list[str]) -> pd.DataFrame:
    """The polars groups as the panel's long (unit, period, outcome) numerators/denominators."""
    long = []
    for column in groups.columns:
        if column.startswith(("num__", "den__")):
            part, outcome = column.split("__", 1)
            long.append(
                pd.DataFrame(
                    {
                        "unit": [units[int(u)] for u in groups["unit"]],
                        "period": pd.to_datetime(groups["period"]),
                        "outcome": outcome,
                        "part": part,
                        "x": groups[column].to_numpy(float),
                    }
                )
            )
    frame = pd.concat(long).pivot_table(
        index=["unit", "period", "outcome"], columns="part", values="x", aggfunc="first"
    )
    return frame.rename(columns={"num": "numerator", "den": "denominator"})


def check_polars(panel: pd.DataFrame, groups: pd.DataFrame, units: list[str]) -> None:
    """The polars numerators (and share/mean denominators) equal evaltk's, rtol 1e-9."""
    theirs = polars_frame(groups, units)
    ours = panel.dropna(subset=["numerator"]).set_index(["unit", "period", "outcome"])
    ours.index = ours.index.set_levels(pd.to_datetime(ours.index.levels[1]), level=1)
    assert len(theirs.index.unique()) == len(ours.index.unique()), "different unit-months"
    joined = ours.join(theirs.add_suffix("_polars"), how="inner")
    assert len(joined) == len(ours), "unit-months missing from polars"
    np.testing.assert_allclose(joined["numerator"], joined["numerator_polars"], rtol=1e-9)
    shared = joined["denominator_polars"].notna()
    np.testing.assert_allclose(
        joined.loc[shared, "denominator"], joined.loc[shared, "denominator_polars"], rtol=1e-9
    )


# --------------------------------------------------------------------------- one engine


def run_engine(engine: str, folder: Path, out: Path) -> None:
    """Child process: compute the panel with one engine, save it, print timings as JSON."""
    protocol = bench_protocol(folder)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    if engine == "evaltk":
        from evaltk.measures import compute_panel

        panel = compute_panel(protocol, folder)
    else:
        from evaltk.measures.population import read_population
        from evaltk.measures.reference import read_canonical, reference_panel

        population = read_population(folder / "population.csv")
        panel = reference_panel(protocol, read_canonical(protocol, folder), population)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    panel.frame.to_parquet(out, index=False)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": (after.ru_utime + after.ru_stime)
                - (before.ru_utime + before.ru_stime),
                "peak_rss": after.ru_maxrss * 1024,  # Linux reports KiB
                "rows_in": panel.accounting.rows_in,
                "rows_used": panel.accounting.rows_used,
            }
        )
    )


def spawn(
    engine: str, folder: Path, *, baseline: Path | None = None, python: Path | None = None
) -> tuple[dict, pd.DataFrame]:
    out = folder / f"panel-{engine}.parquet"
    env = dict(os.environ)
    run = "evaltk" if engine == "baseline" else engine
    command = [str(python or sys.executable), __file__, "--run", run]
    command += ["--data", str(folder), "--out", str(out)]
    if engine == "baseline" and baseline is not None:
        env["PYTHONPATH"] = str(baseline)  # ahead of the editable install
    if engine == "polars":
        command += ["--spec", json.dumps(polars_spec(folder))]
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        sys.exit(f"{engine} run failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1]), pd.read_parquet(out)


# --------------------------------------------------------------------------- main


def scaling(sizes: list[int], repeat: int) -> None:
    """evaltk alone at each size: wall and CPU seconds per million episodes."""
    print(f"| episodes | wall s (best of {repeat}) | CPU s | wall s per million | peak GiB |")
    print("|---|---|---|---|---|")
    for rows in sizes:
        folder = ensure_data(rows)
        runs = [spawn("evaltk", folder)[0] for _ in range(repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        peak = max(r["peak_rss"] for r in runs) / GIB
        print(
            f"| {best['rows_in']:,} | {best['seconds']:.2f} | {best['cpu_seconds']:.2f} | "
            f"{best['seconds'] / best['rows_in'] * 1e6:.3f} | {peak:.2f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=10e6, help="episodes (default 10 million)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine (best is kept)")
    parser.add_argument("--no-pandas", action="store_true", help="leave the pandas peer out")
    parser.add_argument("--baseline", type=Path, help="a checkout to time as the 'before'")
    parser.add_argument("--scaling", help="comma-separated sizes: evaltk alone at each")
    parser.add_argument("--run", choices=["evaltk", "pandas", "polars"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run == "polars":
        run_polars(args.data, args.out, json.loads(args.spec))
        return
    if args.run:
        run_engine(args.run, args.data, args.out)
        return
    if args.scaling:
        scaling([int(float(x)) for x in args.scaling.split(",")], args.repeat)
        return

    folder = ensure_data(int(args.rows))
    polars_python = ensure_polars()
    engines = ["evaltk", "polars"]
    if args.baseline:
        engines.insert(1, "baseline")
    if not args.no_pandas:
        engines.append("pandas")
    runs: dict[str, list[dict]] = {e: [] for e in engines}
    frames: dict[str, pd.DataFrame] = {}
    for i in range(args.repeat):
        for engine in engines:
            run, frames[engine] = spawn(
                engine,
                folder,
                baseline=args.baseline.resolve() if args.baseline else None,
                python=polars_python if engine == "polars" else None,
            )
            runs[engine].append(run)
            print(
                f"round {i + 1} {engine}: {run['seconds']:.2f} s wall, "
                f"{run['cpu_seconds']:.2f} s CPU, {run['peak_rss'] / GIB:.2f} GiB peak",
                flush=True,
            )
    results = {
        e: {
            **min(rs, key=lambda r: r["seconds"]),
            "peak_rss": max(r["peak_rss"] for r in rs),
        }
        for e, rs in runs.items()
    }
    units = list(bench_protocol(folder).units)
    check_polars(frames["evaltk"], frames["polars"], units)
    for other in ("baseline", "pandas"):
        if other in frames:
            pd.testing.assert_frame_equal(
                frames["evaltk"], frames[other], check_exact=False, rtol=1e-9
            )
            assert results["evaltk"]["rows_in"] == results[other]["rows_in"]

    ours = results["evaltk"]
    print()
    print(
        f"episodes: {ours['rows_in']:,} rows ({ours['rows_used']:,} used), 43 forces, "
        f"120 months, 10 outcomes; {len(frames['evaltk']):,} panel rows; cores: {os.cpu_count()}"
    )
    print(f"best of {args.repeat} interleaved run(s) per engine; peak RSS is the highest")
    print("| engine | wall s | CPU s | peak RSS GiB | wall vs evaltk |")
    print("|---|---|---|---|---|")
    for engine, r in results.items():
        print(
            f"| {engine} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} | "
            f"{r['peak_rss'] / GIB:.2f} | {r['seconds'] / ours['seconds']:.2f}x |"
        )
    vs_polars = results["polars"]["seconds"] / ours["seconds"]
    print(
        f"vs polars (hashed keys): {vs_polars:.2f}x (target >= {TARGET_POLARS}x: "
        f"{'met' if vs_polars >= TARGET_POLARS else 'MISSED'}); evaltk {ours['seconds']:.2f} s "
        f"(target <= 3 s: {'met' if ours['seconds'] <= 3 else 'MISSED'}); peak "
        f"{ours['peak_rss'] / GIB:.2f} GiB (target <= 1 GiB: "
        f"{'met' if ours['peak_rss'] <= TARGET_PEAK else 'MISSED'})"
    )
    if "pandas" in results:
        speedup = results["pandas"]["seconds"] / ours["seconds"]
        print(f"vs pandas: {speedup:.1f}x (target >= {TARGET_SPEEDUP:.0f}x)")
    if "baseline" in results:
        print(f"vs baseline: {results['baseline']['seconds'] / ours['seconds']:.2f}x")
    print("panels agree: yes (rtol 1e-9)")


if __name__ == "__main__":
    main()
