"""One error tree for everything a user can get wrong.

Every message says *where* (file, line, row or field) and *what to do*. The CLI prints
``str(error)`` on one line and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations


class EvaltkError(Exception):
    """Base of every error evaltk raises on purpose (bad input, bad protocol, refused run)."""

    exit_code = 2


class ProtocolError(EvaltkError):
    """The protocol or analysis YAML is invalid (unknown field, wrong type, bad reference)."""


class DataError(EvaltkError):
    """An input data file is missing, unreadable, or lacks a field the protocol needs."""


class EstimationError(EvaltkError):
    """A model cannot be fitted on the data given (too few periods, no variation...)."""


class SimulationError(EvaltkError):
    """The simulation configuration is impossible (a probability above 1, an unknown force)."""


class PublishError(EvaltkError):
    """The book could not be built or failed a publication check."""
