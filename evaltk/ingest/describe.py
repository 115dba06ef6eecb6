"""``evaltk data describe FILE``: a data dictionary of an extract, without showing identities.

For each column: its type, label and value labels (SPSS/Stata/SAS metadata), the number of
missing values, the number of distinct values (up to a cap) and a few example values. Person
identifiers never have their values printed: a column is treated as one when its name looks
like one (NHS number, name, date of birth, postcode, address, phone, email, person or patient
id) or it is named with ``--identifier``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaltk.errors import DataError
from evaltk.ingest.readers import (
    FORMAT_NAMES,
    STAGED_FORMATS,
    Column,
    _chunks,
    format_from_extension,
    read_columns,
)
from evaltk.ingest.source import read_csv_header

IDENTIFIER_PATTERN = re.compile(
    r"nhs|name|dob|birth|postcode|post_code|address|phone|mobile|email|person|patient|"
    r"pnc|cro|custody_no|warrant|subject|individual|client|nominal",
    re.IGNORECASE,
)
EXAMPLES = 3
DISTINCT_CAP = 1000


@dataclass
class ColumnReport:
    column: Column
    identifier: bool
    rows: int = 0
    missing: int = 0
    distinct: set[str] = field(default_factory=set)
    examples: list[str] = field(default_factory=list)


def looks_like_identifier(name: str) -> bool:
    return bool(IDENTIFIER_PATTERN.search(name))


def describe(
    path: Path,
    fmt: str | None = None,
    *,
    identifiers: Iterable[str] = (),
    encoding: str | None = None,
    sheet: str | None = None,
) -> tuple[str, list[ColumnReport]]:
    """The data dictionary of ``path``: its format and one report per column."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes); export the extract again")
    fmt = fmt or format_from_extension(path)
    if fmt is None:
        raise DataError(
            f"{path}: cannot tell the format from the extension; pass --format (csv, parquet, "
            "sav, dta, sas7bdat, xpt, xlsx)"
        )
    named = set(identifiers)
    if fmt in STAGED_FORMATS:
        columns = read_columns(path, fmt, encoding=encoding, sheet=sheet)
    elif fmt == "csv":
        columns = [Column(c, "text") for c in read_csv_header(path, encoding)]
    else:
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(path)
        except Exception as error:
            raise DataError(f"{path}: cannot read it as parquet ({error})") from None
        columns = [Column(n, "text") for n in schema.names]
    unknown = named - {c.name for c in columns}
    if unknown:
        raise DataError(f"{path}: --identifier names no column of the file: {sorted(unknown)}")
    reports = [ColumnReport(c, c.name in named or looks_like_identifier(c.name)) for c in columns]
    if not columns:
        raise DataError(f"{path}: the file has no columns")
    for chunk in _chunks(path, fmt, [c.name for c in columns], encoding, sheet):
        for report in reports:
            series = chunk[report.column.name]
            assert isinstance(series, pd.Series)  # pyreadstat's own labels: no by_column
            report.rows += len(series)
            missing = series.isna()
            if series.dtype == object:
                missing |= series.astype(str).str.strip().eq("")
            report.missing += int(missing.sum())
            if fmt in ("csv", "parquet") and report.column.kind == "text":
                report.column = Column(report.column.name, _guess(series), report.column.label)
            if len(report.distinct) < DISTINCT_CAP:
                for value in series[~missing].astype(str).unique()[:DISTINCT_CAP]:
                    report.distinct.add(value)
                    if len(report.examples) < EXAMPLES and not report.identifier:
                        report.examples.append(value)
    return FORMAT_NAMES.get(fmt, fmt), reports


def _guess(series: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(series):
        return "timestamp"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    values = series.dropna().astype(str).head(200)
    if len(values) and pd.to_numeric(values, errors="coerce").notna().all():
        return "number"
    return "text"


def render(path: Path, fmt: str, reports: list[ColumnReport]) -> str:
    """The dictionary as plain text (Markdown table)."""
    rows = reports[0].rows if reports else 0
    lines = [
        f"{path.name}: {fmt}, {rows:,} rows, {len(reports)} columns",
        "",
        "| column | type | label | missing | distinct | examples / value labels |",
        "|---|---|---|---|---|---|",
    ]
    for r in reports:
        distinct = (
            f"{len(r.distinct):,}" if len(r.distinct) < DISTINCT_CAP else f">= {DISTINCT_CAP:,}"
        )
        if r.identifier:
            shown = "withheld (person identifier)"
        elif r.column.value_labels:
            shown = "; ".join(f"{k} = {v}" for k, v in list(r.column.value_labels.items())[:8])
        else:
            shown = ", ".join(r.examples)
        lines.append(
            f"| {r.column.name} | {r.column.kind} | {r.column.label} | {r.missing:,} | "
            f"{distinct} | {shown} |"
        )
    return "\n".join(lines)
