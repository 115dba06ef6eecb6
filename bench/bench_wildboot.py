"""Benchmark: wild cluster bootstrap, B = 9,999, 43 clusters, 5,000 observations.

evaltk's restricted wild cluster bootstrap (``LinearWCR``, Rademacher weights) against the
``wildboottest`` package (PyPI; WCR11, the "fast and wild" algorithm with numba), on the same
data, hypothesis and weights. The peer runs in its own environment, in a subprocess, so that
it never enters the project's:

    python3 -m venv bench/.venv-peers
    bench/.venv-peers/bin/pip install -r bench/requirements-peers.txt
    .venv/bin/python bench/bench_wildboot.py [--repeats 5] [--peer-python PATH]

Both sides are timed in-process around the test call only (data loading excluded), best of
``--repeats`` after one warm-up (numba compiles on its first call). p-values must agree within
Monte Carlo error: ``|p1 - p2| <= 4 sqrt(2 p (1 - p) / B)``. (With the same seed both packages
happen to draw the same Rademacher matrix, ``default_rng(seed).integers(0, 2, (G, B))``, so the
p-values then agree exactly: a check of the algebra, not only of the distribution.) BLAS is
limited to one thread in both processes (OPENBLAS_NUM_THREADS=1); numba keeps its default
threads.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_OBS, N_CLUSTERS, DRAWS = 5_000, 43, 9_999
ROOT = Path(__file__).resolve().parents[1]
PEER_PYTHON = ROOT / "bench" / ".venv-peers" / "bin" / "python"

PEER_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np, pandas as pd, statsmodels.api as sm
from wildboottest.wildboottest import wildboottest
data = np.load(sys.argv[1])
repeats = int(sys.argv[2])
X = pd.DataFrame(data["X"], columns=[f"x{i}" for i in range(data["X"].shape[1])])
model = sm.OLS(data["y"], X)
times, p = [], None
for i in range(repeats + 1):
    start = time.perf_counter()
    out = wildboottest(model, B=int(data["B"]), cluster=data["cluster"], param="x1",
                       weights_type="rademacher", impose_null=True, bootstrap_type="11",
                       seed=i, show=False)
    times.append(time.perf_counter() - start)
    p = float(out["p-value"].iloc[0])
print(json.dumps({"seconds": min(times[1:]), "first_call": times[0], "p_value": p}))
"""


def make_data(seed: int = 20240601) -> dict[str, np.ndarray]:
    """A DiD-like regression: constant, a cluster-level treatment dose, 3 covariates."""
    rng = np.random.default_rng(seed)
    cluster = np.sort(rng.integers(0, N_CLUSTERS, N_OBS))
    treated = rng.random(N_CLUSTERS) < 0.4
    post = rng.random(N_OBS) < 0.5
    d = (treated[cluster] & post).astype(float)
    covariates = rng.normal(size=(N_OBS, 3))
    X = np.column_stack([np.ones(N_OBS), d, post.astype(float), covariates])
    y = X @ np.array([1.0, 0.45, 0.2, 0.5, -0.3, 0.1]) + rng.normal(size=N_OBS)
    y += rng.normal(0, 0.5, N_CLUSTERS)[cluster]
    return {"y": y, "X": X, "cluster": cluster, "B": np.array(DRAWS)}


def time_evaltk(data: dict[str, np.ndarray], repeats: int) -> dict[str, float]:
    from evaltk.estimators.did.wild_bootstrap import LinearWCR, draw_weights

    R = np.zeros(data["X"].shape[1])
    R[1] = 1.0
    times, p = [], float("nan")
    for i in range(repeats + 1):
        start = time.perf_counter()
        engine = LinearWCR(data["y"], data["X"], data["cluster"])
        weights = draw_weights(engine.n_clusters, DRAWS, "rademacher", seed=i)
        p = engine.t_test(R, weights).p_value
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    engine = LinearWCR(data["y"], data["X"], data["cluster"])
    with_ci = engine.t_test(R, draw_weights(N_CLUSTERS, DRAWS, "rademacher", 0), level=0.95)
    ci_seconds = time.perf_counter() - start
    return {
        "seconds": min(times[1:]),
        "first_call": times[0],
        "p_value": p,
        "with_interval_seconds": ci_seconds,
        "ci": [with_ci.ci_low, with_ci.ci_high],
    }


def time_peer(data: dict[str, np.ndarray], repeats: int, python: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.npz"
        np.savez(path, **data)
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        out = subprocess.run(
            [str(python), "-c", PEER_SCRIPT, str(path), str(repeats)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-python", type=Path, default=PEER_PYTHON)
    args = parser.parse_args()
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        # read when numpy loads, so re-run this script with it set
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        sys.exit(subprocess.call([sys.executable, *sys.argv], env=env))
    data = make_data()
    ours = time_evaltk(data, args.repeats)
    print(
        f"wild cluster bootstrap: {N_OBS:,} observations, {N_CLUSTERS} clusters, "
        f"B = {DRAWS:,}, Rademacher, WCR, H0: coefficient of the treatment = 0"
    )
    print(
        f"  evaltk        {ours['seconds'] * 1e3:8.1f} ms   p = {ours['p_value']:.5f}   "
        f"(first call {ours['first_call'] * 1e3:.1f} ms; with the 95 % interval by inversion "
        f"{ours['with_interval_seconds'] * 1e3:.1f} ms: [{ours['ci'][0]:.4f}, "
        f"{ours['ci'][1]:.4f}])"
    )
    if not args.peer_python.exists():
        print(f"  wildboottest  not installed ({args.peer_python} missing): see the docstring")
        return
    peer = time_peer(data, args.repeats, args.peer_python)
    p = peer["p_value"]
    tolerance = 4 * np.sqrt(2 * max(p * (1 - p), 1 / DRAWS) / DRAWS)
    agree = abs(ours["p_value"] - p) <= tolerance
    print(
        f"  wildboottest  {peer['seconds'] * 1e3:8.1f} ms   p = {p:.5f}   "
        f"(first call, with numba compilation, {peer['first_call'] * 1e3:.0f} ms)"
    )
    print(
        f"  speed-up {peer['seconds'] / ours['seconds']:.1f}x (target >= 2x); p-values "
        f"{'agree' if agree else 'DISAGREE'} within Monte Carlo error "
        f"(|diff| = {abs(ours['p_value'] - p):.4f} <= {tolerance:.4f})"
    )


if __name__ == "__main__":
    main()
