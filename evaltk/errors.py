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


class EngineError(EvaltkError):
    """The engine asked for cannot run (pyspark or Java missing, a Spark cluster unreachable)."""


class EstimationError(EvaltkError):
    """A model cannot be fitted on the data given (too few periods, no variation...)."""


class SimulationError(EvaltkError):
    """The simulation configuration is impossible (a probability above 1, an unknown force)."""


class PublishError(EvaltkError):
    """The book could not be built or failed a publication check."""


class LinkKeyError(DataError):
    """The linkage key is missing, too short or unreadable (messages never show the key)."""


class PowerError(EvaltkError):
    """A power setting is impossible or missing (say which, and what to pass instead)."""


class ReferenceMissing(EvaltkError):
    """A reference data file is absent; the message names the file and where it was looked for."""


class RegistrationError(EvaltkError):
    """Registering or amending cannot be done as asked (already registered, nothing changed)."""


class LogTampered(RegistrationError):
    """``registration.json`` fails verification: an entry was edited, removed or reordered."""


class RunRefused(RegistrationError):
    """``evaltk run`` refuses an unregistered or changed protocol (use ``--exploratory``)."""

    # Distinct from the usual 2 so that scripts can tell "refused" from "broken input".
    exit_code = 3


class FolderBusy(EvaltkError):
    """Another evaltk command holds the folder's lock and did not finish in time."""

    # EX_TEMPFAIL of sysexits.h: a temporary failure, so a script may simply retry.
    exit_code = 75


class OutputError(EvaltkError):
    """An output folder cannot be written: the disk is full, or it is read-only or not ours."""

    # EX_CANTCREAT of sysexits.h: an output file cannot be created.
    exit_code = 73
