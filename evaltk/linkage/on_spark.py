"""``data.linkage`` on Spark (``evaltk run --engine spark``): the whole linkage where the data live.

The same steps as :mod:`evaltk.linkage.pipeline`, with nothing read onto this machine: every
extract (parquet or Delta) is read in place as a view with a stable row id
(:meth:`~evaltk.ingest.spark.SparkBackend.open_location`), its person identifiers replaced in
Spark SQL by the same keyed HMAC-SHA-256 pseudonyms
(:func:`evaltk.ingest.pseudonyms.pseudonym_sql`),
matched by the same set operations (:func:`evaltk.linkage.chain.link_tables`), and the police
extract written back by the executors, with its ``linked_<agency>`` flags, as a folder of
parquet files that the measures then read on Spark. Only counts come back to the driver.

The key is never SQL text, so it is in no query plan, ``EXPLAIN`` or Spark UI page: its two
padded halves are a one-row view (:meth:`~evaltk.ingest.spark.SparkBackend.bytes_view`)
joined to each extract, the bytes travelling as that view's data. (A bound SQL parameter
would not do: Spark writes a parameter's value into the plan as a literal.)

No link table (`evaltk link`'s ``links.csv``) is made here: it would bring every link to the
driver; ``evaltk link`` runs on DuckDB.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from evaltk.errors import DataError
from evaltk.ingest.field_sql import FieldColumn, field_column, field_columns
from evaltk.ingest.pseudonyms import LinkKey, hmac_parameters, pseudonym_sql, require_key
from evaltk.ingest.readers import CACHE_DIR
from evaltk.ingest.source import EpisodeFile, map_columns
from evaltk.ingest.sql import quote_ident
from evaltk.linkage.chain import link_tables
from evaltk.linkage.link import PairCount
from evaltk.linkage.pipeline import LinkedEpisodes, agency_source, needs_key
from evaltk.protocol.needed_fields import (
    CHECKED_IF_PRESENT,
    JOURNEY_FIELDS,
    provided_by_linkage,
    required_fields,
)
from evaltk.protocol.spec import EpisodeSource, Protocol

if TYPE_CHECKING:
    from evaltk.ingest.engine import EngineSettings
    from evaltk.ingest.spark import SparkBackend

KEY_VIEW = "__evaltk_link_key"
LINKED_NAME = "linked-spark.parquet"  # a folder of parquet files in ANALYSIS/.cache/


def link_on_spark(
    protocol: Protocol,
    folder: Path,
    key: LinkKey | None = None,
    *,
    settings: EngineSettings | None = None,
    backend: SparkBackend | None = None,
) -> LinkedEpisodes:
    """Pseudonymise and link the protocol's extracts on Spark; write the flagged police table.

    ``backend`` runs it on a session already open (tests); else one is opened from
    ``settings.spark``. Raises as :func:`evaltk.linkage.pipeline.link_episodes` does.
    """
    from evaltk.ingest.spark import ROW_ID, SparkBackend, spark_session, table_location

    source = protocol.data
    if not isinstance(source, EpisodeSource) or source.linkage is None:
        raise TypeError("link_on_spark needs episode data with a data.linkage block")
    linkage = source.linkage
    folder = Path(folder)
    if key is None and needs_key(source):
        key = require_key(why="data.linkage links extracts by person")
    own = backend is None
    spark = backend or SparkBackend(spark_session(settings.spark if settings else None))
    try:
        if key is not None:
            spark.bytes_view(KEY_VIEW, hmac_parameters(key))
        police = spark.open_location(
            *table_location(source, folder), "__evaltk_police", row_ids=True
        )
        mapping = map_columns(
            police,
            source,
            required_fields(protocol),
            read_if_present=(*CHECKED_IF_PRESENT, *JOURNEY_FIELDS),
            provided=provided_by_linkage(protocol),
        )
        fields = field_columns(police, mapping, source)
        person = _pseudonym(fields["person_id"], source.identifiers, key)
        spark.temp_table(
            "__evaltk_incidents",
            f"SELECT {ROW_ID} AS record, {person} AS pseudonym, {fields['timestamp'].value} "
            f"AS time FROM {_joined(police, key)}",
        )
        views: dict[str, str] = {}
        for number, (agency, extract) in enumerate(linkage.agencies.items()):
            options = agency_source(extract)
            where = f"data.linkage.agencies.{agency}"
            file = spark.open_location(
                *table_location(options, folder), f"__evaltk_agency_src_{number}", row_ids=True
            )
            missing = [
                f"'{c}' ({where}.{what})"
                for what, c in (("person", extract.person), ("time", extract.time))
                if c not in file.types
            ]
            if missing:
                raise DataError(
                    f"{file.path}: no column {', '.join(missing)}; the file has columns: "
                    f"{', '.join(file.types) or 'none'}. Name the right column in the protocol"
                )
            time = field_column(
                "timestamp", extract.time, file.types[extract.time], file.path, options
            )
            _check_times(spark, file, time, f"{where}.time")
            agency_person = field_column(
                "person_id", extract.person, file.types[extract.person], file.path
            )
            views[agency] = f"__evaltk_agency_{number}"
            spark.temp_table(
                views[agency],
                f"SELECT {ROW_ID} AS record, "
                f"{_pseudonym(agency_person, extract.identifiers, key)} AS pseudonym, "
                f"{time.value} AS time FROM {_joined(file, key)}",
            )
        windows = {str(a): e.window_hours for a, e in linkage.agencies.items()}
        after = {str(a): e.after for a, e in linkage.agencies.items()}
        links = link_tables(spark, "__evaltk_incidents", views, windows, after, tag="s")
        incidents = _table_counts(spark, "__evaltk_incidents")
        counts = tuple(
            _pair_count(spark, str(agency), incidents, views[agency], links[agency])
            for agency in linkage.agencies
        )
        path = _write_flagged(spark, police, mapping, fields, source, key, links, folder)
    finally:
        if own:
            spark.close()
    return LinkedEpisodes(path=path, counts=counts, windows=windows, table=None)


def _pseudonym(person: FieldColumn, identifiers: str, key: LinkKey | None) -> str:
    value = person.value
    if person.type.split("(")[0].strip().upper() in ("FLOAT", "DOUBLE", "REAL", "DECIMAL"):
        # A whole number stored as a float (SPSS, Excel) is its digits, as
        # normalise_identifier writes it (Spark would write 9.434765919E9).
        value = (
            f"CASE WHEN {value} = floor({value}) AND abs({value}) < 9.2e18 "
            f"THEN CAST(CAST({value} AS BIGINT) AS VARCHAR) ELSE CAST({value} AS VARCHAR) END"
        )
    if identifiers != "raw":
        return f"CAST({value} AS VARCHAR)"
    assert key is not None  # needs_key: a raw extract is refused without one
    return pseudonym_sql(value, inner="k.inner", outer="k.outer")


def _joined(file: EpisodeFile, key: LinkKey | None) -> str:
    # The key's one-row view joined in (broadcast: it is one row), named k.
    if key is None:
        return f"{file.scan_sql()} AS f"
    return f"{file.scan_sql()} AS f CROSS JOIN {KEY_VIEW} AS k"


def _check_times(spark: SparkBackend, file: EpisodeFile, time: FieldColumn, where: str) -> None:
    """An agency time that cannot be read stops the run, naming its file and row."""
    from evaltk.ingest.spark import FILE, ROW

    if time.invalid is None:
        return
    bad = f"FROM {file.scan_sql()} WHERE {time.invalid}"
    count = int(spark.query(f"SELECT count(*) AS n {bad}")["n"].iloc[0])
    if not count:
        return
    first = spark.query(
        f"SELECT {FILE} AS file, {ROW} + 1 AS row, CAST({quote_ident(time.column)} AS VARCHAR) "
        f"AS value {bad} ORDER BY {FILE}, {ROW} LIMIT 1"
    ).iloc[0]
    others = f" ({count} such values in the file)" if count > 1 else ""
    raise DataError(
        f"{first['file']}: row {int(first['row'])}: column '{time.column}' ({where}) has "
        f"{first['value']!r}, expected {time.expected}{others}; correct it, or set "
        "date_format for this agency"
    )


def _table_counts(spark: SparkBackend, table: str) -> tuple[int, int]:
    """A ``record, pseudonym, time`` table's rows and its rows that cannot be linked (no
    pseudonym or no time), in one statement: each statement on Spark is a job or more."""
    counted = spark.query(
        "SELECT count(*) AS n, "
        f"count(CASE WHEN pseudonym IS NULL OR time IS NULL THEN 1 END) AS unlinkable FROM {table}"
    ).iloc[0]
    return int(counted["n"]), int(counted["unlinkable"])


def _pair_count(
    spark: SparkBackend, agency: str, incidents: tuple[int, int], records: str, links: str
) -> PairCount:
    # __evaltk_incidents has one row per police row, so its rows are the incidents.
    n_records, records_unlinkable = _table_counts(spark, records)
    linked = int(spark.query(f"SELECT count(*) AS n FROM {links}")["n"].iloc[0])
    return PairCount(
        agency=agency,
        incidents=incidents[0],
        records=n_records,
        incidents_unlinkable=incidents[1],
        records_unlinkable=records_unlinkable,
        incidents_linked=linked,
        records_linked=linked,
    )


def _write_flagged(
    spark: SparkBackend,
    police: EpisodeFile,
    mapping: dict[str, str],
    fields: dict[str, FieldColumn],
    source: EpisodeSource,
    key: LinkKey | None,
    links: dict[str, str],
    folder: Path,
) -> Path:
    """The police extract's mapped columns (person ids as pseudonyms) and ``linked_<agency>``,
    written by Spark to ``ANALYSIS/.cache/linked-spark.parquet/`` (replaced whole)."""
    from evaltk.ingest.spark import ROW_ID

    person_column = mapping["person_id"]
    items = []
    for column in dict.fromkeys(mapping.values()):
        if column == person_column:
            value = _pseudonym(fields["person_id"], source.identifiers, key)
            items.append(f"{value} AS {quote_ident(column)}")
        else:
            items.append(f"f.{quote_ident(column)}")
    joins = []
    for number, (agency, table) in enumerate(links.items()):
        flag = quote_ident(f"linked_{agency}")
        items.append(f"l{number}.r IS NOT NULL AS {flag}")
        joins.append(
            f"LEFT JOIN (SELECT DISTINCT r FROM {table}) AS l{number} ON l{number}.r = f.{ROW_ID}"
        )
    cache = folder / CACHE_DIR
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / LINKED_NAME
    temp = cache / f".linking-{uuid.uuid4().hex}"
    try:
        spark.write_parquet(
            f"SELECT {', '.join(items)} FROM {_joined(police, key)} {' '.join(joins)}", str(temp)
        )
        if target.exists():
            shutil.rmtree(target)
        os.replace(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return target
