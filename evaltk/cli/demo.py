"""``evaltk demo``: simulate a force, run the example analysis, and build the book."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import typer
from rich.console import Console

from evaltk.cli.app import app, user_errors
from evaltk.errors import EvaltkError

EXAMPLE = Path("analyses") / "example-street-triage"


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
    (workdir / EXAMPLE).mkdir(parents=True, exist_ok=True)
    # The registration (and the power analysis it recorded) travel with the analysis, so the
    # demo runs the registered analysis, not an exploratory one.
    for name in ("analysis.yaml", "registration.json"):
        shutil.copy2(root / EXAMPLE / name, workdir / EXAMPLE / name)
    if (root / EXAMPLE / "power").is_dir():
        shutil.copytree(root / EXAMPLE / "power", workdir / EXAMPLE / "power", dirs_exist_ok=True)


@app.command()
@user_errors
def demo(
    workdir: Path = typer.Option(
        None,
        help="Folder to work in (default: the project checkout). Another folder gets a copy "
        "of protocols/, book/ and the example analysis.",
    ),
    seed: int = typer.Option(2018, help="Seed of the simulated data."),
) -> None:
    """Simulate five East Midlands forces, run the street-triage example, build the book.

    Steps: evaltk simulate (preset 'demo') -> evaltk run analyses/example-street-triage ->
    evaltk book. Prints the path of the book's landing page.
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
        console.print(f"[bold]\\[{number}/3][/] {text}  [dim]({elapsed:.1f} s)[/]")

    step(1, "Simulating episode data for the demo forces")
    config = SimulationConfig.preset("demo").model_copy(update={"seed": seed})
    data = write_dataset(config, analysis / "data")
    console.print(f"      wrote {data}")
    step(2, f"Running {EXAMPLE}")
    with console.status("") as status:
        result = run_analysis(analysis, progress=lambda text: status.update(f"      {text}"))
    console.print(f"      verdict: [bold]{result.verdict.label}[/]: {result.verdict.sentence}")
    step(3, "Building the book")
    with console.status("      jupyter-book build"):
        index = build_book(workdir / "analyses", workdir / "book")
    console.print(f"Done in {time.perf_counter() - began:.1f} s. Open {index}")
