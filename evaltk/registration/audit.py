"""``evaltk verify``: check a folder's registration log against what was filed elsewhere.

:func:`~evaltk.registration.log.read_log` proves the log is consistent with itself. This adds
the checks that need something from outside the folder: a fingerprint the commissioner or a
registry holds (does the log still reach it, and what was recorded after it?) and the public
key the evaluator gave out (is every entry signed by it?).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evaltk.errors import RegistrationError
from evaltk.registration.fingerprint import fingerprint, parse_fingerprint
from evaltk.registration.log import LOG_FILE, LogEntry, RegistrationLog, read_log
from evaltk.registration.signing import key_id


@dataclass(frozen=True)
class Audit:
    """What ``evaltk verify`` found: lines to print, and the checks that failed.

    Attributes
    ----------
    log : RegistrationLog
        The verified log.
    lines : tuple of str
        One finding per line, in order.
    failures : tuple of str
        One line per failed check (a fingerprint no entry matches, an entry not signed by the
        expected key); empty when everything holds.
    """

    log: RegistrationLog
    lines: tuple[str, ...]
    failures: tuple[str, ...]


def _entry(entry: LogEntry) -> str:
    return f"entry {entry.sequence} ({entry.kind} recorded {entry.recorded_at} by {entry.by})"


def _numbers(entries: list[LogEntry]) -> str:
    numbers = [str(e.sequence) for e in entries]
    return f"entr{'y' if len(numbers) == 1 else 'ies'} {', '.join(numbers)}"


def _signature_lines(log: RegistrationLog) -> list[str]:
    by_key: dict[str, list[LogEntry]] = {}
    unsigned = [e for e in log.entries if e.public_key is None]
    for entry in log.entries:
        if entry.public_key is not None:
            by_key.setdefault(entry.public_key, []).append(entry)
    if not by_key:
        return ["signatures: none (no entry is signed; see `evaltk register --sign-key`)"]
    lines = [
        f"signed: {_numbers(entries)} by key {key_id(key)} (recorded as "
        f"{', '.join(sorted({e.by for e in entries}))})"
        for key, entries in by_key.items()
    ]
    if unsigned:
        lines.append(f"unsigned: {_numbers(unsigned)}")
    return lines


def _key_failures(log: RegistrationLog, public_key: str, key_file: str) -> list[str]:
    expected = key_id(public_key)
    failures = []
    for entry in log.entries:
        if entry.public_key == public_key:
            continue
        found = (
            "is unsigned"
            if entry.public_key is None
            else f"is signed by key {key_id(entry.public_key)}"
        )
        failures.append(f"{_entry(entry)} {found}, not by key {expected} ({key_file})")
    return failures


def _fingerprint_lines(
    log: RegistrationLog, digits: str, shown: str
) -> tuple[list[str], list[str]]:
    match = next((e for e in log.entries if e.entry_sha256.startswith(digits)), None)
    if match is None:
        return [], [
            f"fingerprint {shown} matches no entry of {log.path}: this is not the log the "
            "fingerprint was filed for, or it was rewritten and re-hashed since"
        ]
    later = log.entries[match.sequence + 1 :]
    lines = [f"fingerprint {shown}: matches {_entry(match)}"]
    if not later:
        lines.append("entries after it: none (it is the latest entry)")
    else:
        lines.append(
            f"entries after it: {len(later)} ({_numbers(list(later))}, the latest recorded "
            f"{later[-1].recorded_at}); the latest fingerprint is "
            f"{fingerprint(log.head.entry_sha256)}: send it to the commissioner"
        )
    return lines, []


def audit_log(
    folder: Path,
    *,
    expected_fingerprint: str | None = None,
    public_key: str | None = None,
    key_file: str = "--key",
) -> Audit:
    """Verify ``FOLDER/registration.json`` and compare it with a fingerprint and a key.

    Parameters
    ----------
    folder : pathlib.Path
        The analysis folder (or its registration.json).
    expected_fingerprint : str, optional
        As filed with the commissioner or registry (see
        :func:`~evaltk.registration.fingerprint.parse_fingerprint`).
    public_key : str, optional
        The evaluator's Ed25519 public key, 64 hex digits: every entry must be signed by it.
    key_file : str
        How to name the key in messages (its file).

    Returns
    -------
    Audit

    Raises
    ------
    RegistrationError
        If the folder is not registered, or the fingerprint is not one.
    LogTampered
        If the log fails verification (an entry edited, removed, reordered, or a signature
        that does not match).
    """
    path = folder / LOG_FILE if folder.is_dir() else folder
    if not path.is_file():
        raise RegistrationError(f"{folder}: not registered ({LOG_FILE} not found)")
    digits = None if expected_fingerprint is None else parse_fingerprint(expected_fingerprint)
    log = read_log(path)
    amended = len(log.amendments)
    lines = [
        f"{log.path}: {len(log.entries)} entr{'y' if len(log.entries) == 1 else 'ies'}, chain "
        f"intact: registered {log.original.recorded_at} by {log.original.by}"
        + (f", amended {amended} time{'s' if amended != 1 else ''}" if amended else ""),
        f"latest: {_entry(log.head)}, fingerprint {fingerprint(log.head.entry_sha256)}",
        *_signature_lines(log),
    ]
    failures: list[str] = []
    if public_key is not None:
        failures += _key_failures(log, public_key, key_file)
        if not failures:
            lines.append(f"every entry is signed by key {key_id(public_key)} ({key_file})")
    if digits is not None:
        found, missing = _fingerprint_lines(log, digits, expected_fingerprint or digits)
        lines += found
        failures += missing
    return Audit(log, tuple(lines), tuple(failures))
