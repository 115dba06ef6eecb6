"""Benchmark: Callaway & Sant'Anna on 20,000 units x 10 periods, evaltk against diff-diff and csdid.

Usage::

    .venv/bin/python bench/bench_staggered.py                 # 20,000 units, 3 timed runs
    .venv/bin/python bench/bench_staggered.py --units 5000    # a quicker run

The peers are installed from PyPI into their own virtual environment, ``bench/.venv-peers``
(git-ignored), from ``bench/requirements-peers.txt``; it is created on first use. The project's
venv never sees them.

Data: a simulated balanced panel written once to ``bench/_data/`` (git-ignored). Units are
assigned with fixed probabilities to never treated (30 %) or one of five cohorts first treated
in periods 4-8; ``y = unit effect + 0.1 t + N(0,1) + 1{t >= g} (1 + 0.1 (t - g))``.

Task, the same for every tool: all ATT(g,t) with the doubly robust estimator, never-treated
comparisons, varying base period, no covariates, analytical (influence-function) standard
errors, then the simple aggregation. Each tool runs in its own subprocess (evaltk in the
project's interpreter, the peers in the peers' venv): it reads the data (not timed), runs the
task once cold (first call in the process) and then ``--repeat`` more times; the report gives
the import time, the first call, and the best and median warm times, in wall-clock seconds.
Each tool runs ``--rounds`` times, interleaved with the others, so that the load of a shared
machine affects all alike. ATT(g,t), the simple ATT and its
standard error must agree with evaltk's (1e-6 absolute; standard errors 1e-4 relative).
Target: evaltk no slower than the fastest peer.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DATA = BENCH / "_data"
PEERS_VENV = BENCH / ".venv-peers"
REQUIREMENTS = BENCH / "requirements-peers.txt"
TOOLS = ("evaltk", "diff-diff", "csdid")
ATT_TOL, SE_RTOL = 1e-6, 1e-4


# --------------------------------------------------------------------------- data


def ensure_data(units: int, periods: int, seed: int = 20260101) -> Path:
    """The simulated panel as CSV (columns id, year, g, y), generated on first use."""
    path = DATA / f"staggered-{units}x{periods}-{seed}.csv"
    if path.is_file():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    cohorts = np.array([0, 4, 5, 6, 7, 8])
    g = rng.choice(cohorts, size=units, p=[0.3, 0.14, 0.14, 0.14, 0.14, 0.14])
    unit = np.repeat(np.arange(1, units + 1), periods)
    t = np.tile(np.arange(1, periods + 1), units)
    gl = np.repeat(g, periods)
    treated = (gl > 0) & (t >= gl)
    y = (
        np.repeat(rng.normal(size=units), periods)
        + 0.1 * t
        + rng.normal(size=units * periods)
        + np.where(treated, 1.0 + 0.1 * (t - gl), 0.0)
    )
    frame = pd.DataFrame({"id": unit, "year": t, "g": gl, "y": y})
    tmp = path.with_suffix(".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------- peers' venv


def ensure_peers() -> Path:
    """Python of ``bench/.venv-peers`` with the pinned peers installed (created on first use)."""
    python = PEERS_VENV / "bin" / "python"
    stamp = PEERS_VENV / ".installed"
    wanted = REQUIREMENTS.read_text()
    if python.is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return python
    print(f"installing {REQUIREMENTS.name} from PyPI into {PEERS_VENV} ...", flush=True)
    if not python.is_file():
        venv.EnvBuilder(with_pip=True).create(PEERS_VENV)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)], check=True
    )
    stamp.write_text(wanted)
    return python


# --------------------------------------------------------------------------- workers


def _task_evaltk(df: pd.DataFrame) -> dict:
    from evaltk.estimators.staggered import CallawaySantAnna

    res = CallawaySantAnna(
        df,
        outcome="y",
        unit="id",
        time="year",
        group="g",
        control_group="never_treated",
        est_method="dr",
        base_period="varying",
    ).fit(bootstrap=False)
    simple = res.aggregate("simple")
    f = res.to_frame()
    return {
        "cells": [
            [float(g), float(t), float(a), float(s)]
            for g, t, a, s in zip(f["group"], f["time"], f["att"], f["std_error"], strict=True)
        ],
        "simple": [simple.estimate, simple.std_error],
    }


def _task_diff_diff(df: pd.DataFrame) -> dict:
    from diff_diff import CallawaySantAnna

    est = CallawaySantAnna(
        control_group="never_treated",
        estimation_method="dr",
        n_bootstrap=0,
        base_period="varying",
    )
    res = est.fit(df, outcome="y", unit="id", time="year", first_treat="g")
    cells = [
        [float(g), float(t), float(v["effect"]), float(v["se"])]
        for (g, t), v in sorted(res.group_time_effects.items())
    ]
    return {"cells": cells, "simple": [float(res.overall_att), float(res.overall_se)]}


def _task_csdid(df: pd.DataFrame) -> dict:
    from csdid.att_gt import ATTgt

    with contextlib.redirect_stdout(io.StringIO()):
        model = ATTgt(
            yname="y", tname="year", idname="id", gname="g", data=df, control_group="nevertreated"
        )
        model.fit(est_method="dr", base_period="varying", bstrap=False)
        model.aggte(typec="simple", bstrap=False)
    r = model.results
    cells = [
        [float(g), float(t), float(a), float(s)]
        for g, t, a, s in zip(r["group"], r["year"], r["att"], r["se"], strict=True)
    ]
    return {
        "cells": cells,
        "simple": [float(model.atte["overall_att"]), float(model.atte["overall_se"])],
    }


TASKS = {"evaltk": _task_evaltk, "diff-diff": _task_diff_diff, "csdid": _task_csdid}
MODULES = {
    "evaltk": "evaltk.estimators.staggered",
    "diff-diff": "diff_diff",
    "csdid": "csdid.att_gt",
}


def worker(tool: str, data: Path, repeat: int) -> None:
    """Run one tool's task cold, then ``repeat`` times warm; print JSON on stdout."""
    import warnings

    warnings.simplefilter("ignore")
    df = pd.read_csv(data)
    t0 = time.perf_counter()
    importlib.import_module(MODULES[tool])
    t_import = time.perf_counter() - t0
    task = TASKS[tool]
    times = []
    out = {}
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        out = task(df)
        times.append(time.perf_counter() - t0)
    print(
        json.dumps({"tool": tool, "import": t_import, "cold": times[0], "warm": times[1:], **out})
    )


