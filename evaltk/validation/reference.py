"""Where the reference data sets with published results live.

By default ``../shared/reference`` beside the project checkout (the folder that holds
``evaltk/``); the environment variable ``EVALTK_REFERENCE_DIR`` points elsewhere. A user's own
clone usually has no such folder: callers then say so and show no numbers.
"""

from __future__ import annotations

import os
from pathlib import Path

from evaltk.errors import ReferenceMissing

ENV_VAR = "EVALTK_REFERENCE_DIR"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT = PROJECT_ROOT / ".." / "shared" / "reference"


def reference_dir() -> Path:
    """The reference folder: ``$EVALTK_REFERENCE_DIR`` if set (and not empty), else the default."""
    override = os.environ.get(ENV_VAR, "").strip()
    return (Path(override).expanduser() if override else DEFAULT).resolve()


def reference_file(name: str, folder: Path | None = None) -> Path:
    """``folder/name`` (default folder: :func:`reference_dir`), which must exist.

    Raises
    ------
    ReferenceMissing
        If the file is not there.
    """
    path = (folder if folder is not None else reference_dir()) / name
    if not path.is_file():
        raise ReferenceMissing(
            f"reference file {path} not found (set {ENV_VAR} to the folder holding "
            "sicily.csv and the mpdta files, or place it at ../shared/reference beside "
            "the project)"
        )
    return path
