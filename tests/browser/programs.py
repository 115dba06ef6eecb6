"""Tests that need a system program (Debian package) skip without it, except in CI."""

from __future__ import annotations

import os
import shutil

import pytest


def require_program(names: tuple[str, ...], hint: str) -> str:
    """The first of ``names`` on PATH; else skip the test, or fail it under CI=true.

    A skipped test in CI would let a broken book through unnoticed, so CI must have the tool.
    """
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    message = f"{' / '.join(names)} not found: {hint}"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{message} (CI=true: this test must run in CI, not be skipped)")
    pytest.skip(message)
