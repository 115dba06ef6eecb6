"""Run several analysis folders at once, one worker process each, and report them in order.

``evaltk demo`` runs five independent analyses (each reads its own data, or the shared data
read-only, and writes only its own folder, under that folder's lock). One after another they
keep one core busy for most of the demo; in worker processes they use every core the
machine gives this process. The workers are forked from the caller, which has already
imported evaltk's modules, so a worker starts in milliseconds and costs no extra import time
(on a platform without ``fork`` the analyses run one after another, in this process). Each
worker first sets the modules it shares aside from its cycle collector and collects less
often (:mod:`evaltk.garbage_collection`); the caller's own settings are left alone.

Each analysis computes exactly what it computes alone (every random stream is seeded by its
protocol), so its results.json and figures are byte-identical whichever way it runs.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from evaltk.cli.progress import steps
from evaltk.garbage_collection import collect_less_often, set_aside_loaded

#: Modules the analyses load on first use (the residual figures' statsmodels plots, the
#: figures' matplotlib and its PNG writer): imported here once before the workers fork, not
#: once in each worker. Not ``statsmodels.api``: it imports every statsmodels module (0.4 s),
#: and evaltk imports the models it fits from their own modules.
PRELOAD = (
    "statsmodels.graphics.tsaplots",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "PIL.PngImagePlugin",
    "evaltk.estimators.did.plot",
    "evaltk.estimators.its.plot",
)

#: At most this many analyses at once: each worker holds its own panel, fits and figures
#: (a few hundred MB), so more cores than this buy little for the memory they cost.
MAX_WORKERS = 4


@dataclass(frozen=True)
class Ran:
    """What a caller prints of one analysis's run, and what the run cost."""

    label: str
    sentence: str
    wall_seconds: float
    cpu_seconds: float


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def worker_count(jobs: int) -> int:
    """How many worker processes for ``jobs`` analyses: one per available core, at most
    :data:`MAX_WORKERS`; 1 (no workers: run here) without ``fork`` or with one core."""
    if "fork" not in multiprocessing.get_all_start_methods() or not sys.platform.startswith(
        "linux"
    ):
        # macOS offers fork but its system libraries are not safe to use after it.
        return 1
    return max(1, min(jobs, available_cores(), MAX_WORKERS))


#: Work to do after an analysis has run, in the same worker (e.g. writing its book chapter
#: while the other analyses still run). Picklable: a module-level function or a
#: functools.partial of one.
Finish = Callable[[], object]


def run_in_order(
    folders: Sequence[Path],
    console: Console,
    *,
    workers: int,
    announce: Callable[[int], None],
    indent: str = "",
    finish: Sequence[Finish | None] | None = None,
) -> Iterator[Ran]:
    """Run each analysis folder (``evaltk run``) and yield its :class:`Ran`, in the order given.

    ``announce(i)`` is called before the output of the i-th analysis: as it starts when they
    run one after another, as its result arrives when they run at once. ``finish[i]``, when
    given, runs just after the i-th analysis in the same process; its time counts in the
    analysis's.

    With ``workers`` > 1 the analyses run at once in that many forked processes; the first
    error (an :class:`~evaltk.errors.EvaltkError` travels back whole) stops the others from
    starting and is raised here. In a terminal each analysis's steps show on one status line
    when there is one worker; with several, only the results are printed, as each finishes
    in order. Outside a terminal every step is a timestamped line naming its analysis.
    """
    after = list(finish) if finish is not None else [None] * len(folders)
    if workers <= 1:
        for i, folder in enumerate(folders):
            announce(i)
            with steps(console, indent=indent) as say:
                yield _run(folder, say, after[i])
        return
    preload()
    log = not console.is_terminal
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_worker_started
    ) as pool:
        futures: list[Future[Ran]] = [
            pool.submit(
                _run_in_worker,
                str(folder),
                f"{indent}{folder.name}: " if log else None,
                last,
            )
            for folder, last in zip(folders, after, strict=True)
        ]
        try:
            for i, future in enumerate(futures):
                ran = future.result()
                announce(i)
                yield ran
        finally:
            for future in futures:
                future.cancel()  # not yet started: never started


def preload() -> None:
    """Import :data:`PRELOAD` here (a no-op once done), for workers forked afterwards."""
    for name in PRELOAD:
        importlib.import_module(name)


def _worker_started() -> None:
    """A new worker's collector: what it shares with this process set aside, and fewer
    collections (:mod:`evaltk.garbage_collection`; this process's own are left as they are)."""
    set_aside_loaded()
    collect_less_often()


def _run_in_worker(folder: str, indent: str | None, finish: Finish | None) -> Ran:
    """One analysis in a worker; its steps as timestamped lines on stderr when ``indent``."""
    if indent is None:
        return _run(Path(folder), None, finish)
    with steps(Console(stderr=True, force_terminal=False), indent=indent) as say:
        return _run(Path(folder), say, finish)


def _run(folder: Path, say: Callable[[str], None] | None, finish: Finish | None) -> Ran:
    from evaltk.analysis.run import run_analysis

    began, cpu = time.perf_counter(), time.process_time()
    result = run_analysis(folder, progress=say)
    if finish is not None:
        finish()
    return Ran(
        result.verdict.label,
        result.verdict.sentence,
        time.perf_counter() - began,
        time.process_time() - cpu,
    )
