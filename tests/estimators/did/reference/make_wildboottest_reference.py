"""Produce wildboottest_reference.json with the wildboottest package (PyPI, 0.3.2).

wildboottest needs numba, so it lives in the benchmark's own environment, never the project's:

    python3 -m venv bench/.venv-peers
    bench/.venv-peers/bin/pip install -r bench/requirements-peers.txt
    bench/.venv-peers/bin/python tests/estimators/did/reference/make_wildboottest_reference.py

It reads wildboottest_data.csv (written here on first run from a fixed seed, then kept) and
records wildboottest's WCR11 p-values: Rademacher with full enumeration (10 clusters, 2**10 =
1,024 < B) and Webb with 9,999 random draws (20 clusters).
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from wildboottest.wildboottest import wildboottest as wbt

HERE = Path(__file__).resolve().parent
DATA = HERE / "wildboottest_data.csv"
OUT = HERE / "wildboottest_reference.json"


def make_data() -> pd.DataFrame:
    rng = np.random.default_rng(20240601)
    n, g = 600, 20
    cluster = rng.integers(0, g, n)
    x1 = rng.normal(size=n) + 0.5 * rng.normal(size=g)[cluster]
    x2 = rng.normal(size=n)
    y = 1.0 + 0.12 * x1 - 0.3 * x2 + rng.normal(size=n) + 0.7 * rng.normal(size=g)[cluster]
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "cluster": cluster})


def main() -> None:
    if not DATA.exists():
        make_data().to_csv(DATA, index=False, float_format="%.12g")
    data = pd.read_csv(DATA)
    cases = []
    for name, clusters, weights in (
        ("rademacher_enumerated_g10", data["cluster"] // 2, "rademacher"),
        ("webb_random_g20", data["cluster"], "webb"),
    ):
        X = sm.add_constant(data[["x1", "x2"]])
        model = sm.OLS(data["y"], X)
        out = wbt(
            model,
            B=9999,
            cluster=clusters.to_numpy(),
            param="x1",
            weights_type=weights,
            impose_null=True,
            bootstrap_type="11",
            seed=12345,
            show=False,
        )
        cases.append(
            {
                "case": name,
                "clusters": "cluster // 2" if "g10" in name else "cluster",
                "param": "x1",
                "weights": weights,
                "B": 9999,
                "statistic": float(np.ravel(out["statistic"].iloc[0])[0]),
                "p_value": float(out["p-value"].iloc[0]),
            }
        )
    OUT.write_text(
        json.dumps(
            {
                "source": f"wildboottest {version('wildboottest')} (PyPI), WCR11, two-tailed",
                "cases": cases,
            },
            indent=2,
        )
        + "\n"
    )
    print(OUT.read_text())


if __name__ == "__main__":
    main()
