"""``evaltk validate FILE``: check a protocol or analysis file and name every problem."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from evaltk.cli.app import app, user_errors
from evaltk.protocol import load_protocol


@app.command()
@user_errors
def validate(
    file: Path = typer.Argument(
        ..., help="A protocol template (protocols/*.yaml) or an analysis folder or analysis.yaml."
    ),
) -> None:
    """Check a protocol or analysis file against the protocol format.

    Every problem is printed on its own line as FILE:LINE: FIELD: what is wrong, and the exit
    code is non-zero. Nothing is written.
    """
    loaded = load_protocol(file)
    protocol = loaded.protocol
    based_on = f", following {loaded.template.name}" if loaded.template else ""
    Console(highlight=False, soft_wrap=True).print(
        f"ok: {loaded.path} is a valid protocol{based_on}: design {protocol.design.kind}, "
        f"{len(protocol.outcomes)} outcomes ({len(protocol.primary_outcomes)} primary), "
        f"{len(protocol.units)} unit(s)."
    )
