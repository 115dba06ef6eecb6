"""`evaltk --help`: commands in workflow order, one line each; every command's help complete."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from evaltk.cli import app
from evaltk.cli.commands import WORKFLOW

RUNNER = CliRunner()


def test_commands_are_listed_in_workflow_order_with_one_line_each() -> None:
    done = RUNNER.invoke(app, ["--help"], env={"COLUMNS": "120"})
    assert done.exit_code == 0
    listed = re.findall(r"^│ ([a-z][a-z-]+)\s{2,}(\S.*?)\s*│$", done.output, re.M)
    names = [name for name, _ in listed]
    assert names == [*WORKFLOW, "data", "trial"]
    for name, summary in listed:
        if name in WORKFLOW:
            assert summary == WORKFLOW[name]  # the whole summary on its one line


@pytest.mark.parametrize("command", [*WORKFLOW, "data describe", "trial design"])
def test_every_command_has_complete_help(command: str) -> None:
    done = RUNNER.invoke(app, [*command.split(), "--help"], env={"COLUMNS": "120"})
    assert done.exit_code == 0, done.output
    assert "Usage: evaltk" in done.output
    # Every option says what it does (a bare option name with no text is cut-off help).
    options = re.findall(
        r"^│ (?:\*)?\s*(--[a-z-]+)(?:,? -\w)?\s+(?:<\w+>|\S+)?\s*(.*?)\s*│$", done.output, re.M
    )
    assert any(option == "--help" for option, _ in options)  # the pattern reads the panel
    for option, text in options:
        assert text, f"evaltk {command} {option} has no help text"
    # A metavar (choices) broken across lines is cut-off help: each fits on its line.
    assert not re.search(r"<[^>\n]*[^>|│\s]\s*│\s*\n", done.output)
