"""``evaltk register ANALYSIS``: fix the protocol before outcomes are seen."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

from evaltk.cli.app import app, err_console, user_errors
from evaltk.registration.access import DATA_ACCESS_WORDS


class DataAccessChoice(StrEnum):
    not_collected = "not_collected"
    collected_not_accessed = "collected_not_accessed"
    accessed_outcomes_not_examined = "accessed_outcomes_not_examined"
    outcomes_examined = "outcomes_examined"


ACCESS_HELP = "What the team had seen of the data when registering (OSF's question): " + "; ".join(
    f"{code}: {words}" for code, words in DATA_ACCESS_WORDS.items()
)

HELP = (
    "Register an analysis: canonicalise its protocol (the template merged with analysis.yaml, "
    "validated, defaults filled in; comments, key order and whitespace do not count, every "
    "value does), hash it (SHA-256) and write the first entry of ANALYSIS/registration.json "
    "with the UTC time, the evaltk version, who registered and the data-access statement.\n\n"
    "registration.json is append-only and hash-chained: commit it. From now on `evaltk run` "
    "refuses a protocol that differs from it (use `evaltk amend` to record a change, or "
    "`evaltk run --exploratory`).\n\n"
    "If ANALYSIS/power/power.json exists (from `evaltk power`), its hash is recorded as the "
    "sample-size justification."
)


@app.command(help=HELP)
@user_errors
def register(
    analysis: Path = typer.Argument(
        ..., help="The analysis folder (holding analysis.yaml), e.g. analyses/my-force."
    ),
    data_access: DataAccessChoice = typer.Option(
        ..., "--data-access", help=ACCESS_HELP, case_sensitive=False
    ),
    explanation: str = typer.Option(
        "",
        "--explanation",
        help="Required with outcomes_examined: which outcomes were seen, by whom, and how the "
        "plan guards against it. Optional otherwise.",
    ),
    by: str | None = typer.Option(
        None,
        "--by",
        help="Who registers, e.g. 'A. Analyst <a.analyst@force.police.uk>'. Default: git "
        "config user.name and user.email; without them, the system user (with a warning).",
    ),
) -> None:
    """Register an analysis (see :data:`HELP`)."""
    from evaltk.registration import register as record

    done = record(analysis, data_access=data_access.value, explanation=explanation, by=by)
    if done.identity.warning:
        err_console.print(f"[bold yellow]note:[/] {done.identity.warning}")
    entry = done.entry
    Console(highlight=False, soft_wrap=True).print(
        f"registered {analysis} at {entry.recorded_at} by {entry.by}\n"
        f"protocol sha256 {entry.protocol_sha256}\n"
        f"wrote {done.path} (entry 0, entry sha256 {entry.entry_sha256[:12]}); commit it"
    )
