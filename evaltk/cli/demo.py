"""``evaltk demo``: simulate the forces, run the example analyses, and build the book.

The street-triage example is an interrupted time series of one force; the control-room
example a staggered difference-in-differences across all five (three start on different
dates, two never do); the Right Care, Right Person example a comparative interrupted time
series of one force against the two that never start. These three read the same simulated
data of five forces, written once into the first. The synthetic-control example is one force
against the other 42 of England and Wales, on data of its own (preset ``synthetic``). The
stepped-wedge example is a randomised rollout over the twelve areas of one force, in the order
its registration drew (trial/schedule.csv); its monthly series is simulated for it
(:data:`TRIAL_EFFECTS`).
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from evaltk.cli.app import app, user_errors
from evaltk.cli.parallel_runs import preload, run_in_order, worker_count
from evaltk.cli.progress import steps
from evaltk.errors import EvaltkError
from evaltk.garbage_collection import paused
from evaltk.project import copy_scaffold, init_project, project_or_cwd, scaffold_root
from evaltk.publish.jupyter_book import preload_jupyter_book
from evaltk.scaffold import scaffold_files

if TYPE_CHECKING:
    import subprocess

    import pandas as pd

    from evaltk.protocol.spec import Protocol
    from evaltk.simulate import SimulationConfig

EXAMPLE = Path("analyses") / "example-street-triage"
STAGGERED = Path("analyses") / "example-control-room-staggered"
COMPARATIVE = Path("analyses") / "example-right-care-right-person"
SYNTHETIC = Path("analyses") / "example-street-triage-synthetic"
TRIAL = Path("analyses") / "example-stepped-wedge"
#: The examples that read the demo preset's five forces (simulated into EXAMPLE's data/).
FIVE_FORCES = (EXAMPLE, STAGGERED, COMPARATIVE)
EXAMPLES = (*FIVE_FORCES, SYNTHETIC, TRIAL)
#: The stepped-wedge example's simulated series: column -> (rate per 100,000 a month before
#: the scheme, true rate ratio with it).
TRIAL_EFFECTS = {
    "s136": (12.0, 0.80),
    "ae_conveyance": (25.0, 0.95),
    "ambulance_conveyance": (30.0, 1.0),
    "referral": (20.0, 1.10),
}
#: Simulate, run each example, build the book.
STEPS = 1 + len(EXAMPLES) + 1


def _prepare_workdir(workdir: Path) -> None:
    """Make ``workdir`` a project holding the example analyses, from evaltk's scaffold.

    The templates and the book's sources are added where missing (a project's own edits are
    kept), and the example analyses' analysis.yaml, registration.json and power/ are always
    evaltk's: the demo runs the registered examples. Their registrations cover the templates'
    content, so a project whose template differs from evaltk's stops here, before any work.
    """
    init_project(workdir)
    copy_scaffold(workdir, ("examples",), replace=tuple(f"{e.as_posix()}/" for e in EXAMPLES))
    source = scaffold_root()
    for relative in scaffold_files(source, ("protocols",)):
        if not relative.endswith(".yaml"):
            continue
        if (workdir / relative).read_bytes() != (source / relative).read_bytes():
            raise EvaltkError(
                f"{workdir / relative}: differs from evaltk's template, which the example "
                "analyses are registered against; run the demo in a new folder "
                "(evaltk demo --workdir FOLDER)"
            )


def written_by_simulator(folder: Path) -> bool:
    """True when ``folder`` holds a dataset written by ``evaltk simulate`` (an earlier demo),
    which the demo may replace; anything else there is someone's data and is never replaced
    (write_dataset then refuses with a one-line error)."""
    truth = folder / "truth.json"
    try:
        return json.loads(truth.read_text(encoding="utf-8")).get("generator") == "evaltk.simulate"
    except (OSError, ValueError, AttributeError):
        return False


def _refuse_data_not_simulated(workdir: Path) -> None:
    """Stop before any work when an example's data folder holds files ``evaltk simulate`` did
    not write: the demo replaces only its own data. Every example's data folder is checked
    before any of them is written."""
    for example in (EXAMPLE, SYNTHETIC, TRIAL):
        folder = workdir / example / "data"
        if folder.is_dir() and any(folder.iterdir()) and not written_by_simulator(folder):
            raise EvaltkError(
                f"{folder}: data already exists and is not empty, and was not written by "
                "evaltk simulate; run the demo in a new folder (evaltk demo --workdir FOLDER)"
            )


def _true_ledgers(
    workdir: Path, config: SimulationConfig, examples: tuple[Path, ...] = FIVE_FORCES
) -> dict[str, dict[str, object]]:
    """Each example's true whole-system ledger on the simulated data (for truth.json): what
    its ledger estimates, priced by its own unit costs."""
    from evaltk.protocol.load import load_protocol
    from evaltk.validation.true_ledger import true_ledger

    return {
        example.name: true_ledger(config, load_protocol(workdir / example).protocol).to_dict()
        for example in examples
    }


def trial_series(protocol: Protocol, effects: dict[str, Any], seed: int) -> pd.DataFrame:
    """Monthly counts by area of a stepped-wedge protocol with its drawn schedule, over its
    window, at the true rate ratios ``effects`` (column -> (rate, ratio), as
    :data:`TRIAL_EFFECTS`): the demo's trial data and `evaltk trial simulate`'s."""
    from evaltk.simulate.stepped_wedge import simulate_trial_series

    trial = protocol.design.trial
    assert trial is not None and trial.schedule is not None  # registered with its schedule
    window = protocol.window
    months = (window.end.year - window.start.year) * 12 + window.end.month - window.start.month
    return simulate_trial_series(
        trial.names,
        [c.population for c in trial.clusters],
        [trial.starts()[n].isoformat() for n in trial.names],
        window.start.isoformat(),
        months + 1,
        effects,
        seed=seed,
    )


def _simulate_for(
    workdir: Path, config: SimulationConfig, examples: tuple[Path, ...] = FIVE_FORCES
) -> Path:
    """Simulate ``config`` into the data folder of ``examples[0]``, which ``examples`` read
    (the demo's five forces by default), with their true ledgers in truth.json."""
    from evaltk.simulate import write_dataset

    folder = workdir / examples[0] / "data"
    return write_dataset(
        config,
        folder,
        overwrite=written_by_simulator(folder),
        true_ledgers=_true_ledgers(workdir, config, examples),
    )


def _simulate_synthetic(workdir: Path, seed: int | None) -> str:
    """The synthetic-control example's data: all 43 forces (preset ``synthetic``)."""
    from evaltk.simulate import SimulationConfig

    forces = SimulationConfig.preset("synthetic", **({} if seed is None else {"seed": seed}))
    data = _simulate_for(workdir, forces, (SYNTHETIC,))
    return f"wrote {data} (all 43 forces, for the synthetic control)"


def _write_trial_series(workdir: Path, seed: int) -> str:
    """The stepped-wedge example's monthly series by area, from its drawn schedule."""
    from evaltk.protocol.load import load_protocol

    series = trial_series(load_protocol(workdir / TRIAL).protocol, TRIAL_EFFECTS, seed)
    folder = workdir / TRIAL / "data"
    folder.mkdir(parents=True, exist_ok=True)
    truth = folder / "truth.json"
    # A folder holding someone's data never gets here: _refuse_data_not_simulated.
    series.to_csv(folder / "series.csv", index=False)
    effects = {column: ratio for column, (_, ratio) in TRIAL_EFFECTS.items()}
    truth.write_text(
        json.dumps({"generator": "evaltk.simulate", "seed": seed, "rate_ratios": effects}, indent=2)
        + "\n",
        encoding="utf-8",
    )
    return f"wrote {folder / 'series.csv'}"


@app.command()
@user_errors
def demo(
    workdir: Path = typer.Option(
        None,
        help="Folder to work in (default: the evaltk project the current folder is in, else "
        "the current folder). It becomes a project if it is not one (evaltk init), and gets "
        "the example analyses (analyses/example-*); files of its own are kept.",
        show_default=False,
    ),
    seed: int = typer.Option(
        None,
        help="Seed of the simulated data (default: the demo preset's, so that `evaltk simulate "
        "--preset demo` writes the same data).",
        show_default=False,
    ),
) -> None:
    """Simulate the demo forces, run the five example analyses, build the book.

    Steps: evaltk simulate (preset 'demo') -> evaltk run analyses/example-street-triage (an
    interrupted time series of Nottinghamshire) -> evaltk run
    analyses/example-control-room-staggered (staggered difference-in-differences across the
    five forces, on the same data) -> evaltk run analyses/example-right-care-right-person
    (comparative interrupted time series: Nottinghamshire against Lincolnshire and
    Northamptonshire) -> evaltk run analyses/example-street-triage-synthetic (synthetic
    control: Nottinghamshire against the other 42 forces, simulated by preset 'synthetic')
    -> evaltk run analyses/example-stepped-wedge (a randomised stepped-wedge rollout over
    twelve areas, on its own simulated series) -> evaltk book. Prints the path of the book's
    landing page.
    """
    run_demo(workdir, seed, Console(highlight=False, soft_wrap=True))


@dataclass(frozen=True)
class StepTime:
    """One step of the demo: its wall-clock and CPU seconds (this process and its children:
    a worker's own CPU for an analysis run in a worker, the Sphinx build's for the book)."""

    step: str
    wall_seconds: float
    cpu_seconds: float


def run_demo(
    workdir: Path | None, seed: int | None, console: Console, *, workers: int | None = None
) -> list[StepTime]:
    """The demo's steps (see :func:`demo`), printed to ``console``; each step's time.

    ``workers``: processes for the example analyses (default: one per available core, see
    :func:`evaltk.cli.parallel_runs.worker_count`); 1 runs them one after another here.
    """
    workdir = (workdir or project_or_cwd()).resolve()
    _prepare_workdir(workdir)
    _refuse_data_not_simulated(workdir)
    count = worker_count(len(EXAMPLES)) if workers is None else workers
    # Jupyter Book imports itself now, on the core this process's imports leave idle, and
    # waits for the book at the end.
    with preload_jupyter_book(workdir / "book", jobs=count) as jupyter_book:
        return _run_steps(workdir, seed, console, count, jupyter_book)


def _run_steps(
    workdir: Path,
    seed: int | None,
    console: Console,
    count: int,
    jupyter_book: subprocess.Popen[str] | None,
) -> list[StepTime]:
    # What the simulator uses (pandas, pyarrow, the protocols): imported before it forks.
    with paused():
        from evaltk.simulate import SimulationConfig, write_dataset  # noqa: F401
        from evaltk.validation.true_ledger import true_ledger  # noqa: F401

    began = time.perf_counter()
    times: list[StepTime] = []

    def step(number: int, text: str) -> None:
        elapsed = time.perf_counter() - began
        console.print(f"[bold]\\[{number}/{STEPS}][/] {text}  [dim]({elapsed:.1f} s)[/]")

    with _timed(times, "simulate"):
        step(1, "Simulating episode data for the demo forces")
        config = SimulationConfig.preset("demo", **({} if seed is None else {"seed": seed}))
        for line in _simulate_while_importing(workdir, config, seed, count):
            console.print(f"      {line}")
    if count > 1:
        console.print(f"      running the {len(EXAMPLES)} example analyses in {count} processes")
    from evaltk.publish.pages import prewrite_chapter

    folders = [workdir / example for example in EXAMPLES]
    book = workdir / "book"
    # Each example's book chapter is written by the worker that ran it, as soon as it has run
    # (while the others still run), into a folder beside the book's HTML; the book then moves
    # the chapters into place instead of writing them (publish.pages.prewrite_chapter).
    (book / "_build").mkdir(parents=True, exist_ok=True)
    # Gone by the end when the book build cleans a killed demo's leftovers (publish.build).
    chapters = tempfile.TemporaryDirectory(
        dir=book / "_build", prefix=".chapters-", ignore_cleanup_errors=True
    )
    with chapters as ahead:
        runs = run_in_order(
            folders,
            console,
            workers=count,
            announce=lambda i: step(i + 2, f"Running {EXAMPLES[i]}"),
            indent="      ",
            finish=[partial(prewrite_chapter, folder, book, Path(ahead)) for folder in folders],
        )
        for example, ran in zip(EXAMPLES, runs, strict=True):
            console.print(f"      verdict: [bold]{ran.label}[/]: {ran.sentence}")
            times.append(StepTime(example.name, ran.wall_seconds, ran.cpu_seconds))
        with _timed(times, "book"):
            from evaltk.publish import build_book

            step(STEPS, "Building the book")
            with steps(console, indent="      ") as say:
                index = build_book(
                    workdir / "analyses",
                    book,
                    progress=say,
                    workers=count,
                    preloaded=jupyter_book,
                    prewritten=Path(ahead),
                )
    console.print(f"Done in {time.perf_counter() - began:.1f} s. Open {index}")
    return times


def _simulate_all(workdir: Path, config: SimulationConfig, seed: int | None) -> list[str]:
    """Every example's data: the demo forces' (:func:`_simulate_for`), the synthetic
    control's 43 forces and the trial's series; a line saying what was written for each."""
    data = _simulate_for(workdir, config)
    return [
        f"wrote {data}",
        _simulate_synthetic(workdir, seed),
        _write_trial_series(workdir, config.seed),
    ]


def _simulate_while_importing(
    workdir: Path, config: SimulationConfig, seed: int | None, count: int
) -> list[str]:
    """Every example's data (:func:`_simulate_all`); with more than one worker, made in a
    forked process while this one imports the models, figures and run that the analysis
    workers (forked later, from this process) use. The import takes longer than the five
    forces' data, so the synthetic control's and the trial's are made there too, on the core
    the import leaves idle, and not beside the analyses."""
    simulate = partial(_simulate_all, workdir, config, seed)
    if count <= 1:
        return simulate()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(1, mp_context=context) as simulator:
        simulated = simulator.submit(simulate)
        _import_for_workers()
        return simulated.result()


def _import_for_workers() -> None:
    """Import what every analysis run uses, so that the workers fork with it loaded."""
    with paused():
        import evaltk.analysis.run  # noqa: F401

        preload()


@contextmanager
def _timed(times: list[StepTime], name: str) -> Iterator[None]:
    """Append the wall and CPU seconds of the ``with`` block (children waited for included)."""
    began, cpu = time.perf_counter(), _cpu_seconds()
    yield
    times.append(StepTime(name, time.perf_counter() - began, _cpu_seconds() - cpu))


def _cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime
