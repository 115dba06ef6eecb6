"""One evaltk command at a time per analysis folder: a lock file, waited on briefly.

Two commands writing the same folder at once lose work: two ``evaltk amend`` both read entry
9, both append "entry 10", and the second rename wins. :func:`folder_lock` takes an exclusive
lock on ``FOLDER/.evaltk.lock`` (git-ignored) for the duration of a ``with`` block; a second
command waits a few seconds for it and then stops with one line instead of guessing.

The lock is re-entrant within a process (a registered run that records its data under the
same lock does not deadlock), and the operating system releases it when a process dies, so a
crashed command never leaves the folder locked.

This module sits at the bottom of the package: it imports only :mod:`evaltk.errors`, so that
registration, run and book can all use it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from evaltk.errors import EvaltkError, FolderBusy

LOCK_FILE = ".evaltk.lock"
#: Seconds a command waits for another one to finish; registering or amending takes about one.
WAIT_SECONDS = 5.0
#: Overrides :data:`WAIT_SECONDS` (scripts that queue commands may wait longer; tests shorter).
WAIT_ENV = "EVALTK_LOCK_WAIT"

# One FileLock per lock file and process: flock() locks belong to an open file, so a second
# FileLock on the same path in the same process would wait for the first, forever.
_LOCKS: dict[Path, FileLock] = {}
_GUARD = threading.Lock()


def _wait_seconds(wait: float | None) -> float:
    if wait is not None:
        return wait
    try:
        return float(os.environ.get(WAIT_ENV, WAIT_SECONDS))
    except ValueError:
        return WAIT_SECONDS


def _lock_for(path: Path) -> FileLock:
    with _GUARD:
        lock = _LOCKS.get(path)
        if lock is None:
            lock = _LOCKS[path] = FileLock(path)
        return lock


@contextmanager
def folder_lock(folder: Path, *, wait: float | None = None) -> Iterator[Path]:
    """Hold the exclusive lock of an analysis folder for the ``with`` block.

    Parameters
    ----------
    folder : pathlib.Path
        The analysis folder; the lock file is ``folder / LOCK_FILE``.
    wait : float, optional
        Seconds to wait for another command; default :data:`WAIT_SECONDS`, or the
        ``EVALTK_LOCK_WAIT`` environment variable.

    Yields
    ------
    pathlib.Path
        The lock file.

    Raises
    ------
    FolderBusy
        When the lock is still held after ``wait`` seconds, in one line naming the folder.
    EvaltkError
        When the lock file cannot be created (a read-only or missing folder).
    """
    path = (folder / LOCK_FILE).resolve()
    lock = _lock_for(path)
    try:
        lock.acquire(timeout=_wait_seconds(wait))
    except Timeout:
        raise FolderBusy(
            f"another evaltk command is using {folder}; try again when it finishes"
        ) from None
    except OSError as error:
        raise EvaltkError(
            f"{path}: cannot create the lock file ({error.strerror or error}); evaltk needs "
            "to write in the analysis folder"
        ) from None
    try:
        yield path
    finally:
        lock.release()
