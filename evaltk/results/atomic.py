"""Write a whole folder or nothing, and say in one line why a folder could not be written.

A folder such as ``ANALYSIS/results`` is written into a staging folder in ``ANALYSIS/.evaltk/``
and then swapped in, so that a reader (or ``git add``) sees the old folder or the new one,
whole, never a mixture and never nothing:

* staging folders live in ``PARENT/.evaltk/``, which holds a ``.gitignore`` of ``*``: a run
  killed half-way leaves nothing that git would commit (``panel.csv`` holds small counts);
* on Linux the swap is one ``renameat2(RENAME_EXCHANGE)``: the old and the new folder change
  places atomically, and the target never stops existing. Elsewhere (or on a file system that
  refuses the exchange) it is two renames, ``target -> .evaltk/NAME.old-PID`` then
  ``staging -> target``; a process killed between them leaves the old folder aside, and
  :func:`recover_folder` (called by every :func:`replace_folder`) puts it back;
* staging and retired folders are named with the process id that made them, so a later
  command removes only those whose process has died, never a live command's work.

Writing can fail for reasons that are not evaltk's to fix: a full disk (``ENOSPC``), a
read-only file system (``EROFS``), a folder that is not ours (``EACCES``). Those become one
:class:`~evaltk.errors.OutputError` line naming the folder and what to do
(:func:`output_error`); :func:`check_writable` finds them before minutes of computing.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evaltk.errors import OutputError

#: Where staging and retired folders live, beside the folder they replace.
WORK_DIR = ".evaltk"

_REASONS = {
    errno.ENOSPC: ("no space left on the device", "free some space"),
    errno.EDQUOT: ("the disk quota is used up", "free some space"),
    errno.EROFS: ("the file system is read-only", "make the folder writable"),
    errno.EACCES: ("permission denied", "make the folder writable by you"),
    errno.EPERM: ("operation not permitted", "make the folder writable by you"),
}


def output_error(error: OSError, folder: Path, unchanged: str = "") -> OutputError | None:
    """One line for a write that failed because of the disk or its permissions, else None.

    Parameters
    ----------
    error : OSError
        What the operating system said.
    folder : pathlib.Path
        The folder being written, named in the message.
    unchanged : str, optional
        What is left as it was (e.g. "the previous results are unchanged"), appended.
    """
    reason = _REASONS.get(error.errno or 0)
    if reason is None:
        return None
    what, fix = reason
    tail = f"; {unchanged}" if unchanged else ""
    return OutputError(f"{folder}: cannot write there ({what}); {fix} and try again{tail}")


def work_dir(parent: Path) -> Path:
    """``PARENT/.evaltk/``, created with a ``.gitignore`` that ignores everything in it."""
    work = parent / WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    ignore = work / ".gitignore"
    if not ignore.is_file():
        # Ignored wherever the project's own .gitignore stands: staging can hold small counts.
        ignore.write_text("# evaltk's staging folders: never commit them\n*\n", encoding="utf-8")
    return work


def check_writable(folder: Path, unchanged: str = "") -> None:
    """Fail now, in one line, if evaltk cannot write in ``folder`` (create it if missing).

    Creates ``folder/.evaltk/`` and a small file in it, then removes the file: the same
    operations a later write needs, so a read-only or full folder is found before the work.

    Raises
    ------
    OutputError
        When the folder is read-only, not writable by this user, or its disk is full.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        work = work_dir(folder)
        handle, probe = tempfile.mkstemp(prefix=f".probe-{os.getpid()}-", dir=work)
        try:
            os.write(handle, b"\0" * 4096)
            os.fsync(handle)
        finally:
            os.close(handle)
            os.unlink(probe)
    except OSError as error:
        failure = output_error(error, folder, unchanged)
        if failure is None:
            raise
        raise failure from None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _owner(path: Path) -> int | None:
    """The process id in a staging or retired folder's name (``NAME.new-PID-xxxx``)."""
    try:
        return int(path.name.rsplit(".", 1)[-1].split("-")[1])
    except (IndexError, ValueError):
        return None


def recover_folder(target: Path) -> None:
    """Undo what a killed writer of ``target`` left: put a retired folder back, drop staging.

    Only folders whose process has died are touched. If ``target`` is missing and a retired
    copy exists (a kill between the two renames of a swap), the copy becomes ``target`` again.
    """
    work = target.parent / WORK_DIR
    if not work.is_dir():
        return
    for path in sorted(work.glob(f"{target.name}.old-*")):
        pid = _owner(path)
        if pid is None or _alive(pid):
            continue
        if not target.exists():
            path.rename(target)
        else:
            shutil.rmtree(path, ignore_errors=True)
    for path in work.glob(f"{target.name}.new-*"):
        pid = _owner(path)
        if pid is not None and not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2`` with ``RENAME_EXCHANGE``); False if the
    system or the file system does not offer it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # glibc before 2.28, musl
        return False
    text, number = ctypes.c_char_p, ctypes.c_int
    renameat2.argtypes = [number, text, number, text, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def swap_in(staging: Path, target: Path) -> None:
    """Put the complete folder ``staging`` at ``target``; the old ``target`` is removed.

    Both must be on one file system (``staging`` from :func:`staging_folder`).
    """
    if not target.exists():
        staging.rename(target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # it now holds the old folder
        return
    retired = target.parent / WORK_DIR / f"{target.name}.old-{os.getpid()}"
    shutil.rmtree(retired, ignore_errors=True)
    target.rename(retired)
    staging.rename(target)  # a kill just before this line is undone by recover_folder
    shutil.rmtree(retired, ignore_errors=True)


def staging_folder(target: Path) -> Path:
    """A fresh, empty folder in ``TARGET.parent/.evaltk/`` for the next version of ``target``.

    Its permissions follow the umask (as ``mkdir`` would give), not ``mkdtemp``'s 0700, so a
    published folder is as readable as any other the user makes.
    """
    work = work_dir(target.parent)
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.new-{os.getpid()}-", dir=work))
    mask = os.umask(0)
    os.umask(mask)
    staging.chmod(0o777 & ~mask)
    return staging


@contextmanager
def replace_folder(target: Path, unchanged: str = "") -> Iterator[Path]:
    """Yield a fresh staging folder; when the block succeeds it replaces ``target`` whole.

    On any exception the staging folder is removed and ``target`` is left as it was. A full
    disk, a read-only file system or a permission error while writing or swapping becomes one
    :class:`~evaltk.errors.OutputError` line naming ``target.parent``.

    Parameters
    ----------
    target : pathlib.Path
        The folder to replace (created if it does not exist).
    unchanged : str, optional
        Appended to an OutputError (default: "TARGET is unchanged").
    """
    unchanged = unchanged or f"{target} is unchanged"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        recover_folder(target)
        staging = staging_folder(target)
    except OSError as error:
        failure = output_error(error, target.parent, unchanged)
        if failure is None:
            raise
        raise failure from None
    try:
        yield staging
        swap_in(staging, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        failure = output_error(error, target.parent, unchanged)
        if failure is None:
            raise
        raise failure from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
