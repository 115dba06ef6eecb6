"""The error a power analysis raises for settings it cannot use."""

from __future__ import annotations

from evaltk.errors import EvaltkError


class PowerError(EvaltkError):
    """A power setting is impossible or missing (say which, and what to pass instead)."""
