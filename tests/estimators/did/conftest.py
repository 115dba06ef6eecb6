"""Fixtures for the DiD tests: small panels from the project simulator, and one BLAS thread.

The simulation studies here make thousands of small least-squares fits. Multi-threaded OpenBLAS
on a two-core machine shared with other work (``pytest -n 2``) spends more time spinning than
computing: a 600 x 125 SVD took 1-2 s instead of 15 ms. One thread per process is set here at
run time (the environment variable would be read too late, once numpy is imported).
"""

from __future__ import annotations

import ctypes

import numpy as np
import pandas as pd
import pytest
import scipy.linalg  # noqa: F401  (loads scipy's OpenBLAS so that it is limited too)

from evaltk.simulate import SimulationConfig, simulate_series


def _one_blas_thread() -> None:
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in (
            "scipy_openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_",
            "openblas_set_num_threads",
        ):
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(1)
                break


try:
    _one_blas_thread()
except OSError:  # not Linux: leave the defaults
    pass


@pytest.fixture(scope="session")
def region() -> pd.DataFrame:
    """The five East Midlands forces, 2014-2023, s136 rate ratio 0.7 (seed 1)."""
    return simulate_series(SimulationConfig.preset("region", seed=1))


@pytest.fixture(scope="session")
def region_null() -> pd.DataFrame:
    """The same region with no effect of triage (seed 2)."""
    return simulate_series(SimulationConfig.preset("region", seed=2, effects={}))


def toy_panel(
    n_units: int = 6,
    n_periods: int = 8,
    starts: dict[int, int | None] | None = None,
    seed: int = 0,
    effect: float = 1.0,
) -> pd.DataFrame:
    """A small integer-period panel with counts, population and a 0/1 treatment column."""
    rng = np.random.default_rng(seed)
    starts = starts or {0: 3, 1: 3, 2: 5, 3: None, 4: None, 5: None}
    rows = []
    for u in range(n_units):
        level = rng.normal(3.0, 0.3)
        for t in range(n_periods):
            s = starts.get(u)
            treated = s is not None and t >= s
            pop = 1000.0 * (1 + u)
            mu = pop / 1000 * np.exp(level + 0.05 * t + (np.log(effect) if treated else 0.0))
            rows.append(
                {"unit": f"u{u}", "period": t, "y": float(rng.poisson(mu)), "pop": pop,
                 "treated": int(treated), "x": rng.normal() + (effect - 1) * treated}
            )
    return pd.DataFrame(rows)
