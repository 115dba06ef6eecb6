"""Find an episode file, check its columns against the protocol, and map them onto canonical fields.

Nothing here reads rows: a parquet file's schema is in its footer and a CSV's header is sniffed
from its first lines, so every check in this module costs next to nothing before the one heavy
scan in :mod:`evaltk.measures.episodes`.

Each canonical field gets an SQL expression that yields its canonical type, whatever the file
stores (a CSV is read as text throughout, so that one odd value cannot make DuckDB guess a
type and fail mid-scan), and, where the stored type can hold invalid values, a second
expression that flags them. Accepted spellings:

* timestamps: ISO 8601 (``2016-04-01``, ``2016-04-01 14:30[:00]``, ``2016-04-01T14:30:00``; a
  UTC offset is ignored, the wall-clock time is used) or UK day-first ``01/04/2016[ 14:30[:00]]``;
  timezone-aware parquet timestamps are converted to Europe/London local time;
* booleans: ``true``/``false``, ``1``/``0``, ``Y``/``N`` (any case);
* numbers: anything DuckDB casts to DOUBLE;
* missing: an empty field or ``NA`` in a CSV, a null in parquet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from evaltk.episodes.schema import FIELDS_BY_NAME
from evaltk.errors import DataError
from evaltk.ingest.readers import (
    CACHE_DIR,
    STAGED_FORMATS,
    format_from_extension,
    read_columns,
    stage,
)
from evaltk.linkage.keys import LinkKey, require_key
from evaltk.measures.sql import literal, quote_ident
from evaltk.protocol.spec import EpisodeSource, Protocol, Scalar

CSV_NULLS = ("", "NA")
UK_TIMESTAMP_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")
US_TIMESTAMP_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")
BOOL_TRUE = ("true", "1", "y")
BOOL_FALSE = ("false", "0", "n")

_INTEGER_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}  # fmt: skip
_FLOAT_TYPES = {"FLOAT", "DOUBLE", "REAL"}
_TIME_TYPES = {"DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}
_TEXT_TYPES = {"VARCHAR"}


@dataclass(frozen=True)
class EpisodeFile:
    """An episode file located and typed, ready to be scanned."""

    path: Path
    format: str  # 'csv' | 'parquet' | 'sav' | 'dta' | 'sas7bdat' | 'xpt' | 'xlsx'
    types: dict[str, str]  # file column -> DuckDB type, in file order
    # The parquet file actually scanned when the file was staged (evaltk.ingest.readers).
    scan_path: Path | None = None

    @property
    def scan_format(self) -> str:
        """The format DuckDB reads: ``parquet`` for a staged file, else ``format``."""
        return "parquet" if self.scan_path is not None else self.format

    def scan_sql(self, row_numbers: bool = False) -> str:
        """A table expression reading the whole file (with 1-based-able row numbers if asked)."""
        path = literal(str(self.scan_path or self.path))
        if self.scan_format == "parquet":
            return f"read_parquet({path}{', file_row_number = true' if row_numbers else ''})"
        nulls = ", ".join(literal(n) for n in CSV_NULLS)
        return f"read_csv({path}, header = true, all_varchar = true, nullstr = [{nulls}])"


@dataclass(frozen=True)
class FieldColumn:
    """One canonical field as read from its file column."""

    field: str
    column: str
    type: str
    value: str  # SQL: the canonical value (NULL when missing)
    invalid: str | None  # SQL: TRUE where a value is present but not valid; None if impossible
    expected: str  # what a valid value looks like, for error messages


def episode_format(source: EpisodeSource, path: Path) -> str:
    """The file's format, from ``source.format`` or else the file extension."""
    if source.format != "auto":
        return source.format
    fmt = format_from_extension(path)
    if fmt is not None:
        return fmt
    raise DataError(
        f"{path}: cannot tell the file format from its extension; set data.format to one of "
        "csv, parquet, sav, dta, sas7bdat, xpt, xlsx"
    )


_KIND_TYPES = {"text": "VARCHAR", "number": "DOUBLE", "timestamp": "TIMESTAMP"}


def _needs_staging(source: EpisodeSource, fmt: str) -> bool:
    if fmt in STAGED_FORMATS or source.identifiers == "raw":
        return True
    return fmt == "csv" and (source.encoding or "utf-8").lower().replace("_", "-") not in (
        "utf-8",
        "utf8",
    )


