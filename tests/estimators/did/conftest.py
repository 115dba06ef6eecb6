"""Fixtures for the DiD tests: small panels from the project simulator, and one BLAS thread.

The simulation studies here make thousands of small least-squares fits. Multi-threaded OpenBLAS
on a two-core machine shared with other work (``pytest -n 2``) spends more time spinning than
computing: a 600 x 125 SVD took 1-2 s instead of 15 ms. One thread per process is set here at
run time (the environment variable would be read too late, once numpy is imported).
"""

from __future__ import annotations

import contextlib
import ctypes

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


with contextlib.suppress(OSError):  # not Linux: leave the defaults
    _one_blas_thread()


@pytest.fixture(scope="session")
def region() -> pd.DataFrame:
    """The five East Midlands forces, 2014-2023, s136 rate ratio 0.7 (seed 1)."""
    return simulate_series(SimulationConfig.preset("region", seed=1))


@pytest.fixture(scope="session")
def region_null() -> pd.DataFrame:
    """The same region with no effect of triage (seed 2)."""
    return simulate_series(SimulationConfig.preset("region", seed=2, effects={}))
