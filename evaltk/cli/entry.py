"""The ``evaltk`` console script: the command line (:data:`evaltk.cli.app`), then the process
ends without the interpreter's slow teardown (:mod:`evaltk.quick_exit`)."""

from __future__ import annotations

from typing import NoReturn

from evaltk.garbage_collection import paused
from evaltk.quick_exit import exit_now, exit_status


def main() -> NoReturn:
    """Run the command line as ``evaltk`` does; end the process with its status."""
    with paused():  # the command line's modules: see evaltk.garbage_collection
        from evaltk.cli import app
    try:
        app()
    except SystemExit as stop:  # click ends every command, good or failed, with SystemExit
        exit_now(exit_status(stop))
    exit_now(0)
