"""What ``evaltk validate`` checks of an analysis's data before any run, without its outcomes.

A first draft of a protocol usually fails on its files, not its statistics: a ``data.path``
that does not exist, a column named differently, dates written day-first, a window that
runs past the extract, a population table one year short. ``evaltk run`` finds all of these,
but only after a long scan; this module finds them first, reading as little as it can:

* each file named (episodes, a linked agency's extract, the population table, a ready series)
  exists, is readable in the format its extension or ``format`` says, and has every column
  the protocol maps (the header only; a parquet file's footer);
* the period the file covers, for the protocol's units, holds the analysis window: only the
  timestamp and force columns are read (DuckDB reads no other column of a parquet file; an
  SPSS, Stata, SAS or Excel file is staged with those two columns into a temporary folder,
  never into the analysis folder), and a timestamp that cannot be read is named by its row
  with the format expected;
* the population table has a row for every unit and calendar year of the window.

No outcome is counted, no model fitted and nothing written to the analysis folder. Every
failure is the one-line :class:`~evaltk.errors.DataError` that ``evaltk run`` would give.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from evaltk.errors import DataError
from evaltk.ingest.engine import EngineSettings, connect
from evaltk.ingest.field_sql import field_columns
from evaltk.ingest.source import (
    EpisodeFile,
    first_line,
    map_columns,
    open_episode_file,
    stage_episode_file,
)
from evaltk.ingest.sql import literal, quote_ident
from evaltk.linkage.pipeline import open_agency_file
from evaltk.measures.coverage import check_coverage
from evaltk.measures.diagnose import invalid_value_error
from evaltk.measures.grid import window_months
from evaltk.measures.population import population_for, read_population
from evaltk.protocol.needed_fields import CHECKED_IF_PRESENT, provided_by_linkage, required_fields
from evaltk.protocol.spec import EpisodeSource, Protocol, SeriesSource

#: Small: validate reads two columns, and may run beside another engineer's `evaltk run`.
_SETTINGS = EngineSettings(threads=1, memory_limit="1GiB")


@dataclass(frozen=True)
class Checked:
    """One file that passed, and what was checked of it (printed by ``evaltk validate``)."""

    path: Path
    what: str


def check_data(protocol: Protocol, folder: Path) -> list[Checked]:
    """Check every data file ``protocol`` names, relative to the analysis ``folder``.

    Returns
    -------
    list of Checked
        One per file, in the order they were checked.

    Raises
    ------
    DataError
        The first problem found, on one line naming the file (and row or column) and what to do.
    """
    folder = Path(folder)
    source = protocol.data
    if isinstance(source, SeriesSource):
        return [_check_series(protocol, source, folder)]
    assert isinstance(source, EpisodeSource)
    checked = [_check_episodes(protocol, source, folder)]
    if source.linkage is not None:
        con = connect(_SETTINGS)
        try:
            for agency, extract in source.linkage.agencies.items():
                file = open_agency_file(con, agency, extract, folder)
                checked.append(Checked(file.path, f"{agency} extract, columns present"))
        finally:
            con.close()
    rate_ids = [o.id for o in protocol.outcomes if o.measure and o.measure.kind.per_population]
    if rate_ids and source.population is not None:
        path = (folder / source.population).resolve()
        years = sorted(set(window_months(protocol.window).year))
        population_for(read_population(path), protocol.units, years, path, rate_ids)
        checked.append(Checked(path, f"population for every unit, {years[0]} to {years[-1]}"))
    return checked


def _check_episodes(protocol: Protocol, source: EpisodeSource, folder: Path) -> Checked:
    con = connect(_SETTINGS)
    try:
        file = open_episode_file(con, source, folder)
        mapping = map_columns(
            file,
            source,
            required_fields(protocol),
            read_if_present=CHECKED_IF_PRESENT,
            provided=provided_by_linkage(protocol),
        )
        span = {name: mapping[name] for name in ("timestamp", "force")}
        with tempfile.TemporaryDirectory(prefix="evaltk-validate-") as scratch:
            # Raw identifiers are not among the two columns, so no linkage key is needed.
            staged = stage_episode_file(con, file, source, span, Path(scratch))
            first, last = _span(con, staged, span, source, protocol)
    finally:
        con.close()
    check_coverage(protocol, first, last, source.path)
    return Checked(
        file.path,
        f"{len(mapping)} mapped columns present; rows of {', '.join(protocol.units)} from "
        f"{first:%Y-%m} to {last:%Y-%m} cover the window",
    )


def _span(
    con: duckdb.DuckDBPyConnection,
    file: EpisodeFile,
    span: dict[str, str],
    source: EpisodeSource,
    protocol: Protocol,
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last month of the file's rows of the protocol's units."""
    fields = field_columns(file, span, source)
    time, force = fields["timestamp"], fields["force"]
    units = ", ".join(literal(u) for u in protocol.units)
    invalid = time.invalid or "false"
    query = (
        f"SELECT count(*) FILTER (WHERE {invalid}), "
        f"min(date_trunc('month', {time.value})) FILTER (WHERE ours), "
        f"max(date_trunc('month', {time.value})) FILTER (WHERE ours), "
        "count(*) FILTER (WHERE ours) "
        f"FROM (SELECT *, try_cast({force.value} AS ENUM({units})) IS NOT NULL AS ours "
        f"FROM {file.scan_sql()})"
    )
    try:
        row = con.execute(query).fetchone()
    except duckdb.Error as error:
        raise DataError(
            f"{file.path}: cannot read its '{time.column}' and '{force.column}' columns "
            f"({first_line(error)}); check that the file is complete and really {file.format}"
        ) from None
    assert row is not None
    bad, first, last, ours = row
    if bad:
        raise invalid_value_error(file, time, int(bad))
    if not ours or first is None or last is None:
        seen = con.execute(
            f"SELECT {quote_ident(force.column)} FROM {file.scan_sql()} GROUP BY 1 "
            "ORDER BY count(*) DESC, 1 LIMIT 6"
        ).fetchall()
        raise DataError(
            f"{file.path}: no dated rows for unit(s) {', '.join(protocol.units)}; column "
            f"'{force.column}' holds e.g. {', '.join(str(r[0]) for r in seen) or 'nothing'}. "
            "Check the force codes in 'units' and in the file"
        )
    return pd.Timestamp(first), pd.Timestamp(last)