def stage_episode_file(
    con: duckdb.DuckDBPyConnection,
    file: EpisodeFile,
    source: EpisodeSource,
    mapping: dict[str, str],
    folder: Path,
    *,
    always: bool = False,
    key: LinkKey | None = None,
) -> EpisodeFile:
    """The file ready for DuckDB: as it is, or its mapped columns staged as parquet.

    ``always`` stages any file (linkage needs stable row numbers, which only parquet has);
    ``key`` is the linkage key to use (default: :func:`require_key`, when one is needed).

    SPSS, Stata, SAS and Excel files, CSV in another encoding than UTF-8, and any file whose
    person identifiers are raw (``data.identifiers: raw``) are staged by
    :func:`evaltk.ingest.readers.stage` in ``folder/.cache/``.

    Raises
    ------
    DataError
        If the file cannot be converted, or its identifiers are raw and no linkage key is set.
    """
    if not always and not _needs_staging(source, file.format):
        return file
    person = None
    if source.identifiers == "raw" and "person_id" in mapping:
        person = mapping["person_id"]
        key = key or require_key(why=f"{file.path}: data.identifiers is 'raw'")
    else:
        key = None
    kinds = {
        column: {"VARCHAR": "text", "DOUBLE": "number", "TIMESTAMP": "timestamp"}.get(t, "text")
        for column, t in file.types.items()
        if column in mapping.values()
    }
    if file.format in ("csv",):
        kinds = {}  # CSV columns are read as text, whatever they hold
    staged = stage(
        file.path,
        file.format,
        list(dict.fromkeys(mapping.values())),
        Path(folder) / CACHE_DIR,
        kinds=kinds,
        person_column=person,
        key=key,
        encoding=source.encoding,
        sheet=source.sheet,
    )
    return scanned_as(con, file, staged)


def scanned_as(con: duckdb.DuckDBPyConnection, file: EpisodeFile, parquet: Path) -> EpisodeFile:
    """``file``, read from the parquet file ``parquet`` (staged or linked) instead."""
    probe = EpisodeFile(file.path, file.format, {}, scan_path=parquet)
    described = con.execute(f"DESCRIBE SELECT * FROM {probe.scan_sql()}").fetchall()
    return EpisodeFile(
        file.path, file.format, {str(r[0]): str(r[1]) for r in described}, scan_path=parquet
    )


def open_episode_file(
    con: duckdb.DuckDBPyConnection, source: EpisodeSource, folder: Path
) -> EpisodeFile:
    """Locate ``source.path`` under ``folder`` and read its column names and types.

    Raises
    ------
    DataError
        If the file is missing, or cannot be read in its format.
    """
    path = (Path(folder) / source.path).resolve()
    if not path.is_file():
        raise DataError(
            f"{path}: episode file not found; check data.path ('{source.path}', "
            f"relative to {Path(folder)})"
        )
    fmt = episode_format(source, path)
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes); export the extract again")
    if fmt in STAGED_FORMATS:
        columns = read_columns(path, fmt, encoding=source.encoding, sheet=source.sheet)
        return EpisodeFile(path, fmt, {c.name: _KIND_TYPES[c.kind] for c in columns})
    if fmt == "csv" and _needs_staging(source, fmt):
        header = read_csv_header(path, source.encoding)
        return EpisodeFile(path, fmt, dict.fromkeys(header, "VARCHAR"))
    probe = EpisodeFile(path, fmt, {})
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {probe.scan_sql()}").fetchall()
    except duckdb.Error as error:
        raise DataError(
            f"{path}: cannot read it as {fmt} ({first_line(error)}); check that the file is "
            f"complete and really {fmt}, or set data.format"
        ) from None
    return EpisodeFile(path, fmt, {str(row[0]): str(row[1]) for row in described})


def read_csv_header(path: Path, encoding: str | None) -> list[str]:
    """The column names of a CSV file in ``encoding`` (its first line)."""
    import csv

    try:
        with path.open(encoding=encoding or "utf-8", newline="") as handle:
            return next(csv.reader(handle), [])
    except (UnicodeError, LookupError) as error:
        raise DataError(
            f"{path}: cannot read its header in {encoding or 'UTF-8'} ({error}); "
            "check data.encoding"
        ) from None


def first_line(error: BaseException) -> str:
    """DuckDB's own account of a read error, shortened to one line.

    DuckDB follows its diagnosis (line number, the offending line, expected and found field
    counts) with generic "possible fixes" about its own options; only the diagnosis is kept.
    """
    lines = []
    for line in str(error).splitlines():
        line = line.strip()
        if line.startswith(("Possible fixes", "LINE ")):
            break
        if line:
            lines.append(line)
    text = "; ".join(lines) or type(error).__name__
    if "sniffing" in text:
        text = (
            f"{lines[0]} DuckDB could not work out the CSV layout: check the delimiter and the "
            "quoting, and that every line has as many fields as the header"
        )
    return text if len(text) <= 400 else text[:397] + "..."


