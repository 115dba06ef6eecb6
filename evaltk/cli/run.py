"""``evaltk run ANALYSIS``: measure, estimate, decide and write results/."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from evaltk.cli.app import app, user_errors


@app.command()
@user_errors
def run(
    analysis: Path = typer.Argument(
        ...,
        help="The analysis folder (holding analysis.yaml), e.g. analyses/example-street-triage.",
    ),
) -> None:
    """Run an analysis: outcome measures, one model per outcome, the verdict, and figures.

    Writes ANALYSIS/results/ (results.json, series.csv, panel.csv, figures/) whole or not at
    all: if anything fails, the previous results are left untouched.
    """
    from evaltk.analysis.run import run_analysis  # heavy imports only when running

    console = Console(highlight=False)
    with console.status("Starting") as status:
        result = run_analysis(analysis, progress=lambda step: status.update(step))
    folder = analysis if analysis.is_dir() else analysis.parent
    console.print(f"[bold]{result.verdict.label}[/]: {result.verdict.sentence}")
    console.print(result.headline)
    console.print(f"wrote {folder / 'results' / 'results.json'}")
