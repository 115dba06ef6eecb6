"""``evaltk register`` and ``evaltk amend``: append an entry to the registration log.

Both load the analysis exactly as ``evaltk run`` does, so what is registered is what would
run: the template merged with the analysis settings, validated, defaults filled in, and
canonicalised (comments, key order and whitespace do not count; every value does).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaltk import __version__
from evaltk.digest import file_sha256
from evaltk.errors import RegistrationError
from evaltk.protocol import LoadedProtocol, load_protocol
from evaltk.protocol.canonical import canonical_document, protocol_sha256
from evaltk.registration.access import DataAccess
from evaltk.registration.diff import diff_documents
from evaltk.registration.identity import Identity, resolve_identity
from evaltk.registration.log import LOG_FILE, LogEntry, read_log, seal, write_log

POWER_FILE = Path("power") / "power.json"


@dataclass(frozen=True)
class Recorded:
    """What was appended, and who it was recorded as (for the CLI's message)."""

    path: Path
    entry: LogEntry
    identity: Identity


def utc_now() -> str:
    """The current UTC time to the second, ``2024-05-01T10:00:00Z``."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def protocol_document(loaded: LoadedProtocol) -> dict[str, Any]:
    """The canonical document of a loaded protocol: what is hashed and stored in the log."""
    return canonical_document(loaded.protocol)


def _power_sha256(folder: Path) -> str | None:
    # A power analysis present at registration is the sample-size justification it was made
    # with; its hash lets the book show whether the file changed afterwards.
    path = folder / POWER_FILE
    return file_sha256(path) if path.is_file() else None


def _access_problem(error: ValueError) -> str:
    # Pydantic's message ends with the validator's sentence, or names the allowed codes.
    last = str(error).splitlines()[-1].strip()
    if "Value error, " in str(error):
        last = str(error).split("Value error, ", 1)[1].split(" [type=", 1)[0]
    return f"--data-access: {last}"


def _log_path(loaded: LoadedProtocol) -> Path:
    if loaded.path.name != "analysis.yaml":
        raise RegistrationError(
            f"{loaded.path}: register an analysis folder (holding analysis.yaml), not a "
            "template; copy the template into analyses/NAME/ first (see `evaltk init`)"
        )
    return loaded.folder / LOG_FILE


def register(
    analysis: str | Path,
    *,
    data_access: str,
    explanation: str = "",
    by: str | None = None,
    now: str | None = None,
) -> Recorded:
    """Register an analysis: write entry 0 of ``ANALYSIS/registration.json``.

    Parameters
    ----------
    analysis : str or Path
        The analysis folder or its ``analysis.yaml``.
    data_access : str
        One of :data:`~evaltk.registration.access.DATA_ACCESS_CODES`.
    explanation : str
        Required for ``outcomes_examined``.
    by : str, optional
        Who registers; default the git identity (see :func:`resolve_identity`).
    now : str, optional
        The UTC time to record (tests); default the clock.

    Returns
    -------
    Recorded

    Raises
    ------
    RegistrationError
        If the analysis is already registered (amend it instead) or the statement is invalid.
    ProtocolError
        If the protocol does not validate: only a valid protocol can be registered.
    """
    loaded = load_protocol(analysis)
    path = _log_path(loaded)
    if path.exists():
        log = read_log(path)
        raise RegistrationError(
            f"{path}: already registered at {log.original.recorded_at} by {log.original.by}; "
            f'record a change with `evaltk amend {loaded.folder} --reason "..."`'
        )
    try:
        access = DataAccess(status=data_access, explanation=explanation)  # type: ignore[arg-type,unused-ignore]
    except ValueError as error:
        raise RegistrationError(_access_problem(error)) from None
    identity = resolve_identity(by, loaded.folder)
    entry = seal(
        {
            "sequence": 0,
            "kind": "registration",
            "recorded_at": now or utc_now(),
            "evaltk_version": __version__,
            "by": identity.name,
            "data_access": access.model_dump(mode="json"),
            "protocol_sha256": protocol_sha256(loaded.protocol),
            "protocol": protocol_document(loaded),
            "power_sha256": _power_sha256(loaded.folder),
            "previous_sha256": None,
        }
    )
    write_log(path, [entry])
    return Recorded(path, entry, identity)


def amend(
    analysis: str | Path,
    *,
    reason: str,
    by: str | None = None,
    data_access: str | None = None,
    explanation: str = "",
    now: str | None = None,
) -> Recorded:
    """Record the protocol's changes since the latest entry as a new, chained amendment.

    Parameters
    ----------
    analysis : str or Path
        The registered analysis folder (or its ``analysis.yaml``).
    reason : str
        Why the protocol changed; shown in the book beside the changes.
    by, now
        As for :func:`register`.
    data_access, explanation : str, optional
        What the analysts had seen when amending (recommended: an amendment after outcomes
        were seen reads very differently from one before).

    Returns
    -------
    Recorded

    Raises
    ------
    RegistrationError
        If the analysis is not registered, nothing changed, or the reason is empty.
    LogTampered
        If the existing log fails verification (nothing is appended to a broken chain).
    """
    if not reason.strip():
        raise RegistrationError("--reason is empty: say why the protocol changed")
    loaded = load_protocol(analysis)
    path = _log_path(loaded)
    if not path.exists():
        raise RegistrationError(
            f"{path}: not registered yet, so there is nothing to amend; register it with "
            f"`evaltk register {loaded.folder} --data-access ...`"
        )
    log = read_log(path)
    document = protocol_document(loaded)
    changes = diff_documents(log.head.protocol, document)
    if protocol_sha256(loaded.protocol) == log.head.protocol_sha256:
        raise RegistrationError(
            f"{loaded.path}: nothing to amend: the protocol matches entry {log.head.sequence} "
            f"({log.head.kind} recorded {log.head.recorded_at})"
        )
    access = None
    if data_access is not None:
        try:
            access = DataAccess(status=data_access, explanation=explanation)  # type: ignore[arg-type,unused-ignore]
        except ValueError as error:
            raise RegistrationError(_access_problem(error)) from None
    identity = resolve_identity(by, loaded.folder)
    entry = seal(
        {
            "sequence": len(log.entries),
            "kind": "amendment",
            "recorded_at": now or utc_now(),
            "evaltk_version": __version__,
            "by": identity.name,
            "data_access": None if access is None else access.model_dump(mode="json"),
            "reason": " ".join(reason.split()),
            "changes": [c.model_dump(mode="json") for c in changes],
            "protocol_sha256": protocol_sha256(loaded.protocol),
            "protocol": document,
            "power_sha256": _power_sha256(loaded.folder),
            "previous_sha256": log.head.entry_sha256,
        }
    )
    write_log(path, [*log.entries, entry])
    return Recorded(path, entry, identity)
