"""The engine that files are scanned on: DuckDB (embedded, the default) or Spark.

:func:`connect` makes the DuckDB connection, set up once in one place. A :class:`Backend` is
what the measures run their statements on, whichever the engine: they write DuckDB SQL, and
the Spark backend (:mod:`evaltk.ingest.spark`) compiles it for Spark.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import duckdb
import pandas as pd

from evaltk.ingest.sql import literal, quote_ident

if TYPE_CHECKING:
    from evaltk.ingest.spark import SparkSettings

_GIB = 1024**3


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX: let DuckDB choose
        return None


@dataclass(frozen=True)
class EngineSettings:
    """How much of the machine the heavy step may use.

    Parameters
    ----------
    threads
        Worker threads; default all cores, because the scan and the per-person window both
        parallelise.
    memory_limit
        DuckDB's buffer limit, e.g. ``"3GiB"``. The default is half the physical memory, at most
        3 GiB: enough for tens of millions of episodes (DuckDB spills sorts and windows to
        ``temp_directory`` beyond it), while leaving room for pandas, the notebook and the OS
        on a laptop. The process's peak is somewhat above this (Python, pandas, result frames).
    temp_directory
        Where DuckDB spills; default a per-process folder under the system temporary
        directory (created only if DuckDB needs to spill).
    """

    threads: int | None = None
    memory_limit: str | None = None
    temp_directory: str | None = None
    #: ``duckdb`` (embedded, the default) or ``spark`` (where the data live; see ``spark``).
    engine: Literal["duckdb", "spark"] = "duckdb"
    #: The Spark master or Connect address when ``engine`` is ``spark`` (default: local).
    spark: SparkSettings | None = None

    def resolved_threads(self) -> int:
        return self.threads or os.cpu_count() or 1

    def resolved_memory_limit(self) -> str:
        if self.memory_limit:
            return self.memory_limit
        total = _physical_memory()
        limit = 3 * _GIB if total is None else min(3 * _GIB, total // 2)
        return f"{max(limit // 1024**2, 256)}MiB"


def connect(settings: EngineSettings | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection configured by ``settings``.

    Each call gets its own database, so parallel analyses never share state.
    """
    settings = settings or EngineSettings()
    con = duckdb.connect(database=":memory:")
    con.execute(f"SET threads = {int(settings.resolved_threads())}")
    con.execute(f"SET memory_limit = {literal(settings.resolved_memory_limit())}")
    # One spill folder per process: concurrent analyses must not share DuckDB's temp files.
    temp = settings.temp_directory or os.path.join(
        tempfile.gettempdir(), f"evaltk-duckdb-{os.getpid()}"
    )
    con.execute(f"SET temp_directory = {literal(temp)}")
    # Row order never matters here (rows are grouped, then laid on the grid in Python), so
    # the scan need not keep the file's order.
    con.execute("SET preserve_insertion_order = false")
    _without_progress_bar(con)
    return con


def _without_progress_bar(con: duckdb.DuckDBPyConnection) -> None:
    """Turn DuckDB's own progress bar off, where it is on.

    The CLI draws its own progress (rich) and the notebook API prints step lines; DuckDB's bar
    would write over them. In a Jupyter kernel without ``ipywidgets`` DuckDB leaves its bar
    off and refuses any change to the setting, even to off, with "Could not change the
    progress bar setting" (duckdb/duckdb#6831, #7590); so it is changed only when it is on.
    """
    # fetchall, not fetchone: DuckDB refuses the next statement while a result is unfinished.
    [(on,)] = con.execute("SELECT current_setting('enable_progress_bar')").fetchall()
    if on:
        con.execute("SET enable_progress_bar = false")


class Backend(Protocol):
    """Where a step's SQL runs: statements are written in DuckDB's dialect."""

    dialect: str  # 'duckdb' or 'spark'

    def query(self, sql: str, params: dict[str, bytes] | None = None) -> pd.DataFrame: ...
    def temp_table(self, name: str, select_sql: str) -> None: ...
    def close(self) -> None: ...


class DuckDBBackend:
    """A DuckDB connection as a :class:`Backend`."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def query(self, sql: str, params: dict[str, bytes] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params).df() if params else self.con.execute(sql).df()

    def temp_table(self, name: str, select_sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(name)} AS {select_sql}")

    def close(self) -> None:
        self.con.close()
