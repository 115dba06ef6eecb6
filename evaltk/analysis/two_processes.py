"""Run independent jobs (each writes its own file) on two cores: half in a forked child.

A run draws dozens of figures, each a few tenths of a second of matplotlib layout, rendering
and PNG compression in one thread. The figures need the fitted results, which are closures
over models and data that cannot be pickled cheaply; a forked child has them already. The
child does every second job and leaves by ``os._exit`` (no atexit handler, no buffered output
of the parent written twice); if it fails in any way, the parent does those jobs itself, so
that an error surfaces in the parent with its traceback, as it would without the child.

Where there is no ``fork`` (Windows, macOS by default), one core, or one job, everything runs
in this process, in order. ``EVALTK_PROCESSES=1`` asks for that too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

Job = Callable[[], None]


def run_on_two_cores(jobs: Sequence[Job]) -> None:
    """Run every job once; with fork and two or more cores, half of them in a child process."""
    if len(jobs) < 2 or not _may_fork():
        for job in jobs:
            job()
        return
    mine, theirs = list(jobs[0::2]), list(jobs[1::2])
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: its jobs, then out without touching the parent's state
        status = 1
        try:
            for job in theirs:
                job()
            status = 0
        finally:
            os._exit(status)
    try:
        for job in mine:
            job()
    finally:
        _, status = os.waitpid(pid, 0)
    if status != 0:
        for job in theirs:
            job()


def _may_fork() -> bool:
    if not hasattr(os, "fork") or sys.platform != "linux":
        return False
    if os.environ.get("EVALTK_PROCESSES", "").strip() == "1":
        return False
    return len(os.sched_getaffinity(0)) >= 2
