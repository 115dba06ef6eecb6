"""Imports every sub-command module so that each registers itself on the app, then lists the
commands in the order an evaluation uses them, each with a one-line summary for `evaltk --help`
(the full text stays on `evaltk COMMAND --help`)."""

from __future__ import annotations

from typer.models import CommandInfo

from evaltk.cli import (  # noqa: F401
    amend,
    book,
    data,
    demo,
    init,
    link,
    power,
    register,
    run,
    schema,
    simulate,
    trial,
    validate,
    verify,
)
from evaltk.cli.app import app

#: The workflow: set up, check, power and register before outcomes; run, link and publish;
#: check a registration; the demo; the schemas for editors.
WORKFLOW = {
    "init": "Make a project folder, or a new analysis from a protocol template.",
    "simulate": "Write a synthetic dataset with known true effects.",
    "validate": "Check a protocol or analysis file: file, line and field of each problem.",
    "power": "Simulated power and minimum detectable effect of the registered design.",
    "register": "Register an analysis before outcomes are seen (hash-chained, fingerprinted).",
    "amend": "Record a change to a registered protocol, with the reason.",
    "run": "Run an analysis: measures, one model per outcome, verdict, ledger, figures.",
    "link": "Pseudonymise and link the agencies' extracts; print the linkage rates.",
    "book": "Build the results book (HTML, and PDF with --pdf) from the analyses run.",
    "verify": "Verify a registration log, its signatures and a filed fingerprint.",
    "keygen-signing": "Make an Ed25519 key to sign registrations with.",
    "demo": "Simulate five forces, run the three example analyses, build the book.",
    "schema": "Write the JSON Schemas of protocols and results.json.",
}


def _name(info: CommandInfo) -> str:
    if info.name:
        return info.name
    callback = info.callback
    assert callback is not None  # every command is registered with its function
    return callback.__name__.replace("_", "-")


def _in_workflow_order() -> None:
    missing = [_name(i) for i in app.registered_commands if _name(i) not in WORKFLOW]
    if missing:  # a new command must be placed in the workflow (and given its summary)
        raise RuntimeError(f"evaltk.cli.commands.WORKFLOW has no entry for {missing}")
    for info in app.registered_commands:
        info.short_help = WORKFLOW[_name(info)]
    app.registered_commands.sort(key=lambda info: list(WORKFLOW).index(_name(info)))


_in_workflow_order()
