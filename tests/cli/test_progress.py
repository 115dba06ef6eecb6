"""Progress lines: a status line in a terminal, timestamped step lines anywhere else."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from evaltk.cli.progress import steps


def test_outside_a_terminal_each_step_is_a_timestamped_line_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console = Console(file=io.StringIO(), force_terminal=False)
    with steps(console, indent="  ") as say:
        say("Reading the protocol")
        say("Measuring outcomes ")
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"\d\d:\d\d:\d\d   Reading the protocol", lines[0])
    assert re.fullmatch(r"\d\d:\d\d:\d\d   Measuring outcomes", lines[1])


def test_in_a_terminal_steps_update_one_status_line(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True)
    with steps(console) as say:
        say("Measuring outcomes")
    assert capsys.readouterr().err == ""  # nothing on stderr: the status line is the console's
