"""``ANALYSIS/registration.json``: the append-only, hash-chained registration log.

Each entry records a protocol (the canonical document and its SHA-256) and who, when and why.
Entry 0 is the registration; later entries are amendments. Every entry carries
``previous_sha256`` (the ``entry_sha256`` of the entry before it) and its own ``entry_sha256``,
the SHA-256 of its canonical JSON without that field. So:

* editing any value of an entry changes its content hash and is detected;
* removing or reordering entries breaks ``sequence`` and ``previous_sha256`` and is detected;
* removing the *last* entry leaves a valid shorter chain. The chain cannot see that alone,
  which is why every run stamps the head hash into results.json (``registration.log_sha256``)
  and the book prints it: a published head hash that the log no longer reaches is the tell.

The chain has no key: whoever rewrites an entry can recompute every hash with the same public
algorithm, and the rewritten log verifies. Two things defeat that. Each entry records its
``fingerprint`` (:mod:`~evaltk.registration.fingerprint`), the head of the chain in a short
form meant to be filed with the commissioner or a public registry, where the evaluator cannot
change it (``evaltk verify --fingerprint``); and an entry may be signed
(:mod:`~evaltk.registration.signing`): ``public_key`` is part of the hashed content,
``signature`` signs ``entry_sha256``. ``fingerprint`` and ``signature`` are derived from the
hash and so stand outside it; entries written before they existed lack them and still verify.

The file is written whole through a temporary file and a rename, never edited in place.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evaltk.digest import canonical_json, text_sha256
from evaltk.errors import LogTampered
from evaltk.registration.access import DataAccess
from evaltk.registration.diff import FieldChange
from evaltk.registration.fingerprint import fingerprint
from evaltk.registration.signing import key_id, signature_valid
from evaltk.results.atomic import output_error

LOG_FILE = "registration.json"
LOG_FORMAT = 1
_NOTE = (
    "Append-only registration log written by `evaltk register` and `evaltk amend`; do not edit. "
    "Each entry_sha256 covers the entry's content and the previous entry's hash, so an edited, "
    "removed or reordered entry is detected."
)


class LogEntry(BaseModel):
    """One registration or amendment, exactly as stored (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sequence: int = Field(ge=0)
    kind: Literal["registration", "amendment"]
    recorded_at: str = Field(description="UTC time, ISO 8601 with a Z.")
    evaltk_version: str
    by: str
    data_access: DataAccess | None = None
    reason: str = ""
    changes: list[FieldChange] = Field(default_factory=list)
    protocol_sha256: str
    protocol: dict[str, Any]
    power_sha256: str | None = None
    public_key: str | None = Field(
        default=None, pattern="^[0-9a-f]{64}$", description="Ed25519 key that signed (hex)."
    )
    previous_sha256: str | None
    entry_sha256: str
    fingerprint: str | None = Field(default=None, description="Short form of entry_sha256.")
    signature: str | None = Field(
        default=None, pattern="^[0-9a-f]{128}$", description="Ed25519 of entry_sha256 (hex)."
    )


# Derived from entry_sha256, so outside the content it covers.
_UNHASHED = frozenset({"entry_sha256", "fingerprint", "signature"})
# Fields later than the first log format: left out when empty, so that an entry written before
# they existed keeps the very bytes its hash was computed over when the log is rewritten.
_OPTIONAL = ("public_key", "fingerprint", "signature")


def stored(entry: LogEntry) -> dict[str, Any]:
    """An entry as written to the file (and hashed): later optional fields only when set."""
    raw = entry.model_dump(mode="json")
    for name in _OPTIONAL:
        if raw[name] is None:
            del raw[name]
    return raw


def entry_hash(raw: dict[str, Any]) -> str:
    """The hash an entry must carry: over every stored field except those derived from it."""
    return text_sha256(canonical_json({k: v for k, v in raw.items() if k not in _UNHASHED}))


def seal(fields: dict[str, Any]) -> LogEntry:
    """An entry from its fields (without ``entry_sha256``), with its hash and fingerprint."""
    raw = stored(LogEntry.model_validate({**fields, "entry_sha256": "0" * 64}))
    raw["entry_sha256"] = entry_hash(raw)
    raw["fingerprint"] = fingerprint(raw["entry_sha256"])
    return LogEntry.model_validate(raw)


@dataclass(frozen=True)
class RegistrationLog:
    """A verified log: the entries in order (at least one, the registration first)."""

    path: Path
    entries: tuple[LogEntry, ...]

    @property
    def original(self) -> LogEntry:
        return self.entries[0]

    @property
    def head(self) -> LogEntry:
        """The latest entry: the protocol a run must match."""
        return self.entries[-1]

    @property
    def amendments(self) -> tuple[LogEntry, ...]:
        return self.entries[1:]


def _describe(raw: Any, position: int) -> str:
    if not isinstance(raw, dict):
        return f"entry {position}"
    kind = raw.get("kind", "entry")
    when = raw.get("recorded_at")
    by = raw.get("by")
    extra = ", ".join(str(x) for x in (f"recorded {when}" if when else None, by) if x)
    return f"entry {position} ({kind}{', ' + extra if extra else ''})"


def _restore(path: Path) -> str:
    return f"restore {path.name} from version control (it is append-only)"


def _check_seal(path: Path, name: str, raw: dict[str, Any]) -> None:
    # The hash is already known to match the content; what is left is what derives from it.
    digest = str(raw["entry_sha256"])
    # evaltk never writes these as null; a null would vanish when the log is next written
    # (see stored) and change the entry's hash with it.
    nulls = [n for n in _OPTIONAL if n in raw and raw[n] is None]
    if nulls:
        raise LogTampered(f"{path}: {name}: {nulls[0]} is null; {_restore(path)}")
    if raw.get("fingerprint") not in (None, fingerprint(digest)):
        raise LogTampered(
            f"{path}: {name}: its fingerprint {raw['fingerprint']!r} is not that of its "
            f"entry_sha256 ({fingerprint(digest)}); {_restore(path)}"
        )
    key, signature = raw.get("public_key"), raw.get("signature")
    if (key is None) != (signature is None):
        missing = "signature" if signature is None else "public_key"
        raise LogTampered(f"{path}: {name} is signed but has no {missing}; {_restore(path)}")
    if (
        isinstance(key, str)
        and isinstance(signature, str)
        and not signature_valid(key, signature, digest)
    ):
        raise LogTampered(
            f"{path}: {name}: its signature (key {key_id(key)}) does not match its "
            f"content: the entry was rewritten after it was signed; {_restore(path)}"
        )


def read_log(path: Path) -> RegistrationLog:
    """Read and verify ``registration.json``.

    Parameters
    ----------
    path : pathlib.Path
        The log file, or the analysis folder holding it.

    Returns
    -------
    RegistrationLog

    Raises
    ------
    FileNotFoundError
        If there is no log (the analysis is not registered).
    LogTampered
        On the first problem found, in one line naming the entry: not JSON, an entry edited
        (hash mismatch), removed or reordered (sequence or chain broken), a signature that
        does not match, or malformed.
    """
    path = path / LOG_FILE if path.is_dir() else path
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise LogTampered(
            f"{path}: not valid JSON (line {error.lineno}: {error.msg}); {_restore(path)}"
        ) from None
    raw_entries = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(raw_entries, list) or not raw_entries:
        raise LogTampered(f"{path}: has no entries; {_restore(path)}")
    if document.get("format") != LOG_FORMAT:
        raise LogTampered(
            f"{path}: unknown log format {document.get('format')!r} (this evaltk reads "
            f"{LOG_FORMAT}); {_restore(path)}"
        )
    entries: list[LogEntry] = []
    previous: str | None = None
    for position, raw in enumerate(raw_entries):
        name = _describe(raw, position)
        if not isinstance(raw, dict):
            raise LogTampered(f"{path}: {name} is not an object; {_restore(path)}")
        if raw.get("sequence") != position:
            missing = (
                f"entry {position} is missing (removed)"
                if isinstance(raw.get("sequence"), int) and raw["sequence"] > position
                else "entries are out of order"
            )
            raise LogTampered(
                f"{path}: {name} has sequence {raw.get('sequence')!r}: {missing}; {_restore(path)}"
            )
        if raw.get("entry_sha256") != entry_hash(raw):
            raise LogTampered(
                f"{path}: {name} was edited after it was recorded: its content no longer "
                f"matches its entry_sha256; {_restore(path)}"
            )
        if raw.get("previous_sha256") != previous:
            raise LogTampered(
                f"{path}: {name} does not follow the entry before it (previous_sha256 does not "
                f"match): an entry was edited, removed or reordered; {_restore(path)}"
            )
        try:
            entry = LogEntry.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise LogTampered(f"{path}: {name}: {where}: {first['msg']}") from None
        _check_seal(path, name, raw)  # after validation: key and signature are hex
        expected_kind = "registration" if position == 0 else "amendment"
        if entry.kind != expected_kind:
            raise LogTampered(f"{path}: {name} should be a {expected_kind}; {_restore(path)}")
        if text_sha256(canonical_json(entry.protocol)) != entry.protocol_sha256:
            raise LogTampered(
                f"{path}: {name}: protocol_sha256 does not match the protocol it records; "
                f"{_restore(path)}"
            )
        entries.append(entry)
        previous = entry.entry_sha256
    return RegistrationLog(path=path, entries=tuple(entries))


def write_log(path: Path, entries: tuple[LogEntry, ...] | list[LogEntry]) -> None:
    """Write the whole log through a temporary file and a rename (never half a file)."""
    document = {"format": LOG_FORMAT, "note": _NOTE, "entries": [stored(e) for e in entries]}
    write_document(path, document)


def write_document(path: Path, document: dict[str, Any]) -> None:
    """Write a JSON document whole, through a temporary file and a rename."""
    text = json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    try:
        handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as error:
        raise (output_error(error, path.parent, f"{path.name} is unchanged") or error) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(staging, path)
    except OSError as error:
        Path(staging).unlink(missing_ok=True)
        # A full or read-only disk: one line, and the log as it was.
        raise (output_error(error, path.parent, f"{path.name} is unchanged") or error) from None
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
