"""Ending a command's process without the interpreter's teardown of its modules.

A process that has imported evaltk's scientific stack (about 2,000 modules: statsmodels, scipy,
pandas, matplotlib; Sphinx and its extensions in the Jupyter Book child) spends 0.5-0.7 s after
its last line of work while Python frees every module's objects one by one. Nothing in that
teardown writes anything. So the ``evaltk`` command (:mod:`evaltk.cli.entry`) and the Jupyter
Book child (:mod:`evaltk.publish.jupyter_book_child`) end their process here once their work
is done: Python's exit handlers still run (temporary folders, logging's files, multiprocessing),
the standard streams are flushed, and then the process ends with its status. What is skipped
is only the freeing of objects; a file object still open then would not be flushed, and evaltk
writes every file inside a ``with`` block (or a call that closes it), never leaving one open.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from typing import NoReturn


def exit_status(stop: SystemExit) -> int:
    """The process status ``sys.exit`` would give: 0 for None, the integer, or 1 for a message
    (which is written to standard error, as Python does)."""
    code = stop.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def exit_now(status: int) -> NoReturn:
    """End the process with ``status`` after its exit handlers, without the module teardown."""
    atexit._run_exitfuncs()  # what Python runs at exit: temporary folders, logging, pools
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe or stream: nothing more can be said.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)
