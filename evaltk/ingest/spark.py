"""Apache Spark as the engine of the heavy steps, for data that live where Spark runs.

An NHS secure data environment (Databricks, or a Spark cluster) holds national extracts that
cannot leave it; evaltk then runs inside it (a notebook or a job) and sends its SQL to Spark.
This module is that engine's whole surface: a session (:func:`spark_session`, a master URL or
a Spark Connect address ``sc://host:15002``), an extract read in place as a temporary view
(:func:`open_spark_table`, parquet or a Delta table), and a statement run
(:meth:`SparkBackend.query`): the DuckDB SQL the measures write, compiled by
:func:`evaltk.ingest.dialect.spark_sql`. Only the grouped result (units x months) comes back.

pyspark is optional (``pip install 'evaltk[spark]'``) and imported only here, only when the
Spark engine is chosen.

The session's time zone is set to UTC, so that Spark's time arithmetic on wall-clock times
(``TIMESTAMP_NTZ``, what a parquet timestamp without a zone is read as) matches DuckDB's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evaltk.errors import DataError, EngineError
from evaltk.ingest.dialect import spark_sql
from evaltk.ingest.source import EpisodeFile, ReadOptions

#: Spark's simple type names -> the DuckDB type names evaltk.ingest.field_sql reads.
_DUCK_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp_ntz": "TIMESTAMP",
    # An instant (Spark's session-zone TIMESTAMP): read as Europe/London local time, as
    # DuckDB reads a parquet timestamp with a zone.
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "binary": "BLOB",
}
#: Columns :meth:`SparkBackend.open_location` adds with ``row_ids``.
ROW_ID, ROW, FILE = "__evaltk_record", "__evaltk_row", "__evaltk_file"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")


@dataclass(frozen=True)
class SparkSettings:
    """Where Spark runs.

    Parameters
    ----------
    master
        A master URL (``local[2]``, ``spark://host:7077``, ``yarn``); default ``local[*]``
        when neither it nor ``remote`` is given, or the session already running.
    remote
        A Spark Connect address (``sc://host:15002``; Databricks gives one per cluster).
    conf
        Extra Spark settings for a new session (``spark.executor.memory``, ...).
    """

    master: str | None = None
    remote: str | None = None
    conf: Mapping[str, str] = field(default_factory=dict)


def _pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError:
        raise EngineError(
            "the Spark engine needs pyspark: install it with `pip install 'evaltk[spark]'` "
            "(and a Java 17 runtime), or run without --engine spark to use DuckDB"
        ) from None
    return pyspark.sql


def spark_session(settings: SparkSettings | None = None) -> Any:
    """The Spark session to run on: a Spark Connect session for ``remote``, else the session
    already running in this process, else a new one on ``master``."""
    settings = settings or SparkSettings()
    sql = _pyspark()
    if settings.remote:
        # The Connect builder directly: pyspark's generic builder refuses a remote session
        # in a process that also has a classic one (the tests run both).
        from pyspark.sql.connect.session import SparkSession as ConnectSession

        builder = ConnectSession.builder.remote(settings.remote)
    else:
        active = sql.SparkSession.getActiveSession()
        if active is not None and settings.master is None:
            builder, session = None, active
        else:
            builder = sql.SparkSession.builder.master(settings.master or "local[*]")
            builder = builder.config("spark.ui.showConsoleProgress", "false")
    if builder is not None:
        for key, value in settings.conf.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as error:  # Java missing, Connect server unreachable, ...
            raise EngineError(
                f"cannot start or reach Spark ({_first_line(error)}); check --spark-master / "
                "--spark-remote and that Java 17 is installed"
            ) from None
    session.conf.set("spark.sql.session.timeZone", "UTC")
    session.conf.set("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
    return session


def _first_line(error: BaseException) -> str:
    text = " ".join(str(error).split("\n", 1)[0].split())
    return text if len(text) <= 300 else text[:297] + "..."


def duck_type(spark_type: str) -> str:
    """The DuckDB name of a Spark column type (``decimal(10,2)`` -> ``DECIMAL(10,2)``)."""
    base = spark_type.split("(")[0]
    if base == "decimal":
        return spark_type.upper()
    return _DUCK_TYPES.get(base, spark_type.upper())


def table_location(source: ReadOptions, folder: Path) -> tuple[str, str]:
    """Where the extract is (a URI such as ``abfss://...`` as it is, else a path under
    ``folder``) and how Spark reads it: ``delta`` for a folder with a ``_delta_log``, else
    ``parquet``.

    Raises
    ------
    DataError
        For a local path that does not exist, or a format Spark is not given here.
    """
    if _URI.match(source.path):
        location = source.path
        local: Path | None = None
    else:
        local = (Path(folder) / source.path).resolve()
        location = str(local)
        if not local.exists():
            raise DataError(
                f"{local}: episode file not found; check data.path ('{source.path}', "
                f"relative to {folder})"
            )
    if local is not None and (local / "_delta_log").is_dir():
        return location, "delta"
    if source.format not in ("auto", "parquet") or (
        local is not None and local.is_file() and local.suffix.lower() != ".parquet"
    ):
        raise DataError(
            f"{location}: the Spark engine reads parquet files and Delta tables in place; "
            "this extract is not one. Convert it to parquet (or run with the DuckDB engine, "
            "which reads every format evaltk knows)"
        )
    return location, "parquet"


@dataclass
class SparkBackend:
    """One analysis's statements on one Spark session; views it makes are dropped by close."""

    session: Any
    dialect: str = "spark"
    _views: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Spark 4 fails to rewrite the constraints of a UNION of locally checkpointed tables
        # whose columns share their origin ("key not found: d#12", the linkage's rounds);
        # constraint propagation only prunes filters, so without it the results are the same.
        self.session.conf.set("spark.sql.constraintPropagation.enabled", "false")

    def open_table(self, source: ReadOptions, folder: Path, view: str) -> EpisodeFile:
        """Read the extract in place as the temporary view ``view``; its column types."""
        location, fmt = table_location(source, folder)
        return self.open_location(location, fmt, view)

    def open_location(
        self, location: str, fmt: str, view: str, *, row_ids: bool = False
    ) -> EpisodeFile:
        """The extract at ``location`` as the temporary view ``view``.

        ``row_ids`` adds the columns :data:`ROW_ID` (an id per row that does not depend on
        how Spark splits the work: the row's position in its file, after the files in name
        order, so for one parquet file it is DuckDB's ``file_row_number``), :data:`ROW` (the
        row's 0-based position in its file) and :data:`FILE` (the file's path), for linkage.
        They are not among the returned types.
        """
        try:
            frame = self.session.read.format(fmt).load(location)
            schema = frame.schema
            if row_ids:
                frame = self._with_row_ids(frame)
        except Exception as error:
            raise DataError(
                f"{location}: Spark cannot read it as {fmt} ({_first_line(error)}); check "
                "the path and that it is a parquet file, folder of parquet files or Delta table"
            ) from None
        frame.createOrReplaceTempView(view)
        self._views.append(view)
        types = {f.name: duck_type(f.dataType.simpleString()) for f in schema.fields}
        return EpisodeFile(Path(location), fmt, types, table=view)

    def _with_row_ids(self, frame: Any) -> Any:
        # SQL expressions as text, not pyspark.sql.functions: a process may hold a classic
        # and a Connect session, and the functions module builds the classic one's columns.
        frame = frame.selectExpr(
            "*", f"_metadata.file_path AS {FILE}", f"_metadata.row_index AS {ROW}"
        )
        # Files numbered in name order (a small table of names), each given 2^40 row ids;
        # one file is number 0, so its ids are its row positions.
        files = (
            frame.select(FILE)
            .distinct()
            .selectExpr(FILE, f"row_number() OVER (ORDER BY {FILE}) - 1 AS __evaltk_file_no")
        )
        return (
            frame.join(files.hint("broadcast"), FILE)
            .selectExpr("*", f"__evaltk_file_no * {2**40} + {ROW} AS {ROW_ID}")
            .drop("__evaltk_file_no")
        )

    def bytes_view(self, view: str, values: Mapping[str, bytes]) -> None:
        """A one-row temporary view with one binary column per value, e.g. the linkage
        key's padded halves for HMAC in SQL. The bytes travel as a local relation's data
        (Connect: an Arrow batch), so they are never part of any SQL text, and the query
        plans that join the view name only its columns (``LocalRelation [inner#1, outer#2]``,
        classic Spark ``Scan ExistingRDD[inner#1, outer#2]``)."""
        from pyspark.sql.types import BinaryType, StructField, StructType

        schema = StructType([StructField(name, BinaryType(), False) for name in values])
        frame = self.session.createDataFrame([tuple(bytearray(v) for v in values.values())], schema)
        frame.createOrReplaceTempView(view)
        self._views.append(view)

    def write_parquet(self, duckdb_sql: str, location: str) -> None:
        """Write a statement's rows as a folder of parquet files at ``location`` (replaced),
        by the executors: nothing passes through the driver."""
        self.session.sql(spark_sql(duckdb_sql)).write.mode("overwrite").parquet(location)

    def query(self, duckdb_sql: str, params: dict[str, bytes] | None = None) -> pd.DataFrame:
        """Run one statement written in DuckDB's dialect; its (small) result as pandas.
        ``params`` are bound to ``$name`` (Spark's ``:name``), never pasted into the text."""
        args = {k: bytearray(v) for k, v in (params or {}).items()} or None
        return self.session.sql(spark_sql(duckdb_sql), args=args).toPandas()

    def temp_table(self, name: str, select_sql: str) -> None:
        """``name`` as a temporary view of ``select_sql``'s rows, computed now and kept
        (a local checkpoint: later statements read the rows, not the plan that made them,
        so that rounds of statements over the last round's table stay as cheap as one)."""
        self.session.sql(spark_sql(select_sql)).localCheckpoint().createOrReplaceTempView(name)
        self._views.append(name)

    def close(self) -> None:
        for view in self._views:
            self.session.catalog.dropTempView(view)
        self._views.clear()
