"""``evaltk amend ANALYSIS --reason``: record a change to a registered protocol."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from evaltk.cli.app import app, err_console, user_errors
from evaltk.cli.register import (
    ACCESS_HELP,
    ACCESS_METAVAR,
    SIGN_KEY_HELP,
    DataAccessChoice,
    load_sign_key,
    print_seal,
)

HELP = (
    "Record a change to a registered protocol: compare analysis.yaml (merged with its "
    "template) with the latest entry of ANALYSIS/registration.json, and append a new chained "
    "entry with every changed field, the reason, the UTC time and who amended.\n\n"
    "The book lists the original registration and every amendment in order; an outcome "
    "added after registration is labelled exploratory wherever it appears, and a changed "
    "primary outcome is flagged in the headline. Refuses when nothing changed or the log "
    "fails verification.\n\n"
    "Each amendment moves the head of the chain: send the new fingerprint it prints to the "
    "commissioner."
)


@app.command(help=HELP)
@user_errors
def amend(
    analysis: Path = typer.Argument(..., help="The registered analysis folder."),
    reason: str = typer.Option(
        ..., "--reason", help="Why the protocol changed (shown in the book beside the change)."
    ),
    by: str | None = typer.Option(
        None, "--by", help="Who amends; default the git identity (as for `evaltk register`)."
    ),
    data_access: DataAccessChoice | None = typer.Option(
        None,
        "--data-access",
        help="Optional, recommended: what the team had seen when amending. " + ACCESS_HELP,
        case_sensitive=False,
        metavar=ACCESS_METAVAR,
    ),
    explanation: str = typer.Option(
        "", "--explanation", help="Required with --data-access outcomes_examined."
    ),
    sign_key: Path | None = typer.Option(None, "--sign-key", help=SIGN_KEY_HELP),
) -> None:
    """Record an amendment (see :data:`HELP`)."""
    from evaltk.registration import amend as record

    signer = load_sign_key(sign_key)
    done = record(
        analysis,
        reason=reason,
        by=by,
        data_access=None if data_access is None else data_access.value,
        explanation=explanation,
        signer=signer,
    )
    if done.identity.warning:
        err_console.print(f"[bold yellow]note:[/] {done.identity.warning}")
    entry = done.entry
    console = Console(highlight=False, soft_wrap=True)
    console.print(
        f"amended {analysis} at {entry.recorded_at} by {escape(entry.by)} "
        f"(entry {entry.sequence}); changed:"
    )
    for change in entry.changes:
        console.print(f"  {escape(change.text())}")
    console.print(f"wrote {done.path}; commit it")
    print_seal(done, analysis, signer, amended=True)
    if signer is None:
        from evaltk.registration import read_log

        if any(e.public_key for e in read_log(done.path).entries):
            err_console.print(
                "[bold yellow]note:[/] earlier entries are signed and this one is not; "
                "pass --sign-key to sign amendments too"
            )