# --------------------------------------------------------------------------- driver


def run_tool(tool: str, python: Path, data: Path, repeat: int) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    cmd = [
        str(python),
        str(Path(__file__).resolve()),
        "--worker",
        tool,
        "--data",
        str(data),
        "--repeat",
        str(repeat),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(ours: dict, peer: dict) -> tuple[float, float]:
    """Largest absolute ATT difference and relative SE difference over cells and simple."""
    mine = {(c[0], c[1]): c[2:] for c in ours["cells"]}
    theirs = {(c[0], c[1]): c[2:] for c in peer["cells"]}
    if set(mine) != set(theirs):
        raise AssertionError(f"cells differ: {sorted(set(mine) ^ set(theirs))[:5]}")
    att = [abs(mine[k][0] - theirs[k][0]) for k in mine]
    se = [abs(theirs[k][1] / mine[k][1] - 1) for k in mine if np.isfinite(mine[k][1])]
    att.append(abs(ours["simple"][0] - peer["simple"][0]))
    se.append(abs(peer["simple"][1] / ours["simple"][1] - 1))
    return max(att), max(se)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--periods", type=int, default=10)
    parser.add_argument(
        "--repeat", type=int, default=3, help="warm runs after the first call, per round"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="subprocesses per tool, interleaved across tools"
    )
    parser.add_argument("--worker", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.repeat)
        return 0

    data = ensure_data(args.units, args.periods)
    peers_python = ensure_peers()
    print(
        f"panel: {args.units:,} units x {args.periods} periods ({data.name}); "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; dr, never treated, "
        "analytical SEs, simple aggregation"
    )
    # Rounds interleave the tools, so that changes in the machine's load hit them alike.
    runs: dict[str, list[dict]] = {t: [] for t in TOOLS}
    for _ in range(args.rounds):
        for tool in TOOLS:
            python = Path(sys.executable) if tool == "evaltk" else peers_python
            runs[tool].append(run_tool(tool, python, data, args.repeat))
    results = {}
    for tool in TOOLS:
        r = dict(runs[tool][-1])
        r["import"] = min(x["import"] for x in runs[tool])
        r["cold"] = min(x["cold"] for x in runs[tool])
        r["warm"] = [w for x in runs[tool] for w in x["warm"]]
        results[tool] = r
        print(
            f"  {tool:<10} import {r['import']:6.2f} s   first call {r['cold']:7.3f} s   "
            f"best warm {min(r['warm']):7.3f} s   median warm "
            f"{float(np.median(r['warm'])):7.3f} s   ({len(r['cells'])} ATT(g,t); simple ATT "
            f"{r['simple'][0]:.5f}, se {r['simple'][1]:.5f})",
            flush=True,
        )

    ok = True
    for peer in TOOLS[1:]:
        d_att, d_se = compare(results["evaltk"], results[peer])
        agree = d_att <= ATT_TOL and d_se <= SE_RTOL
        ok &= agree
        print(
            f"  agreement with {peer}: max |ATT diff| {d_att:.2e}, max SE rel diff "
            f"{d_se:.2e} -> {'ok' if agree else 'DISAGREE'}"
        )
    ours = results["evaltk"]
    fastest = min(TOOLS[1:], key=lambda t: min(results[t]["warm"]))
    for kind, pick in (
        ("first call", lambda r: r["cold"]),
        ("best warm", lambda r: min(r["warm"])),
        ("median warm", lambda r: float(np.median(r["warm"]))),
    ):
        best_peer = min(pick(results[t]) for t in TOOLS[1:])
        print(
            f"  {kind}: evaltk {pick(ours):.3f} s vs fastest peer {best_peer:.3f} s "
            f"-> {best_peer / pick(ours):.1f}x"
        )
    target = min(ours["warm"]) <= min(results[fastest]["warm"])
    print(f"target (no slower than the fastest peer, {fastest}): {'met' if target else 'NOT met'}")
    return 0 if ok and target else 1


if __name__ == "__main__":
    sys.exit(main())
