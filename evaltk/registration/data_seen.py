"""``ANALYSIS/data-seen.json``: the data files of the first registered run, and later changes.

Registration fixes the plan; it says nothing about the data the plan was then run on. Without
a record, swapping the extract after the first confirmatory run (a "corrected" file, a
different date range) changes only ``data.sha256`` in results.json, and nobody is told. So the
first registered (not ``--exploratory``) run records the SHA-256 of every data file it read,
and every later run compares its files with that record and warns, in one line per file,
when they differ. A run whose files differ from the latest record appends a new record, so
the file holds the history of the data as well as the original.

Why a sidecar rather than an entry in ``registration.json``:

* ``registration.json`` is the evaluator's statement of the plan, and its head is the
  fingerprint filed with the commissioner; entries written by ``evaltk run`` would move that
  head at every data change and make the filed fingerprint look stale for no change of plan;
* the run must never be able to alter the plan's log, which it only reads;
* each record carries ``log_sha256``, the registration head it ran under, so the two files are
  tied together, and the same chained hashes as the log (``previous_sha256``,
  ``entry_sha256``), so an edited or removed record is detected.

Like the log, the sidecar has no key: whoever controls the folder can delete it and the next
run records "first" data again. It is meant to be committed with the analysis, and the book
shows its first record and every change, so a rewrite contradicts the published book.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evaltk import __version__
from evaltk.errors import LogTampered
from evaltk.locking import folder_lock
from evaltk.registration.log import LOG_FILE, entry_hash, read_log, write_document
from evaltk.registration.record import utc_now

DATA_SEEN_FILE = "data-seen.json"
DATA_SEEN_FORMAT = 1
_NOTE = (
    "Append-only record written by `evaltk run`: the SHA-256 of every data file read by the "
    "first registered run, then one record each time later runs read different files; do not "
    "edit. Each entry_sha256 covers the record and the previous record's hash."
)
_SHOWN = 12  # hex digits of a hash in a warning: enough to tell two files apart by eye


class DataRecord(BaseModel):
    """The data files one registered run read, as stored in ``data-seen.json``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sequence: int = Field(ge=0)
    recorded_at: str = Field(description="UTC time of the run, ISO 8601 with a Z.")
    evaltk_version: str
    log_sha256: str | None = Field(description="Head of registration.json the run checked.")
    files: dict[str, str] = Field(description="Path (as the protocol names it) -> SHA-256.")
    previous_sha256: str | None
    entry_sha256: str


@dataclass(frozen=True)
class DataCheck:
    """How the data of a registered run compare with the first registered run's.

    Attributes
    ----------
    first : DataRecord
        The data of the first registered run (this run's, if it was the first).
    recorded : DataRecord or None
        The record this run appended: the first, or a change; None when the files are those
        of the latest record.
    warnings : tuple of str
        One line per file that differs from ``first``; empty when none does.
    """

    first: DataRecord
    recorded: DataRecord | None
    warnings: tuple[str, ...]


def _restore(path: Path) -> str:
    return f"restore {path.name} from version control (it is append-only)"


def read_data_seen(folder: Path) -> tuple[DataRecord, ...]:
    """Read and verify ``FOLDER/data-seen.json``; empty when no registered run has recorded.

    Raises
    ------
    LogTampered
        In one line naming the record, when the file is not JSON, or a record was edited,
        removed or reordered.
    """
    path = folder / DATA_SEEN_FILE
    if not path.is_file():
        return ()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LogTampered(f"{path}: unreadable ({error}); {_restore(path)}") from None
    raw_records = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(raw_records, list) or document.get("format") != DATA_SEEN_FORMAT:
        raise LogTampered(f"{path}: not a data record evaltk wrote; {_restore(path)}")
    records: list[DataRecord] = []
    previous: str | None = None
    for position, raw in enumerate(raw_records):
        if (
            not isinstance(raw, dict)
            or raw.get("sequence") != position
            or raw.get("entry_sha256") != entry_hash(raw)
            or raw.get("previous_sha256") != previous
        ):
            raise LogTampered(
                f"{path}: record {position} was edited, removed or reordered after it was "
                f"written; {_restore(path)}"
            )
        try:
            records.append(DataRecord.model_validate(raw))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise LogTampered(f"{path}: record {position}: {where}: {first['msg']}") from None
        previous = records[-1].entry_sha256
    return tuple(records)


def data_changes(first: DataRecord, files: Mapping[str, str]) -> list[str]:
    """One warning per file that differs from the first registered run's, in a stable order.

    Parameters
    ----------
    first : DataRecord
        The record of the first registered run.
    files : mapping of str to str
        This run's data files: path (as the protocol names it) -> SHA-256.
    """
    then = f"the first registered run ({first.recorded_at}, {DATA_SEEN_FILE})"
    warnings = []
    for path in sorted(set(first.files) | set(files)):
        before, now = first.files.get(path), files.get(path)
        if before == now:
            continue
        if before is None:
            warnings.append(f"{path}: read now but not by {then}")
        elif now is None:
            warnings.append(f"{path}: read by {then} but not now")
        else:
            warnings.append(
                f"{path}: changed since {then}: sha256 {now[:_SHOWN]}…, was {before[:_SHOWN]}…"
            )
    return warnings


def check_data(folder: Path, files: Mapping[str, str]) -> list[str]:
    """Warnings for a run that records nothing (an exploratory run): what differs from the first.

    Never raises: a broken record is itself the warning.
    """
    try:
        records = read_data_seen(folder)
    except LogTampered as error:
        return [str(error)]
    return data_changes(records[0], files) if records else []


def record_data_seen(
    folder: Path,
    files: Mapping[str, str],
    *,
    log_sha256: str | None = None,
    now: str | None = None,
) -> DataCheck:
    """Record a registered run's data files, and compare them with the first registered run's.

    Parameters
    ----------
    folder : pathlib.Path
        The analysis folder.
    files : mapping of str to str
        Every data file the run read: path (as the protocol names it) -> SHA-256, as in
        results.json's ``data.files``.
    log_sha256 : str, optional
        The head of ``registration.json`` the run was checked against; default read from it.
    now : str, optional
        The UTC time to record (tests); default the clock.

    Returns
    -------
    DataCheck

    Raises
    ------
    LogTampered
        If ``data-seen.json`` fails verification: nothing is appended to a broken record.
    FolderBusy
        If another evaltk command holds the folder for longer than the lock's wait.
    """
    with folder_lock(folder):
        records = read_data_seen(folder)
        if log_sha256 is None and (folder / LOG_FILE).is_file():
            log_sha256 = read_log(folder).head.entry_sha256
        current = dict(sorted(files.items()))
        recorded = None
        if not records or records[-1].files != current:
            fields: dict[str, object] = {
                "sequence": len(records),
                "recorded_at": now or utc_now(),
                "evaltk_version": __version__,
                "log_sha256": log_sha256,
                "files": current,
                "previous_sha256": records[-1].entry_sha256 if records else None,
            }
            recorded = DataRecord.model_validate({**fields, "entry_sha256": entry_hash(fields)})
            records = (*records, recorded)
            document = {
                "format": DATA_SEEN_FORMAT,
                "note": _NOTE,
                "entries": [r.model_dump(mode="json") for r in records],
            }
            write_document(folder / DATA_SEEN_FILE, document)
    return DataCheck(records[0], recorded, tuple(data_changes(records[0], current)))
