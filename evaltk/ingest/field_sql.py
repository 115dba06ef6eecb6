"""Each canonical field as SQL over the file column it is mapped to.

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

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from evaltk.episodes.schema import FIELDS_BY_NAME
from evaltk.errors import DataError
from evaltk.ingest.source import EpisodeFile, ReadOptions
from evaltk.ingest.sql import SqlValue, literal, quote_ident

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
class FieldColumn:
    """One canonical field as read from its file column."""

    field: str
    column: str
    type: str
    value: str  # SQL: the canonical value (NULL when missing)
    invalid: str | None  # SQL: TRUE where a value is present but not valid; None if impossible
    expected: str  # what a valid value looks like, for error messages


def _base_type(duck_type: str) -> str:
    return duck_type.split("(")[0].strip().upper()


def is_integer_type(duck_type: str) -> bool:
    """Whether a DuckDB column type is an integer type (of any width or sign)."""
    return _base_type(duck_type) in _INTEGER_TYPES


def _code_value(value: SqlValue | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return literal("true" if value else "false")
    return literal(str(value))


def coded_text(column_sql: str, duck_type: str, codes: Mapping[str, SqlValue | None]) -> str:
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
    source: ReadOptions | None = None,
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
    file: EpisodeFile, mapping: dict[str, str], source: ReadOptions | None = None
) -> dict[str, FieldColumn]:
    """:func:`field_column` for every mapped field (with ``source``'s codes and date formats)."""
    return {
        name: field_column(name, column, file.types[column], file.path, source)
        for name, column in mapping.items()
    }
