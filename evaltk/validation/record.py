"""The JSON records of the book's validation chapter, as kept in ``book/validation/*.json``.

Every file is produced by a script (its ``command`` says which and how), never typed; the book
only reads them, so building it fits no model. Two shapes, told apart by the file name:

- ``reference-NAME.json``, a published result reproduced (:class:`ReferenceRecord`, written by
  :mod:`evaltk.validation.reference_records`)::

    {"title": str, "command": str, "generated": ISO-8601 UTC, "evaltk_version": str,
     "source": str, "reference_label": str, "tolerance_text": str,
     "data": [{"name": str, "sha256": str}],
     "figures": [{"section": str, "group": str, "quantity": str, "evaltk": number | null,
                  "reference": number | null, "difference": number | null,
                  "tolerance": number, "tolerance_rule": str, "decimals": int | null,
                  "within": bool}]}

- any other ``NAME.json``, a simulation check (:class:`CheckRecord`), rendered generically::

    {"title": str, "command": str, "generated": ISO-8601 UTC, "evaltk_version": str,
     "description": str,
     "tables": [{"caption": str, "columns": [str], "rows": [[str | number]]}],
     "requirements": [{"claim": str, "value": number, "bound": str, "met": bool}],
     "replicates": {arm: [str | number | [str | number]]}}

  ``replicates`` (optional) keeps every simulated dataset's own outcome, arm by arm, in seed
  order: the book does not show it, but a fast test can recompute a few seeds and find them
  there, and recompute the tables from it, instead of rerunning a study of many minutes.

This module is shape, load and write only: it imports no estimator.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from evaltk import __version__
from evaltk.errors import PublishError

Cell = str | int | float | None
#: One simulated dataset's outcome in a record's ``replicates``: a value, or a row of values.
ReplicateCell = Cell | list[Cell]

#: File names of reference records start with this; every other record is a simulation check.
REFERENCE_PREFIX = "reference-"


class Table(BaseModel):
    """A table of results: every row has one cell per column."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    caption: str
    columns: list[str]
    rows: list[list[Cell]]

    @model_validator(mode="after")
    def _rows_match_columns(self) -> Table:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"row {i + 1} of table {self.caption!r} has {len(row)} cells for "
                    f"{len(self.columns)} columns"
                )
        return self


class Requirement(BaseModel):
    """A claim checked by the simulation: the measured value, the bound, and whether it holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim: str
    value: float
    bound: str
    met: bool


class RecordBase(BaseModel):
    """What every record carries: a title, the command that wrote it, when, and by which evaltk."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    command: str
    generated: str
    evaltk_version: str

    @field_validator("generated")
    @classmethod
    def _iso_utc(cls, value: str) -> str:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if stamp.utcoffset() != dt.timedelta(0):
            raise ValueError(f"{value!r} is not a UTC time (ISO 8601 ending in Z or +00:00)")
        return value

    def to_json(self) -> str:
        return json.dumps(self.model_dump(), indent=2, ensure_ascii=False) + "\n"


class CheckRecord(RecordBase):
    """One simulation check as written to ``book/validation/NAME.json``."""

    description: str
    tables: list[Table]
    requirements: list[Requirement]
    replicates: dict[str, list[ReplicateCell]] = {}

    @property
    def all_met(self) -> bool:
        return all(r.met for r in self.requirements)


class DataFile(BaseModel):
    """A reference data file by name (never a local path) and the SHA-256 of its bytes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    sha256: str


class Figure(BaseModel):
    """One checked figure: evaltk's value beside the published (or R's) value.

    ``evaltk`` or ``reference`` is None when only the other side has the figure; such a figure
    is never within tolerance. ``decimals`` is how many decimals the reference was published
    with (None: full precision, as R computes it).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    section: str
    group: str
    quantity: str
    evaltk: float | None
    reference: float | None
    difference: float | None
    tolerance: float
    tolerance_rule: str
    decimals: int | None
    within: bool


class ReferenceRecord(RecordBase):
    """A published result reproduced, as written to ``book/validation/reference-NAME.json``.

    Attributes
    ----------
    source : str
        The citation and what was published, in words.
    reference_label : str
        The reference column's heading (``"Published"``, ``"R did"``).
    tolerance_text : str
        How the tolerances were set, in words.
    data : list of DataFile
        The reference files the figures were computed from, with their SHA-256.
    figures : list of Figure
        Every checked figure, in the order the study reports them.
    """

    source: str
    reference_label: str
    tolerance_text: str
    data: list[DataFile]
    figures: list[Figure]

    @property
    def n_within(self) -> int:
        return sum(f.within for f in self.figures)

    @property
    def all_within(self) -> bool:
        return all(f.within for f in self.figures)


def utc_now() -> str:
    """Now, in ISO 8601 UTC to the second: ``2026-01-31T12:00:00Z``."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def new_record(
    *,
    title: str,
    command: str,
    description: str,
    tables: list[Table],
    requirements: list[Requirement],
    replicates: dict[str, list[ReplicateCell]] | None = None,
) -> CheckRecord:
    """A record stamped with the current time and this evaltk's version."""
    return CheckRecord(
        title=title,
        command=command,
        generated=utc_now(),
        evaltk_version=__version__,
        description=description,
        tables=tables,
        requirements=requirements,
        replicates=replicates or {},
    )


Record = TypeVar("Record", bound=RecordBase)


def load_record(path: Path) -> CheckRecord:
    """Read and check one simulation-check record.

    Raises
    ------
    PublishError
        If the file is not JSON or not of the record's shape; the message names the file and
        the first field at fault.
    """
    return _load(path, CheckRecord)


def load_reference_record(path: Path) -> ReferenceRecord:
    """Read and check one reference record (``reference-NAME.json``).

    Raises
    ------
    PublishError
        If the file is not JSON or not of the record's shape; the message names the file and
        the first field at fault.
    """
    return _load(path, ReferenceRecord)


def _load(path: Path, kind: type[Record]) -> Record:
    try:
        return kind.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise PublishError(
            f"{path}: field {where}: {first['msg']}; regenerate the file with the command "
            "that wrote it (its `command` field), e.g. `.venv/bin/python "
            "bench/validation_checks.py`"
        ) from None
    except OSError as error:
        raise PublishError(f"{path}: cannot be read ({error.strerror})") from None


def load_records(folder: Path) -> dict[str, CheckRecord]:
    """Every simulation-check record in ``folder`` by file stem, sorted; empty without a folder.

    The ``reference-*.json`` files are left out (see :func:`load_reference_records`).
    """
    if not folder.is_dir():
        return {}
    return {
        path.stem: load_record(path)
        for path in sorted(folder.glob("*.json"))
        if not path.name.startswith(REFERENCE_PREFIX)
    }


def load_reference_records(folder: Path) -> dict[str, ReferenceRecord]:
    """Every ``reference-*.json`` record in ``folder`` by file stem, sorted; empty without one."""
    if not folder.is_dir():
        return {}
    return {
        path.stem: load_reference_record(path)
        for path in sorted(folder.glob(f"{REFERENCE_PREFIX}*.json"))
    }


def write_record(record: RecordBase, target: Path) -> Path:
    """Write ``record`` to ``target`` whole (a temporary file, then a rename) or not at all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".json.partial")
    partial.write_text(record.to_json(), encoding="utf-8")
    os.replace(partial, target)
    return target
