"""``evaltk data``: look at an extract before writing its protocol (data dictionary)."""

from __future__ import annotations

from pathlib import Path

import typer

from evaltk.cli.app import app, user_errors

data_app = typer.Typer(
    help="Look at a force's or NHS extract (CSV, parquet, SPSS, Stata, SAS, Excel).",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")


@data_app.command(
    help="Print a data dictionary of FILE: each column's type, label, value labels, missing "
    "and distinct counts, and example values. Values of person identifiers (columns named "
    "like NHS number, name, date of birth, postcode, person or patient id, or given with "
    "--identifier) are never printed."
)
@user_errors
def describe(
    file: Path = typer.Argument(
        ..., help="The extract: .csv, .parquet, .sav, .dta, .sas7bdat, .xpt or .xlsx."
    ),
    format: str | None = typer.Option(None, "--format", help="Format, if not the extension's."),
    identifier: list[str] = typer.Option(
        [], "--identifier", help="A column holding person identifiers (repeatable)."
    ),
    encoding: str | None = typer.Option(None, "--encoding", help="Text encoding, if not UTF-8."),
    sheet: str | None = typer.Option(None, "--sheet", help="Excel worksheet (default: first)."),
) -> None:
    from evaltk.ingest.describe import describe as run_describe
    from evaltk.ingest.describe import render

    fmt, reports = run_describe(
        file, format, identifiers=identifier, encoding=encoding, sheet=sheet
    )
    print(render(file, fmt, reports))
