"""Find an extract, read its column names and types, stage it if need be, map its columns.

Nothing here reads rows: a parquet file's schema is in its footer and a CSV's header is sniffed
from its first lines, so every check in this module costs next to nothing before the one heavy
scan in :mod:`evaltk.measures.episodes`. :mod:`evaltk.ingest.field_sql` then turns each mapped
column into its canonical field.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from evaltk.errors import DataError
from evaltk.ingest.pseudonyms import LinkKey, require_key
from evaltk.ingest.readers import (
    CACHE_DIR,
    STAGED_FORMATS,
    format_from_extension,
    read_columns,
    stage,
)
from evaltk.ingest.sql import SqlValue, literal, quote_ident

CSV_NULLS = ("", "NA")


class ReadOptions(typing.Protocol):
    """How an extract is read; :class:`evaltk.protocol.spec.EpisodeSource` is one.

    Stated as a structural type so that reading files does not depend on the protocol's
    models: measures pass the protocol's ``data`` block, linkage an agency's options.
    """

    @property
    def path(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def columns(self) -> Mapping[str, str]: ...
    @property
    def codes(self) -> Mapping[str, Mapping[str, SqlValue | None]]: ...
    @property
    def date_format(self) -> str | list[str] | None: ...
    @property
    def dayfirst(self) -> bool: ...
    @property
    def encoding(self) -> str | None: ...
    @property
    def sheet(self) -> str | None: ...
    @property
    def identifiers(self) -> str: ...


@dataclass(frozen=True)
class EpisodeFile:
    """An episode file located and typed, ready to be scanned."""

    path: Path
    format: str  # 'csv' | 'parquet' | 'sav' | 'dta' | 'sas7bdat' | 'xpt' | 'xlsx'
    types: dict[str, str]  # file column -> DuckDB type, in file order
    # The parquet file actually scanned when the file was staged (evaltk.ingest.readers).
    scan_path: Path | None = None
    # A table the engine already holds the file as (Spark's temporary view of it), scanned by
    # name instead of reading the file (evaltk.ingest.spark).
    table: str | None = None

    @property
    def scan_format(self) -> str:
        """The format DuckDB reads: ``parquet`` for a staged file, else ``format``."""
        return "parquet" if self.scan_path is not None else self.format

    def scan_sql(self, row_numbers: bool = False) -> str:
        """A table expression reading the whole file (with 1-based-able row numbers if asked)."""
        if self.table is not None:
            return quote_ident(self.table)
        where = self.scan_path or self.path
        # A folder of parquet files (as Spark writes a table): all of them.
        path = literal(str(where / "*.parquet" if where.is_dir() else where))
        if self.scan_format == "parquet":
            return f"read_parquet({path}{', file_row_number = true' if row_numbers else ''})"
        nulls = ", ".join(literal(n) for n in CSV_NULLS)
        return f"read_csv({path}, header = true, all_varchar = true, nullstr = [{nulls}])"


def episode_format(source: ReadOptions, path: Path) -> str:
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


def _needs_staging(source: ReadOptions, fmt: str) -> bool:
    if fmt in STAGED_FORMATS or source.identifiers == "raw":
        return True
    return fmt == "csv" and (source.encoding or "utf-8").lower().replace("_", "-") not in (
        "utf-8",
        "utf8",
    )


def stage_episode_file(
    con: duckdb.DuckDBPyConnection,
    file: EpisodeFile,
    source: ReadOptions,
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
    con: duckdb.DuckDBPyConnection, source: ReadOptions, folder: Path
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
        # The offending line itself: from a file that is not the expected format (any file
        # data.path names), it would print that file's content in the error.
        if line.startswith("Original Line"):
            continue
        if line:
            lines.append(line)
    text = "; ".join(lines) or type(error).__name__
    if "sniffing" in text:
        text = (
            f"{lines[0]} DuckDB could not work out the CSV layout: check the delimiter and the "
            "quoting, and that every line has as many fields as the header"
        )
    return text if len(text) <= 400 else text[:397] + "..."


#: What a column name looks like: letters, digits, spaces and the punctuation column names use.
_COLUMN_NAME = re.compile(r"[\w .,()/%#&?'+\-]{1,80}")


def _columns_of(file: EpisodeFile) -> str:
    """The file's column names for an error message, if its first line looks like a header.

    A file that is not the expected format (a text file read as CSV) has a first line of
    content, not of names; quoting it would print that content, so only its count is given.
    """
    names = list(file.types)
    if not names:
        return "The file has no columns."
    if all(_COLUMN_NAME.fullmatch(name) for name in names):
        return f"The file has columns: {', '.join(names)}."
    return (
        f"Its first line ({len(names)} field{'s' if len(names) != 1 else ''}) does not look "
        "like column names: check data.path and data.format."
    )


def map_columns(
    file: EpisodeFile,
    source: ReadOptions,
    required: Mapping[str, Sequence[str]],
    *,
    read_if_present: Iterable[str] = (),
    provided: Iterable[str] = (),
) -> dict[str, str]:
    """Canonical field -> file column for every field in ``required``.

    Parameters
    ----------
    file
        The file as opened (its column names and types).
    source
        Its reading options; ``source.columns`` renames canonical fields to file columns.
    required
        Canonical field -> who needs it (named in the error message), e.g.
        :func:`evaltk.protocol.needed_fields.required_fields`.
    read_if_present
        Fields mapped when the file has their column, and otherwise left out.
    provided
        Fields left out because they are added to the file later (linkage's flags).

    Raises
    ------
    DataError
        Naming every missing column, the canonical field it stands for and who needs it.
    """
    mapping: dict[str, str] = {}
    missing: list[str] = []
    skip = set(provided)
    for name, why in required.items():
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
    for name in read_if_present:
        column = source.columns.get(name, name)
        if name not in mapping and column in file.types:
            mapping[name] = column
        elif name in source.columns and column not in file.types:
            missing.append(
                f"column '{column}' for canonical field '{name}' (mapped in data.columns)"
            )
    if missing:
        raise DataError(
            f"{file.path}: missing {'; '.join(missing)}. {_columns_of(file)} "
            "Map the field to your column in data.columns, or add the column to the file"
        )
    return mapping
