"""Running ``jupyter-book build`` as a child process: the command line, its environment and
time limit, and the first problem of a failed build in one line.

Shared by the HTML build (:mod:`evaltk.publish.build`) and the PDF build
(:mod:`evaltk.publish.pdf`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from evaltk.errors import PublishError

#: Generous: a small book builds in about 6-10 s; this only stops a hung build.
BUILD_TIMEOUT_SECONDS = 600

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PROBLEM = re.compile(r"\b(WARNING|ERROR|SEVERE|CRITICAL)\b|Exception|Error:")


def jupyter_book_command(book_dir: Path, builder: str, output: Path, strict: bool) -> list[str]:
    """``jupyter-book build BOOK --builder BUILDER --path-output OUTPUT`` (+ strict flags)."""
    command = [
        jupyter_book_executable(),
        "build",
        str(book_dir),
        "--builder",
        builder,
        "--path-output",
        str(output),
    ]
    # -W: warnings are errors; -n: nit-picky (broken references); --keep-going: report all.
    return command + (["-W", "-n", "--keep-going"] if strict else [])


def jupyter_book_executable() -> str:
    """The ``jupyter-book`` next to the running interpreter, else the one on ``PATH``."""
    beside = Path(sys.executable).parent / "jupyter-book"
    if beside.is_file():
        return str(beside)
    found = shutil.which("jupyter-book")
    if found is None:
        raise PublishError(
            "jupyter-book is not installed in this environment; install evaltk with its "
            "dependencies (pip install 'jupyter-book>=1.0.4,<2')"
        )
    return found


def first_problem(output: str) -> str:
    """The first Sphinx warning or error line in the build's output, cleaned for one line."""
    lines = [_ANSI.sub("", line).strip() for line in output.splitlines()]
    lines = [line for line in lines if line]
    for line in lines:
        if _PROBLEM.search(line) and not line.startswith("build finished"):
            return _shorten(line)
    return _shorten(lines[-1]) if lines else "jupyter-book exited without output"


def _shorten(line: str, limit: int = 300) -> str:
    # Sphinx names files by absolute path; relative is easier to read in one line.
    cwd = str(Path.cwd().resolve()) + os.sep
    line = line.replace(cwd, "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def run_build_command(
    command: list[str], extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a ``jupyter-book build`` with its output captured, no terminal and a time limit."""
    env = dict(os.environ)
    # Colour codes would end up in the error message; the build needs no terminal.
    env.update({"NO_COLOR": "1", "TERM": "dumb", "PYTHONIOENCODING": "utf-8"})
    env.update(extra_env or {})
    started = time.monotonic()
    try:
        return subprocess.run(
            command,
            # Nothing may wait for a reply (pdflatex asks one on an error when it can read).
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            timeout=BUILD_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        elapsed = time.monotonic() - started
        raise PublishError(
            f"jupyter-book did not finish within {elapsed:.0f} s; check the book for a page "
            "that runs code, or build it by hand with `jupyter-book build book`"
        ) from None
    except OSError as error:
        raise PublishError(f"could not run {command[0]} ({error})") from None