def _check_series(protocol: Protocol, source: SeriesSource, folder: Path) -> Checked:
    path = (folder / source.path).resolve()
    if not path.is_file():
        raise DataError(
            f"{path}: series file not found; check data.path ('{source.path}', relative to "
            f"{folder})"
        )
    columns = {
        "data.unit": source.unit,
        "data.period": source.period,
        "data.year": source.year,
        "data.month": source.month,
        "data.exposure": source.exposure,
        **{f"data.outcomes.{k}": v for k, v in source.outcomes.items()},
    }
    parquet = path.suffix.lower() in (".parquet", ".pq")
    try:
        if parquet:
            import pyarrow.parquet as pq

            header = [str(n).strip() for n in pq.read_schema(path).names]
        else:
            header = [str(c).strip() for c in pd.read_csv(path, nrows=0).columns]
    except Exception as error:  # pandas and pyarrow raise many types for a non-tabular file
        raise DataError(
            f"{path}: cannot read the series header ({str(error).splitlines()[0]}); check that "
            "data.path names a CSV or parquet file"
        ) from None
    missing = [f"'{c}' (from {k})" for k, c in columns.items() if c is not None and c not in header]
    if missing:
        raise DataError(
            f"{path}: column(s) {', '.join(missing)} missing; the file has "
            f"{', '.join(header)}. Fix the protocol's data section or the file"
        )
    # Only the period columns (and the unit, to keep the protocol's units) are read.
    wanted = [c for c in (source.unit, source.period, source.year, source.month) if c]
    if parquet:
        table = pd.read_parquet(path, columns=wanted).astype(str)
    else:
        table = pd.read_csv(path, usecols=wanted, dtype=str, keep_default_na=False)
    table.columns = [str(c).strip() for c in table.columns]
    if source.unit is not None:
        table = table[table[source.unit].str.strip().isin(protocol.units)]
    if source.period is not None:
        months = pd.to_datetime(table[source.period].str.strip(), errors="coerce", format="ISO8601")
    else:
        assert source.year is not None and source.month is not None
        months = pd.to_datetime(
            {
                "year": pd.to_numeric(table[source.year], errors="coerce"),
                "month": pd.to_numeric(table[source.month], errors="coerce"),
                "day": 1,
            },
            errors="coerce",
        )
    months = months.dropna()
    if months.empty:
        raise DataError(
            f"{path}: no dated rows for unit(s) {', '.join(protocol.units)}; check 'units' "
            "and the period column(s) named in data"
        )
    first, last = months.min().to_period("M").to_timestamp(), months.max().to_period("M")
    check_coverage(protocol, first, last.to_timestamp(), source.path, row="month")
    return Checked(
        path,
        f"columns present; months from {first:%Y-%m} to {last:%Y-%m} cover the window",
    )
