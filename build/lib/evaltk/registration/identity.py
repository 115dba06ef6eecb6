"""Who registers: ``--by``, else the git identity, else the system user (said so plainly)."""

from __future__ import annotations

import getpass
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Identity:
    """A name to record, and where it came from (``given``, ``git`` or ``system``)."""

    name: str
    source: str

    @property
    def warning(self) -> str | None:
        """A sentence for the user when the name is only the system account."""
        if self.source != "system":
            return None
        return (
            f"git has no user.name or user.email here, so the entry records the system user "
            f"{self.name!r}; pass --by 'Name <email>' to name yourself"
        )


def _git(key: str, folder: Path) -> str:
    try:
        done = subprocess.run(
            ["git", "config", "--get", key],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""  # no git at all: the caller falls back
    return done.stdout.strip() if done.returncode == 0 else ""


def resolve_identity(by: str | None, folder: Path) -> Identity:
    """The registrant: ``by`` if given, else ``git config user.name <user.email>``.

    Parameters
    ----------
    by : str or None
        What the user passed with ``--by``.
    folder : pathlib.Path
        Where to ask git (so that a repository's own identity counts).

    Returns
    -------
    Identity
        With ``source`` ``system`` when neither is available; its :attr:`~Identity.warning`
        says so.
    """
    if by is not None and by.strip():
        return Identity(" ".join(by.split()), "given")
    folder = folder if folder.is_dir() else Path.cwd()
    name, email = _git("user.name", folder), _git("user.email", folder)
    if name or email:
        text = f"{name} <{email}>" if name and email else (name or email)
        return Identity(text, "git")
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    return Identity(f"{user} (system user; git has no identity)", "system")
