"""``data.linkage`` end to end: pseudonymise every extract, link them, flag every incident.

The police extract is the protocol's episode file; ``data.linkage.agencies`` names the
ambulance, A&E and admission extracts. Each file is staged as parquet in ``ANALYSIS/.cache/``
(:func:`evaltk.ingest.readers.stage`, in chunks) with only the columns needed and its person
identifiers replaced by their keyed HMAC-SHA-256 pseudonyms as they are read, so nothing after
that step, and nothing written, holds a raw identity. The pseudonymised tables are linked by
person and time window (:func:`evaltk.linkage.link.link_pseudonymised`), and the police file
is written once more with one bool column per agency, ``linked_<agency>``: whether the
incident was followed by that agency's record within its window. The measures then read that
file instead of ``data.path`` and treat the flags like any other field, so a path outcome
("share of incidents followed by an A&E attendance within 12 hours") is an ordinary
``share`` with ``where: {linked_ae: true}``, and a repeat police contact an ordinary
``repeat`` on the (now pseudonymised) ``person_id``.

This module is the DuckDB path; with ``--engine spark`` :mod:`evaltk.linkage.on_spark` does
the same where the extracts are, and writes the flagged table with Spark.

Records are identified by their row number in the staged file (its order is the source
file's), never by an id column, so duplicated or missing record ids cannot merge two records.
A police row without a usable identifier or time is never linked (its flags are false); the
linkage rates count it in the denominator (:class:`~evaltk.linkage.link.PairCount`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from evaltk.errors import DataError
from evaltk.ingest.engine import EngineSettings, connect
from evaltk.ingest.field_sql import FieldColumn, field_column, field_columns
from evaltk.ingest.pseudonyms import LinkKey, require_key
from evaltk.ingest.readers import CACHE_DIR
from evaltk.ingest.source import EpisodeFile, map_columns, open_episode_file, stage_episode_file
from evaltk.ingest.sql import literal, quote_ident
from evaltk.linkage.link import PairCount, link_pseudonymised
from evaltk.protocol.needed_fields import (
    CHECKED_IF_PRESENT,
    JOURNEY_FIELDS,
    provided_by_linkage,
    required_fields,
)
from evaltk.protocol.spec import AgencyExtract, EpisodeSource, Linkage, Protocol

_LINKED_VERSION = 1  # bump when the linked file's form changes
LINK_TABLE_COLUMNS = (
    "episode_id",
    "pseudonym",
    "incident_time",
    "agency",
    "agency_record",
    "agency_time",
    "hours_after",
)


@dataclass(frozen=True)
class LinkedEpisodes:
    """The police file with its ``linked_<agency>`` flags, and how the linkage went."""

    path: Path  # parquet in ANALYSIS/.cache/: mapped columns, pseudonyms, flags
    counts: tuple[PairCount, ...]  # one per agency, in protocol order
    windows: dict[str, tuple[float, float]]
    # LINK_TABLE_COLUMNS: one row per link, pseudonymised (None on Spark: it stays there)
    table: pd.DataFrame | None


def needs_key(source: EpisodeSource) -> bool:
    """Whether any extract of a linked analysis holds raw identifiers (so the key is needed)."""
    linkage = source.linkage
    if linkage is None:
        return source.identifiers == "raw"
    return source.identifiers == "raw" or any(
        a.identifiers == "raw" for a in linkage.agencies.values()
    )


def link_episodes(
    protocol: Protocol,
    folder: Path,
    key: LinkKey | None = None,
    *,
    settings: EngineSettings | None = None,
) -> LinkedEpisodes:
    """Pseudonymise and link the protocol's extracts; write the flagged police file.

    Raises
    ------
    DataError
        No linkage key (when any extract holds raw identifiers), an extract missing or
        unreadable, a named column missing, or an agency time that is not a date-time.
    """
    source = protocol.data
    if not isinstance(source, EpisodeSource) or source.linkage is None:
        raise TypeError("link_episodes needs episode data with a data.linkage block")
    linkage: Linkage = source.linkage
    folder = Path(folder)
    if key is None and needs_key(source):
        key = require_key(why="data.linkage links extracts by person")
    con = connect(settings)
    try:
        police_file = open_episode_file(con, source, folder)
        mapping = map_columns(
            police_file,
            source,
            required_fields(protocol),
            # The journeys' fields too, so the run can follow people on the linked file.
            read_if_present=(*CHECKED_IF_PRESENT, *JOURNEY_FIELDS),
            provided=provided_by_linkage(protocol),
        )
        police = stage_episode_file(con, police_file, source, mapping, folder, always=True, key=key)
        fields = field_columns(police, mapping, source)
        incidents = _linkable(con, police, fields["person_id"], fields["timestamp"], None)
        episode_ids = _episode_ids(con, police, fields.get("episode_id"))
        tables: dict[str, pd.DataFrame] = {}
        staged: list[str] = [police.scan_path.name if police.scan_path else ""]
        for agency, extract in linkage.agencies.items():
            file, person, time, record = _agency_file(con, agency, extract, folder, key)
            tables[agency] = _linkable(con, file, person, time, record)
            staged.append(file.scan_path.name if file.scan_path else "")
        windows: dict[str, tuple[float, float]] = {
            str(a): e.window_hours for a, e in linkage.agencies.items()
        }
        after = {str(a): e.after for a, e in linkage.agencies.items()}
        result = link_pseudonymised(incidents, tables, windows, after)
        chained = {a: p for a, p in after.items() if p is not None}
        staged.append(json.dumps([windows, chained] if chained else windows, sort_keys=True))
        path = _write_flagged(con, police, result.links, list(linkage.agencies), folder, staged)
    finally:
        con.close()
    table = _link_table(result.links, incidents, tables, episode_ids)
    return LinkedEpisodes(
        path=path,
        counts=tuple(result.counts[a] for a in linkage.agencies),
        windows=windows,
        table=table,
    )


def agency_source(extract: AgencyExtract) -> EpisodeSource:
    # The agency's reading options in the form the episode readers take.
    return EpisodeSource(
        kind="episodes",
        path=extract.path,
        format=extract.format,
        date_format=extract.date_format,
        dayfirst=extract.dayfirst,
        encoding=extract.encoding,
        sheet=extract.sheet,
        identifiers=extract.identifiers,
    )


def open_agency_file(
    con: duckdb.DuckDBPyConnection, agency: str, extract: AgencyExtract, folder: Path
) -> EpisodeFile:
    """Locate an agency's extract and check that the columns the protocol names are there.

    Reads the header only (``evaltk validate`` calls it before any run).

    Raises
    ------
    DataError
        The file is missing or unreadable, or lacks a column named in its block.
    """
    where = f"data.linkage.agencies.{agency}"
    path = (folder / extract.path).resolve()
    if not path.is_file():
        raise DataError(
            f"{path}: {agency} extract not found; check {where}.path ('{extract.path}', "
            f"relative to {folder})"
        )
    options = agency_source(extract)
    file = open_episode_file(con, options, folder)
    wanted = {"person": extract.person, "time": extract.time}
    if extract.record is not None:
        wanted["record"] = extract.record
    missing = [f"'{c}' ({where}.{what})" for what, c in wanted.items() if c not in file.types]
    if missing:
        raise DataError(
            f"{file.path}: no column {', '.join(missing)}; the file has columns: "
            f"{', '.join(file.types) or 'none'}. Name the right column in the protocol"
        )
    return file


def _agency_file(
    con: duckdb.DuckDBPyConnection,
    agency: str,
    extract: AgencyExtract,
    folder: Path,
    key: LinkKey | None,
) -> tuple[EpisodeFile, FieldColumn, FieldColumn, str | None]:
    where = f"data.linkage.agencies.{agency}"
    options = agency_source(extract)
    file = open_agency_file(con, agency, extract, folder)
    mapping = {"person_id": extract.person, "timestamp": extract.time}
    if extract.record is not None:
        mapping["episode_id"] = extract.record
    file = stage_episode_file(con, file, options, mapping, folder, always=True, key=key)
    person = field_column("person_id", extract.person, file.types[extract.person], file.path)
    time = field_column("timestamp", extract.time, file.types[extract.time], file.path, options)
    _check_times(con, file, time, f"{where}.time")
    return file, person, time, extract.record


def _check_times(
    con: duckdb.DuckDBPyConnection, file: EpisodeFile, time: FieldColumn, where: str
) -> None:
    """An agency time that cannot be read stops the run, naming its row (as for episodes)."""
    if time.invalid is None:
        return
    found = con.execute(
        f"SELECT count(*), min(file_row_number) + 1 FROM {file.scan_sql(True)} WHERE {time.invalid}"
    ).fetchone()
    if not found or not found[0]:
        return
    count, row = int(found[0]), int(found[1])
    value = con.execute(
        f"SELECT CAST({quote_ident(time.column)} AS VARCHAR) FROM {file.scan_sql(True)} "
        f"WHERE file_row_number = {row - 1}"
    ).fetchone()
    others = f" ({count} such values in the file)" if count > 1 else ""
    raise DataError(
        f"{file.path}: row {row}: column '{time.column}' ({where}) has "
        f"{value[0] if value else None!r}, expected {time.expected}{others}; correct it, or "
        "set date_format for this agency"
    )


def _linkable(
    con: duckdb.DuckDBPyConnection,
    file: EpisodeFile,
    person: FieldColumn,
    time: FieldColumn,
    record: str | None,
) -> pd.DataFrame:
    """``record`` (row number), ``pseudonym``, ``time`` and, for agencies, ``label`` (own id)."""
    label = f", CAST({quote_ident(record)} AS VARCHAR) AS label" if record else ""
    frame = con.execute(
        f"SELECT file_row_number AS record, CAST({person.value} AS VARCHAR) AS pseudonym, "
        f"{time.value} AS time{label} FROM {file.scan_sql(True)} ORDER BY file_row_number"
    ).df()
    frame["time"] = pd.to_datetime(frame["time"])
    return frame


def _episode_ids(
    con: duckdb.DuckDBPyConnection, file: EpisodeFile, episode: FieldColumn | None
) -> pd.Series:
    if episode is None:
        return pd.Series(dtype=object)
    frame = con.execute(
        f"SELECT file_row_number AS record, CAST({episode.value} AS VARCHAR) AS id "
        f"FROM {file.scan_sql(True)}"
    ).df()
    return frame.set_index("record")["id"]


def _write_flagged(
    con: duckdb.DuckDBPyConnection,
    police: EpisodeFile,
    links: pd.DataFrame,
    agencies: list[str],
    folder: Path,
    staged: list[str],
) -> Path:
    """The staged police file plus ``linked_<agency>`` columns, atomically, in the cache."""
    flags = pd.DataFrame({"record": pd.Series(links["police_record"].unique(), dtype="int64")})
    for agency in agencies:
        linked = set(links.loc[links["agency"] == agency, "police_record"])
        flags[f"linked_{agency}"] = flags["record"].isin(linked)
    con.register("__evaltk_link_flags", flags)
    items = ", ".join(
        f"coalesce(f.{quote_ident('linked_' + a)}, FALSE) AS {quote_ident('linked_' + a)}"
        for a in agencies
    )
    tag = hashlib.sha256(
        json.dumps({"v": _LINKED_VERSION, "staged": staged, "links": len(links)}).encode()
    ).hexdigest()[:16]
    cache = folder / CACHE_DIR
    target = cache / f"linked-{tag}.parquet"
    fd, temp_name = tempfile.mkstemp(prefix=".linking-", suffix=".parquet", dir=cache)
    os.close(fd)
    temp = Path(temp_name)
    try:
        con.execute(
            f"COPY (SELECT p.* EXCLUDE (file_row_number), {items} "
            f"FROM {police.scan_sql(True)} AS p "
            "LEFT JOIN __evaltk_link_flags AS f ON f.record = p.file_row_number "
            f"ORDER BY p.file_row_number) TO {literal(str(temp))} "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
        temp.replace(target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    finally:
        con.unregister("__evaltk_link_flags")
    return target


def _link_table(
    links: pd.DataFrame,
    incidents: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    episode_ids: pd.Series,
) -> pd.DataFrame:
    """One row per link, for inspection: pseudonyms and record ids only, never an identity."""
    police = incidents.set_index("record")
    rows = []
    for agency, part in links.groupby("agency", sort=False):
        agency_rows = tables[str(agency)].set_index("record")
        labels = (
            agency_rows["label"]
            if "label" in agency_rows
            else ("row " + (agency_rows.index + 1).astype(str)).to_series(index=agency_rows.index)
        )
        rows.append(
            pd.DataFrame(
                {
                    "episode_id": episode_ids.reindex(part["police_record"]).to_numpy()
                    if len(episode_ids)
                    else None,
                    "pseudonym": police["pseudonym"].reindex(part["police_record"]).to_numpy(),
                    "incident_time": police["time"].reindex(part["police_record"]).to_numpy(),
                    "agency": agency,
                    "agency_record": labels.reindex(part["agency_record"]).to_numpy(),
                    "agency_time": agency_rows["time"].reindex(part["agency_record"]).to_numpy(),
                    "hours_after": part["hours_after"].round(3).to_numpy(),
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=list(LINK_TABLE_COLUMNS))
    return pd.concat(rows, ignore_index=True)[list(LINK_TABLE_COLUMNS)]
