"""Run the cells of a grid: in this process, on local cores (joblib), or on a Dask cluster.

Every backend calls the same pure :func:`~evaltk.power.cell.simulate_cell`, so the table does
not depend on the backend, the number of workers or the order cells finish in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evaltk.errors import PowerError
from evaltk.power.cell import simulate_cell
from evaltk.power.cits import CITSPowerSettings, simulate_cits_cell
from evaltk.power.did import DiDPowerSettings, simulate_did_cell
from evaltk.power.report import CellResult
from evaltk.power.settings import ITSPowerSettings
from evaltk.power.staggered import StaggeredPowerSettings, simulate_staggered_cell
from evaltk.power.synthetic import SyntheticPowerSettings, simulate_synthetic_cell

Progress = Callable[[int, int], None]
Settings = ITSPowerSettings | DiDPowerSettings | StaggeredPowerSettings | SyntheticPowerSettings


def run_cell(settings: Settings, effect: float, column: Any) -> CellResult:
    """One cell of any design (a module-level function, so that workers can unpickle it)."""
    if isinstance(settings, DiDPowerSettings):
        return simulate_did_cell(settings, effect, column)
    if isinstance(settings, StaggeredPowerSettings):
        return simulate_staggered_cell(settings, effect, column)
    if isinstance(settings, CITSPowerSettings):
        return simulate_cits_cell(settings, effect, column)
    if isinstance(settings, SyntheticPowerSettings):
        return simulate_synthetic_cell(settings, effect, column)
    return simulate_cell(settings, effect, column)


def run_cells(
    settings: Settings,
    *,
    workers: int = -1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[CellResult]:
    """Every cell of ``settings.cells``, in grid order.

    Parameters
    ----------
    settings : ITSPowerSettings or DiDPowerSettings
    workers : int
        Local processes for joblib: ``-1`` all cores, ``1`` runs in this process (no pool).
        Ignored with ``scheduler``.
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``); the cells run on its
        workers. An in-process ``LocalCluster`` address works too.
    progress : callable, optional
        Called with (cells done, cells in all).
    """
    cells = settings.cells
    say = progress or (lambda done, total: None)
    if scheduler is not None:
        return _dask(settings, cells, scheduler, say)
    if workers == 1:
        results = []
        for i, (effect, months) in enumerate(cells):
            results.append(run_cell(settings, effect, months))
            say(i + 1, len(cells))
        return results
    from joblib import Parallel, delayed

    # return_as="generator" keeps grid order and lets progress advance as cells finish.
    parallel = Parallel(n_jobs=workers, backend="loky", return_as="generator")
    results = []
    for result in parallel(delayed(run_cell)(settings, e, m) for e, m in cells):
        results.append(result)
        say(len(results), len(cells))
    return results


def _dask(
    settings: Settings, cells: list[tuple[float, Any]], address: str, say: Progress
) -> list[CellResult]:
    from distributed import Client

    try:
        client = Client(address, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise PowerError(
            f"--scheduler {address}: cannot reach a Dask scheduler ({error}); start one with "
            "`dask scheduler` and workers with `dask worker ADDRESS`, or drop --scheduler"
        ) from None
    try:
        futures = [client.submit(run_cell, settings, e, m, pure=False) for e, m in cells]
        results = []
        # In grid order: progress may lag a fast cell behind a slow one, the table never does.
        for i, future in enumerate(futures):
            results.append(future.result())
            say(i + 1, len(cells))
        return results
    finally:
        client.close()