def required_fields(protocol: Protocol) -> dict[str, list[str]]:
    """Canonical fields the protocol needs -> the outcomes (or roles) that need them."""
    needed: dict[str, list[str]] = {
        "episode_id": ["every episode"],
        "force": ["every episode"],
        "timestamp": ["every episode"],
    }

    def need(fields: Iterable[str], why: str) -> None:
        for name in fields:
            needed.setdefault(name, [])
            if why not in needed[name]:
                needed[name].append(why)

    for outcome in protocol.outcomes:
        measure = outcome.measure
        if measure is None:
            continue
        need(measure.where, outcome.id)
        need(measure.denominator or {}, outcome.id)
        if measure.field is not None:
            need([measure.field], outcome.id)
        if measure.repeat is not None:
            need(["person_id", *measure.repeat.among], outcome.id)
    if isinstance(protocol.data, EpisodeSource) and protocol.data.linkage is not None:
        need(["person_id"], "data.linkage")
    return needed


#: Fields read when the file has them (or data.columns maps them) though no outcome needs
#: them, because a check looks at them: an admission before its incident is excluded.
CHECKED_IF_PRESENT = ("admission_time",)


def provided_by_linkage(protocol: Protocol) -> set[str]:
    """Canonical fields that linkage derives (``linked_<agency>``) rather than the file holds."""
    source = protocol.data
    if not isinstance(source, EpisodeSource) or source.linkage is None:
        return set()
    return {f"linked_{agency}" for agency in source.linkage.agencies}


def map_columns(
    file: EpisodeFile,
    source: EpisodeSource,
    protocol: Protocol,
    *,
    provided: Iterable[str] = (),
) -> dict[str, str]:
    """Canonical field -> file column for every field the protocol needs.

    Fields in ``provided`` are left out (linkage adds them to the file later); fields of
    :data:`CHECKED_IF_PRESENT` are mapped when the file has their column.

    Raises
    ------
    DataError
        Naming every missing column, the canonical field it stands for and who needs it.
    """
    mapping: dict[str, str] = {}
    missing: list[str] = []
    skip = set(provided)
    for name, why in required_fields(protocol).items():
        if name in skip:
            continue
        column = source.columns.get(name, name)
        if column in file.types:
            mapping[name] = column
            continue
        how = "mapped in data.columns" if name in source.columns else "no mapping in data.columns"
        hint = [c for c in file.types if c.lower() == column.lower()]
        near = f"; did you mean '{hint[0]}' (case differs)?" if hint else ""
        missing.append(
            f"column '{column}' for canonical field '{name}' ({how}; needed by "
            f"{', '.join(why)}){near}"
        )
    for name in CHECKED_IF_PRESENT:
        column = source.columns.get(name, name)
        if name not in mapping and column in file.types:
            mapping[name] = column
        elif name in source.columns and column not in file.types:
            missing.append(
                f"column '{column}' for canonical field '{name}' (mapped in data.columns)"
            )
    if missing:
        have = ", ".join(file.types) or "none"
        raise DataError(
            f"{file.path}: missing {'; '.join(missing)}. The file has columns: {have}. "
            "Map the field to your column in data.columns, or add the column to the file"
        )
    return mapping


def _base_type(duck_type: str) -> str:
    return duck_type.split("(")[0].strip().upper()


def is_integer_type(duck_type: str) -> bool:
    """Whether a DuckDB column type is an integer type (of any width or sign)."""
    return _base_type(duck_type) in _INTEGER_TYPES


