"""``evaltk register`` and ``evaltk amend``: append an entry to the registration log.

Both load the analysis exactly as ``evaltk run`` does, so what is registered is what would
run: the template merged with the analysis settings, validated, defaults filled in, and
canonicalised (comments, key order and whitespace do not count; every value does).

Reading the log and writing the new entry happen under the folder's lock
(:func:`evaltk.locking.folder_lock`), so two commands at once never number two entries alike
and lose one: the second waits, then reads the log the first wrote.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaltk import __version__
from evaltk.digest import file_sha256
from evaltk.errors import RegistrationError
from evaltk.locking import folder_lock
from evaltk.protocol import LoadedProtocol, load_protocol
from evaltk.protocol.canonical import canonical_document, protocol_sha256
from evaltk.registration.access import DataAccess, DataAccessCode
from evaltk.registration.diff import diff_documents
from evaltk.registration.identity import Identity, resolve_identity
from evaltk.registration.log import (
    LOG_FILE,
    LogEntry,
    RegistrationLog,
    read_log,
    seal,
    write_log,
)
from evaltk.registration.signing import Signer

POWER_FILE = Path("power") / "power.json"
#: Where ``evaltk run`` writes its results: once there, outcomes have been computed.
RESULTS_FILE = Path("results") / "results.json"
#: Statements that no one has seen the data, which existing results contradict.
_UNSEEN: tuple[DataAccessCode, ...] = ("not_collected", "collected_not_accessed")


@dataclass(frozen=True)
class Recorded:
    """What was appended, and who it was recorded as (for the CLI's message)."""

    path: Path
    entry: LogEntry
    identity: Identity

    @property
    def fingerprint(self) -> str:
        """The new head of the chain, to send to the commissioner (see :mod:`.fingerprint`)."""
        assert self.entry.fingerprint is not None  # seal always sets it
        return self.entry.fingerprint


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


def _statement(folder: Path, data_access: str, explanation: str, command: str) -> DataAccess:
    try:
        access = DataAccess(status=data_access, explanation=explanation)  # type: ignore[arg-type,unused-ignore]
    except ValueError as error:
        raise RegistrationError(_access_problem(error)) from None
    results = folder / RESULTS_FILE
    if access.status in _UNSEEN and results.is_file():
        raise RegistrationError(
            f"{results} exists: the analysis has already been run on data, so "
            f"--data-access {access.status} cannot be true; {command} with --data-access "
            "outcomes_examined --explanation '...' (which outcomes were seen, by whom)"
        )
    return access


def _sealed(fields: dict[str, Any], signer: Signer | None) -> LogEntry:
    if signer is None:
        return seal(fields)
    entry = seal({**fields, "public_key": signer.public_key})
    return entry.model_copy(update={"signature": signer.sign(entry.entry_sha256)})


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
    signer: Signer | None = None,
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
    signer : Signer, optional
        Signs the entry (see :mod:`~evaltk.registration.signing`).

    Returns
    -------
    Recorded
        Its :attr:`~Recorded.fingerprint` is the one to file with the commissioner.

    Raises
    ------
    RegistrationError
        If the analysis is already registered (amend it instead), the statement is invalid,
        or it says no one has seen the data although ``results/results.json`` exists.
    ProtocolError
        If the protocol does not validate: only a valid protocol can be registered.
    FolderBusy
        If another evaltk command holds the folder for longer than the lock's wait.
    """
    loaded = load_protocol(analysis)
    path = _log_path(loaded)
    identity = resolve_identity(by, loaded.folder)
    with folder_lock(loaded.folder):
        if path.exists():
            log = read_log(path)
            raise RegistrationError(
                f"{path}: already registered at {log.original.recorded_at} by "
                f"{log.original.by}; record a change with "
                f'`evaltk amend {loaded.folder} --reason "..."`'
            )
        access = _statement(loaded.folder, data_access, explanation, "register")
        entry = _register_entry(loaded, access, identity, now, signer)
        write_log(path, [entry])
    return Recorded(path, entry, identity)


def _register_entry(
    loaded: LoadedProtocol,
    access: DataAccess,
    identity: Identity,
    now: str | None,
    signer: Signer | None,
) -> LogEntry:
    return _sealed(
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
        },
        signer,
    )


def amend(
    analysis: str | Path,
    *,
    reason: str,
    by: str | None = None,
    data_access: str | None = None,
    explanation: str = "",
    now: str | None = None,
    signer: Signer | None = None,
) -> Recorded:
    """Record the protocol's changes since the latest entry as a new, chained amendment.

    Parameters
    ----------
    analysis : str or Path
        The registered analysis folder (or its ``analysis.yaml``).
    reason : str
        Why the protocol changed; shown in the book beside the changes.
    by, now, signer
        As for :func:`register`.
    data_access, explanation : str, optional
        What the analysts had seen when amending (recommended: an amendment after outcomes
        were seen reads very differently from one before).

    Returns
    -------
    Recorded
        Its :attr:`~Recorded.fingerprint` is the chain's new head: the commissioner should get
        it, since the one filed at registration now leaves this amendment out.

    Raises
    ------
    RegistrationError
        If the analysis is not registered, nothing changed, the reason is empty, or the
        statement says no one has seen the data although ``results/results.json`` exists.
    LogTampered
        If the existing log fails verification (nothing is appended to a broken chain).
    FolderBusy
        If another evaltk command holds the folder for longer than the lock's wait.
    """
    if not reason.strip():
        raise RegistrationError("--reason is empty: say why the protocol changed")
    loaded = load_protocol(analysis)
    path = _log_path(loaded)
    identity = resolve_identity(by, loaded.folder)
    with folder_lock(loaded.folder):
        if not path.exists():
            raise RegistrationError(
                f"{path}: not registered yet, so there is nothing to amend; register it with "
                f"`evaltk register {loaded.folder} --data-access ...`"
            )
        log = read_log(path)
        if protocol_sha256(loaded.protocol) == log.head.protocol_sha256:
            raise RegistrationError(
                f"{loaded.path}: nothing to amend: the protocol matches entry "
                f"{log.head.sequence} ({log.head.kind} recorded {log.head.recorded_at})"
            )
        access = (
            None
            if data_access is None
            else _statement(loaded.folder, data_access, explanation, "amend")
        )
        entry = _amendment_entry(loaded, log, reason, access, identity, now, signer)
        write_log(path, [*log.entries, entry])
    return Recorded(path, entry, identity)


def _amendment_entry(
    loaded: LoadedProtocol,
    log: RegistrationLog,
    reason: str,
    access: DataAccess | None,
    identity: Identity,
    now: str | None,
    signer: Signer | None,
) -> LogEntry:
    document = protocol_document(loaded)
    return _sealed(
        {
            "sequence": len(log.entries),
            "kind": "amendment",
            "recorded_at": now or utc_now(),
            "evaltk_version": __version__,
            "by": identity.name,
            "data_access": None if access is None else access.model_dump(mode="json"),
            "reason": " ".join(reason.split()),
            "changes": [
                c.model_dump(mode="json") for c in diff_documents(log.head.protocol, document)
            ],
            "protocol_sha256": protocol_sha256(loaded.protocol),
            "protocol": document,
            "power_sha256": _power_sha256(loaded.folder),
            "previous_sha256": log.head.entry_sha256,
        },
        signer,
    )
