"""``evaltk schema``: export the JSON Schemas of the protocol and of results.json."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from evaltk.cli.app import app, user_errors
from evaltk.protocol.schema import write_schemas


@app.command()
@user_errors
def schema(
    out: Path = typer.Option(Path("protocols"), help="Folder to write the schema files into."),
) -> None:
    """Write protocol.schema.json (for editors validating YAML as you type) and
    results.schema.json (the results.json contract) into OUT."""
    for path in write_schemas(out):
        Console(highlight=False).print(f"wrote {path}")