def _code_value(value: Scalar | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return literal("true" if value else "false")
    return literal(str(value))


def coded_text(column_sql: str, duck_type: str, codes: dict[str, Scalar | None]) -> str:
    """SQL: the column as text with ``codes`` (file value -> canonical value) applied.

    Numbers are compared as text without a trailing ``.0`` (an SPSS ``1`` is ``"1"``); values
    not listed pass through unchanged.
    """
    base = _base_type(duck_type)
    if base in _FLOAT_TYPES or base == "DECIMAL":
        text = (
            f"CASE WHEN {column_sql} = floor({column_sql}) AND abs({column_sql}) < 1e15 "
            f"THEN CAST(CAST({column_sql} AS BIGINT) AS VARCHAR) "
            f"ELSE CAST({column_sql} AS VARCHAR) END"
        )
    else:
        text = f"trim(CAST({column_sql} AS VARCHAR))"
    whens = " ".join(f"WHEN {literal(k)} THEN {_code_value(v)}" for k, v in codes.items())
    return f"(CASE {text} {whens} ELSE {text} END)"


def field_column(
    field: str,
    column: str,
    duck_type: str,
    path: Path,
    source: EpisodeSource | None = None,
) -> FieldColumn:
    """The canonical-value and invalid-value SQL for one field read from ``column``.

    ``source`` brings the protocol's ``codes`` (applied first, turning the column into text)
    and its date formats.

    Raises
    ------
    DataError
        If the column's stored type cannot hold the field (a number where a date is needed).
    """
    kind = FIELDS_BY_NAME[field].kind
    base = _base_type(duck_type)
    c = quote_ident(column)
    codes = source.codes.get(field) if source is not None else None
    if codes:
        c = coded_text(c, duck_type, codes)
        duck_type = base = "VARCHAR"
    text = base in _TEXT_TYPES

    def wrong_type(expected: str) -> DataError:
        return DataError(
            f"{path}: column '{column}' (canonical field '{field}') holds {duck_type} values; "
            f"expected {expected}. Convert the column or map another one in data.columns"
        )

    if kind == "timestamp":
        expected = "a date-time (ISO 2016-04-01 14:30:00 or UK 01/04/2016 14:30)"
        if base in _TIME_TYPES:
            return FieldColumn(field, column, duck_type, f"CAST({c} AS TIMESTAMP)", None, expected)
        if base == "TIMESTAMP WITH TIME ZONE":
            value = f"CAST(timezone('Europe/London', {c}) AS TIMESTAMP)"
            return FieldColumn(field, column, duck_type, value, None, expected)
        if text:
            t = f"trim({c})"
            own = source.date_format if source is not None else None
            if own:
                own = [own] if isinstance(own, str) else list(own)
                formats = ", ".join(literal(f) for f in own)
                value = f"try_strptime({t}, [{formats}])"
                expected = f"a date-time in the format {' or '.join(own)} (data.date_format)"
            else:
                dayfirst = source is None or source.dayfirst
                formats = ", ".join(
                    literal(f) for f in (UK_TIMESTAMP_FORMATS if dayfirst else US_TIMESTAMP_FORMATS)
                )
                value = f"coalesce(try_cast({t} AS TIMESTAMP), try_strptime({t}, [{formats}]))"
            invalid = f"({t} <> '' AND {value} IS NULL)"
            return FieldColumn(field, column, duck_type, value, invalid, expected)
        raise wrong_type(expected)
    if kind == "bool":
        expected = "true/false, 1/0 or Y/N"
        if base == "BOOLEAN":
            return FieldColumn(field, column, duck_type, c, None, expected)
        if base in _INTEGER_TYPES or base in _FLOAT_TYPES or base == "DECIMAL":
            value = f"CASE WHEN {c} = 1 THEN TRUE WHEN {c} = 0 THEN FALSE END"
            return FieldColumn(field, column, duck_type, value, f"({c} NOT IN (0, 1))", expected)
        if text:
            t = f"lower(trim({c}))"
            yes = ", ".join(literal(v) for v in BOOL_TRUE)
            no = ", ".join(literal(v) for v in BOOL_FALSE)
            value = f"CASE WHEN {t} IN ({yes}) THEN TRUE WHEN {t} IN ({no}) THEN FALSE END"
            invalid = f"({t} <> '' AND {t} NOT IN ({yes}, {no}))"
            return FieldColumn(field, column, duck_type, value, invalid, expected)
        raise wrong_type(expected)
    if kind == "number":
        expected = "a number"
        if base in _INTEGER_TYPES or base in _FLOAT_TYPES or base in ("DECIMAL", "BOOLEAN"):
            return FieldColumn(field, column, duck_type, f"CAST({c} AS DOUBLE)", None, expected)
        if text:
            t = f"trim({c})"
            value = f"try_cast({t} AS DOUBLE)"
            return FieldColumn(
                field, column, duck_type, value, f"({t} <> '' AND {value} IS NULL)", expected
            )
        raise wrong_type(expected)
    if kind == "id":
        # Ids keep their stored type: partitioning persons by integer is much faster than by text.
        return FieldColumn(field, column, duck_type, c, None, "an identifier")
    # text and category fields are compared as text; an empty text (how SPSS and Stata store a
    # missing string) is missing.
    value = f"nullif(trim(CAST({c} AS VARCHAR)), '')"
    return FieldColumn(field, column, duck_type, value, None, "text")


def field_columns(
    file: EpisodeFile, mapping: dict[str, str], source: EpisodeSource | None = None
) -> dict[str, FieldColumn]:
    """:func:`field_column` for every mapped field (with ``source``'s codes and date formats)."""
    return {
        name: field_column(name, column, file.types[column], file.path, source)
        for name, column in mapping.items()
    }
