"""``evaltk validate FILE``: check a protocol or analysis file and name every problem."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from evaltk.cli.app import app, user_errors


@app.command()
@user_errors
def validate(
    file: Path = typer.Argument(
        ..., help="A protocol template (protocols/*.yaml) or an analysis folder or analysis.yaml."
    ),
    data: bool = typer.Option(
        True,
        "--data/--no-data",
        help="Also check an analysis's data files (exist, readable, mapped columns present, "
        "the window covered, populations for every year); --no-data before the extract "
        "arrives.",
    ),
) -> None:
    """Check a protocol or analysis file, and an analysis's data files, before any run.

    Every problem is printed on its own line as FILE:LINE: FIELD: what is wrong (or, for a
    data file, FILE: what is wrong and what to do), and the exit code is non-zero. The data
    checks read file headers, and of the episodes only the date and force columns: no
    outcome is counted. Nothing is written.
    """
    # Imported here, not with the command line: the data checks read files with DuckDB.
    from evaltk.analysis.preflight import check_data
    from evaltk.protocol import load_protocol

    loaded = load_protocol(file)
    protocol = loaded.protocol
    console = Console(highlight=False, soft_wrap=True)
    based_on = f", following {loaded.template.name}" if loaded.template else ""
    # A template's data paths are placeholders each analysis sets for itself.
    is_analysis = loaded.template is not None or loaded.path.name == "analysis.yaml"
    checked = check_data(protocol, loaded.folder) if data and is_analysis else []
    console.print(
        f"ok: {loaded.path} is a valid protocol{based_on}: design {protocol.design.kind}, "
        f"{len(protocol.outcomes)} outcomes ({len(protocol.primary_outcomes)} primary), "
        f"{len(protocol.units)} unit(s)."
    )
    for item in checked:
        console.print(f"ok: {item.path}: {item.what}.")
    if is_analysis and not data:
        console.print("Data files not checked (--no-data).")
