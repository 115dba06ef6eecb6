"""``evaltk demo``: simulate five forces, run the three example analyses, and build the book.

The street-triage example is an interrupted time series of one force; the control-room
example a staggered difference-in-differences across all five (three start on different
dates, two never do); the Right Care, Right Person example a comparative interrupted time
series of one force against the two that never start. All read the same simulated data,
written once into the first.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import typer
from rich.console import Console

from evaltk.cli.app import app, user_errors
from evaltk.cli.progress import steps
from evaltk.errors import EvaltkError

EXAMPLE = Path("analyses") / "example-street-triage"
STAGGERED = Path("analyses") / "example-control-room-staggered"
COMPARATIVE = Path("analyses") / "example-right-care-right-person"
EXAMPLES = (EXAMPLE, STAGGERED, COMPARATIVE)
#: Simulate, run each example, build the book.
STEPS = 1 + len(EXAMPLES) + 1


def project_root() -> Path:
    """The checkout that holds protocols/, analyses/ and book/ (this package's parent)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "protocols").is_dir() or not (root / EXAMPLE).is_dir():
        raise EvaltkError(
            f"{root}: the demo needs the project checkout (protocols/, {EXAMPLE}/); "
            "install evaltk from a clone with `make demo`"
        )
    return root


def _prepare_workdir(workdir: Path, root: Path) -> None:
    """Copy the templates, the example analysis and the book sources into another folder."""
    if workdir.resolve() == root:
        return
    for folder in ("protocols", "book"):
        shutil.copytree(
            root / folder,
            workdir / folder,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("_build", "analyses"),
        )
    # The registration (and the power analysis it recorded) travel with the analysis, so the
    # demo runs the registered analysis, not an exploratory one.
    for example in EXAMPLES:
        (workdir / example).mkdir(parents=True, exist_ok=True)
        for name in ("analysis.yaml", "registration.json"):
            if (root / example / name).is_file():
                shutil.copy2(root / example / name, workdir / example / name)
        if (root / example / "power").is_dir():
            shutil.copytree(
                root / example / "power", workdir / example / "power", dirs_exist_ok=True
            )


def _simulated(folder: Path) -> bool:
    """True when ``folder`` holds a dataset written by ``evaltk simulate`` (an earlier demo),
    which the demo may replace; anything else there is someone's data and is never replaced
    (write_dataset then refuses with a one-line error)."""
    truth = folder / "truth.json"
    try:
        return json.loads(truth.read_text(encoding="utf-8")).get("generator") == "evaltk.simulate"
    except (OSError, ValueError, AttributeError):
        return False


@app.command()
@user_errors
def demo(
    workdir: Path = typer.Option(
        None,
        help="Folder to work in (default: the project checkout). Another folder gets a copy "
        "of protocols/, book/ and the example analyses.",
    ),
    seed: int = typer.Option(
        None,
        help="Seed of the simulated data (default: the demo preset's, so that `evaltk simulate "
        "--preset demo` writes the same data).",
        show_default=False,
    ),
) -> None:
    """Simulate five East Midlands forces, run the three example analyses, build the book.

    Steps: evaltk simulate (preset 'demo') -> evaltk run analyses/example-street-triage (an
    interrupted time series of Nottinghamshire) -> evaltk run
    analyses/example-control-room-staggered (staggered difference-in-differences across the
    five forces, on the same data) -> evaltk run analyses/example-right-care-right-person
    (comparative interrupted time series: Nottinghamshire against Lincolnshire and
    Northamptonshire) -> evaltk book. Prints the path of the book's landing page.
    """
    from evaltk.analysis.run import run_analysis
    from evaltk.publish import build_book
    from evaltk.simulate import SimulationConfig, write_dataset

    console = Console(highlight=False, soft_wrap=True)
    root = project_root()
    workdir = (workdir or root).resolve()
    _prepare_workdir(workdir, root)
    analysis = workdir / EXAMPLE
    began = time.perf_counter()

    def step(number: int, text: str) -> None:
        elapsed = time.perf_counter() - began
        console.print(f"[bold]\\[{number}/{STEPS}][/] {text}  [dim]({elapsed:.1f} s)[/]")

    step(1, "Simulating episode data for the demo forces")
    config = SimulationConfig.preset("demo", **({} if seed is None else {"seed": seed}))
    data = write_dataset(config, analysis / "data", overwrite=_simulated(analysis / "data"))
    console.print(f"      wrote {data}")
    for number, example in enumerate(EXAMPLES, start=2):
        step(number, f"Running {example}")
        with steps(console, indent="      ") as say:
            result = run_analysis(workdir / example, progress=say)
        console.print(f"      verdict: [bold]{result.verdict.label}[/]: {result.verdict.sentence}")
    step(STEPS, "Building the book")
    with steps(console, indent="      ") as say:
        index = build_book(workdir / "analyses", workdir / "book", progress=say)
    console.print(f"Done in {time.perf_counter() - began:.1f} s. Open {index}")
