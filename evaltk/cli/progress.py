"""Progress that fits where a command runs.

In a terminal a long step shows as one rich status line that updates in place. Anywhere else
(a CI log, a scheduled job, a pipe, a notebook's `!evaltk run`) a spinner would print nothing
until the end, or control-character debris; there each step is one plain, timestamped line on
standard error, printed as it starts, so a log shows where the time went and where it stopped.
Standard output stays for results (the book's path is its last line).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

Say = Callable[[str], None]

#: A step line as printed outside a terminal: ``HH:MM:SS`` and the step.
_STEP_LINE = re.compile(r"\d\d:\d\d:\d\d ")


def without_steps(text: str) -> list[str]:
    """The lines of a command's stderr other than its step lines (its warnings and errors),
    for scripts and tests that read what went wrong."""
    return [line for line in text.strip().splitlines() if not _STEP_LINE.match(line)]


@contextmanager
def steps(console: Console, indent: str = "") -> Iterator[Say]:
    """Yield a callable that reports the start of each step of a long command."""
    if console.is_terminal:
        with console.status("Starting") as status:
            yield lambda text: status.update(f"{indent}{text}")
        return

    def say(text: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {indent}{text.strip()}", file=sys.stderr, flush=True)

    yield say
