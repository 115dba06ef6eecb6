"""Running ``jupyter-book build`` as a child process: the command line, its environment and
time limit, and the first problem of a failed build in one line.

Shared by the HTML build (:mod:`evaltk.publish.build`) and the PDF build
(:mod:`evaltk.publish.pdf`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
    command: list[str],
    extra_env: dict[str, str] | None = None,
    preloaded: subprocess.Popen[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a ``jupyter-book build`` with its output captured, no terminal and a time limit.

    ``preloaded``, a child from :func:`preload_jupyter_book`, runs the build instead of a new
    process (``command[0]``, the ``jupyter-book`` executable, is then implied).

    The build never outlives evaltk: it stays in evaltk's process group (Ctrl-C in a terminal
    reaches both), it is ended if evaltk exits, is interrupted or receives SIGTERM or SIGHUP
    while waiting for it, and on Linux the kernel sends it SIGTERM if evaltk itself is killed
    (``PR_SET_PDEATHSIG``), which no handler in evaltk could do after a SIGKILL.
    """
    started = time.monotonic()
    if preloaded is None:
        # Nothing may wait for a reply (pdflatex asks one on an error when it can read).
        child, message = _start(command, extra_env, subprocess.DEVNULL), None
    else:
        # The arguments, then end of input: nothing else can be read from it.
        child, message = preloaded, json.dumps(command[1:]) + "\n"
    with _ended_on_exit(child):
        try:
            stdout, stderr = child.communicate(message, timeout=BUILD_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            elapsed = time.monotonic() - started
            raise PublishError(
                f"jupyter-book did not finish within {elapsed:.0f} s; check the book for a "
                "page that runs code, or build it by hand with `jupyter-book build book`"
            ) from None
    return subprocess.CompletedProcess(command, child.returncode, stdout, stderr)


@contextmanager
def preload_jupyter_book(book_dir: Path, jobs: int = 1) -> Iterator[subprocess.Popen[str] | None]:
    """A ``jupyter-book`` child for ``book_dir`` importing itself while the caller prepares
    the pages (its command line names ``build BOOK_DIR``, as the build's own would), to
    build on ``jobs`` processes (:mod:`evaltk.publish.jupyter_book_child`).

    Yields the child for :func:`run_build_command` (``preloaded``), or None where
    ``jupyter-book`` is not the one installed beside this interpreter (the build then starts
    it as usual, on one process). A child still waiting when the ``with`` block ends (the
    build never came: an error in the pages) is ended.
    """
    if Path(jupyter_book_executable()).parent != Path(sys.executable).parent:
        yield None
        return
    # -P: the current folder does not go first on the child's module path, as `-m` would put
    # it; a folder holding another evaltk (a checkout of another version) is never imported.
    command = [sys.executable, "-P", "-m", "evaltk.publish.jupyter_book_child"]
    command += (["--jobs", str(jobs)] if jobs > 1 else []) + ["build", str(book_dir)]
    child = _start(command, None, subprocess.PIPE)
    try:
        yield child
    finally:
        _end(child)


def _start(
    command: list[str], extra_env: dict[str, str] | None, stdin: int
) -> subprocess.Popen[str]:
    """Start a build child: output captured, no colour, ended with evaltk (see
    :func:`run_build_command`)."""
    env = dict(os.environ)
    # Colour codes would end up in the error message; the build needs no terminal.
    env.update({"NO_COLOR": "1", "TERM": "dumb", "PYTHONIOENCODING": "utf-8"})
    env.update(extra_env or {})
    try:
        return subprocess.Popen(
            command,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            start_new_session=False,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
    except OSError as error:
        raise PublishError(f"could not run {command[0]} ({error})") from None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


class _Stopped(BaseException):
    """SIGTERM or SIGHUP arrived while waiting for the build (becomes exit 128 + signal)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _ended_on_exit(child: subprocess.Popen[str]) -> Iterator[None]:
    """End ``child`` whatever ends the ``with`` block: an error, Ctrl-C, SIGTERM or SIGHUP.

    SIGTERM and SIGHUP are caught only while waiting (and only in the main thread, where
    Python allows handlers); they end the build, let every ``finally`` of the caller run (its
    staging folder is removed) and then end evaltk with the usual status of that signal.
    """
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):

            def stop(number: int, _frame: object) -> None:
                raise _Stopped(number)

            previous[signum] = signal.signal(signum, stop)
    try:
        yield
    except _Stopped as stopped:
        _end(child)
        _restore(previous)
        raise SystemExit(128 + stopped.signum) from None
    finally:
        _end(child)
        _restore(previous)


def _restore(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
    previous.clear()


def _end(child: subprocess.Popen[str]) -> None:
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
