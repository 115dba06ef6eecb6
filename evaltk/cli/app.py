"""The typer application and the one place that turns an EvaltkError into a one-line message."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from evaltk.errors import EvaltkError

app = typer.Typer(
    name="evaltk",
    help="Pre-registered evaluation of street triage and control-room mental-health nurses.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """Print an EvaltkError as one line on stderr and exit with its code; no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EvaltkError as error:
            # One line per problem (a protocol can have several), never a traceback.
            for line in str(error).splitlines() or [type(error).__name__]:
                err_console.print(f"[bold red]error:[/] {escape(line)}", markup=True)
            sys.exit(error.exit_code)

    return wrapper  # type: ignore[return-value]
