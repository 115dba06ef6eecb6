"""The JSON record of one simulation check, as kept in ``book/validation/*.json``.

Every file is produced by a script (its ``command`` says which and how), never typed, and the
book renders any file of this shape generically::

    {"title": str, "command": str, "generated": ISO-8601 UTC, "evaltk_version": str,
     "description": str,
     "tables": [{"caption": str, "columns": [str], "rows": [[str | number]]}],
     "requirements": [{"claim": str, "value": number, "bound": str, "met": bool}]}
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from evaltk import __version__
from evaltk.errors import PublishError

Cell = str | int | float | None


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


class CheckRecord(BaseModel):
    """One simulation check as written to ``book/validation/NAME.json``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    command: str
    generated: str
    evaltk_version: str
    description: str
    tables: list[Table]
    requirements: list[Requirement]

    @field_validator("generated")
    @classmethod
    def _iso_utc(cls, value: str) -> str:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if stamp.utcoffset() != dt.timedelta(0):
            raise ValueError(f"{value!r} is not a UTC time (ISO 8601 ending in Z or +00:00)")
        return value

    @property
    def all_met(self) -> bool:
        return all(r.met for r in self.requirements)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(), indent=2, ensure_ascii=False) + "\n"


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
    )


def load_record(path: Path) -> CheckRecord:
    """Read and check one record.

    Raises
    ------
    PublishError
        If the file is not JSON or not of the record's shape; the message names the file and
        the first field at fault.
    """
    try:
        return CheckRecord.model_validate_json(path.read_text(encoding="utf-8"))
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
    """Every ``*.json`` record in ``folder`` by file stem, sorted; empty if there is no folder."""
    if not folder.is_dir():
        return {}
    return {path.stem: load_record(path) for path in sorted(folder.glob("*.json"))}
