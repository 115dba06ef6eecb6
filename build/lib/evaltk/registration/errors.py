"""Errors of registration: a broken log, a refused run, a register or amend that cannot be done.

They live here rather than in :mod:`evaltk.errors` so that this package is self-contained; each
is an :class:`~evaltk.errors.EvaltkError`, so the CLI prints it as one line per problem.
"""

from __future__ import annotations

from evaltk.errors import EvaltkError


class RegistrationError(EvaltkError):
    """Registering or amending cannot be done as asked (already registered, nothing changed)."""


class LogTampered(RegistrationError):
    """``registration.json`` fails verification: an entry was edited, removed or reordered."""


class RunRefused(RegistrationError):
    """``evaltk run`` refuses an unregistered or changed protocol (use ``--exploratory``)."""

    # Distinct from the usual 2 so that scripts can tell "refused" from "broken input".
    exit_code = 3
