"""Find the first offending row of a file, to name it in an error message.

This runs only after the main scan has counted invalid values, so the happy path never pays
for it. It scans single-threaded, keeping file order, because DuckDB's CSV reader has no row
number of its own; parquet files carry one (``file_row_number``).
"""

from __future__ import annotations

from evaltk.errors import DataError
from evaltk.ingest.engine import EngineSettings, connect
from evaltk.ingest.field_sql import FieldColumn
from evaltk.ingest.source import EpisodeFile
from evaltk.ingest.sql import quote_ident


def invalid_value_error(file: EpisodeFile, column: FieldColumn, count: int) -> DataError:
    """A :class:`DataError` naming the first row whose ``column`` value is invalid."""
    con = connect(EngineSettings(threads=1, memory_limit="1GiB"))
    try:
        con.execute("SET preserve_insertion_order = true")
        if file.scan_format == "parquet":
            numbered = f"SELECT file_row_number + 1 AS __evaltk_row__, * FROM {file.scan_sql(True)}"
        else:
            numbered = f"SELECT row_number() OVER () AS __evaltk_row__, * FROM {file.scan_sql()}"
        value = f"CAST({quote_ident(column.column)} AS VARCHAR)"
        row = con.execute(
            f"SELECT __evaltk_row__, {value} FROM ({numbered}) "
            f"WHERE {column.invalid} ORDER BY __evaltk_row__ LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    assert row is not None, "an invalid value was counted but not found again"
    number, value = int(row[0]), row[1]
    where = (
        f"data row {number} (line {number + 1} of the file, after the header)"
        if file.scan_format == "csv"
        else f"row {number}"
    )
    others = f" ({count} such values in the file)" if count > 1 else ""
    return DataError(
        f"{file.path}: {where}: column '{column.column}' (canonical field '{column.field}') "
        f"has {value!r}, expected {column.expected}{others}; correct it, or empty it to mark "
        "the value missing"
    )
