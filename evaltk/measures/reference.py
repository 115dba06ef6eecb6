"""A plain pandas implementation of the measures: the oracle the DuckDB engine is checked against.

It follows the definitions in :mod:`evaltk.measures.episodes` line by line, in memory and
without any cleverness, so that it is easy to read and to trust. The property tests compare
:func:`~evaltk.measures.episodes.compute_panel` with it on random episode tables, and the
benchmark (``bench/bench_measures.py``) times it as the "plain pandas" baseline. It expects
episodes already in canonical form (canonical column names; timestamps as datetimes; booleans
as booleans) and does not check values: reading and checking files is the engine's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from evaltk.measures.accounting import EXCLUSION_REASONS
from evaltk.measures.panel import PANEL_COLUMNS, Panel, RowAccount
from evaltk.measures.source import required_fields
from evaltk.measures.sql import normalise_condition
from evaltk.protocol.spec import Comparison, EpisodeSource, Filter, Protocol, RepeatWindow


def read_canonical(protocol: Protocol, folder: Path) -> pd.DataFrame:
    """Read the protocol's episode file with pandas, keeping and renaming the needed columns.

    For benchmarks and tests on canonical files; it does not parse text values.
    """
    source = protocol.data
    assert isinstance(source, EpisodeSource)
    path = Path(folder) / source.path
    wanted = {source.columns.get(f, f): f for f in required_fields(protocol)}
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(path, columns=list(wanted))
    else:
        frame = pd.read_csv(path, usecols=list(wanted), parse_dates=[_inverse(wanted)])
    return frame.rename(columns=wanted)


def _inverse(wanted: Mapping[str, str]) -> str:
    return next(column for column, field in wanted.items() if field == "timestamp")


def _condition(column: pd.Series, condition) -> pd.Series:
    present = column.notna()
    if isinstance(condition, Comparison):
        result = present.copy()
        for op, bound in (
            ("gt", condition.gt), ("ge", condition.ge), ("lt", condition.lt),
            ("le", condition.le), ("ne", condition.ne),
        ):  # fmt: skip
            if bound is not None:
                result &= getattr(column, op)(bound).fillna(False).astype(bool)
        return result
    values = condition if isinstance(condition, list) else [condition]
    return present & column.isin(values).fillna(False).astype(bool)


def matches(frame: pd.DataFrame, where: Filter) -> pd.Series:
    """Rows meeting every condition of ``where``; a missing value never matches."""
    result = pd.Series(True, index=frame.index)
    for name, condition in where.items():
        column = frame[name]
        if name in ("episode_id", "person_id"):
            column = column.astype("string")  # ids are compared as text, as in the engine
        result &= _condition(column, normalise_condition(name, condition))
    return result


def repeats(frame: pd.DataFrame, window: RepeatWindow) -> pd.Series:
    """Whether each episode is followed by one of the same person (matching ``among``) within
    ``window.within_days`` days, strictly later: groupby on the person, then shift."""
    valid = frame["person_id"].notna() & frame["timestamp"].notna()
    person = pd.factorize(frame["person_id"])[0]
    ts = frame["timestamp"].to_numpy("datetime64[ns]").astype(np.int64)
    among = matches(frame, window.among).to_numpy() & valid.to_numpy()
    never = np.iinfo(np.int64).max
    # One row per distinct (person, instant): the earliest matching episode at that instant.
    keys = pd.DataFrame({"person": person, "ts": ts, "among_ts": np.where(among, ts, never)})
    keys = keys[valid.to_numpy()]
    per_instant = keys.groupby(["person", "ts"], sort=True)["among_ts"].min().reset_index()
    # The earliest matching instant strictly after each instant: a reversed running minimum
    # within the person, shifted by one instant.
    reversed_min = per_instant.iloc[::-1].groupby("person")["among_ts"].cummin().iloc[::-1]
    per_instant["next_ts"] = (
        reversed_min.groupby(per_instant["person"]).shift(-1).fillna(never).astype(np.int64)
    )
    limit = np.int64(window.within_days) * 86_400 * 10**9
    per_instant["repeat"] = (per_instant["next_ts"] != never) & (
        per_instant["next_ts"] - per_instant["ts"] <= limit
    )
    flags = keys[["person", "ts"]].merge(per_instant, on=["person", "ts"], how="left")
    result = pd.Series(False, index=frame.index)
    result[valid.to_numpy()] = flags["repeat"].to_numpy()
    return result


def reference_panel(
    protocol: Protocol,
    episodes: pd.DataFrame,
    population: Mapping[tuple[str, int], float] | None = None,
    source: str = "reference",
) -> Panel:
    """The :class:`Panel` of ``protocol``'s outcomes from canonical ``episodes``, in pandas."""
    frame = episodes.reset_index(drop=True)
    ts = pd.to_datetime(frame["timestamp"])
    period = ts.dt.to_period("M").dt.to_timestamp()
    first = pd.Timestamp(protocol.window.start).to_period("M").to_timestamp()
    last = pd.Timestamp(protocol.window.end).to_period("M").to_timestamp()
    force = frame["force"].astype("string")
    reason = np.select(
        [ts.isna(), ~force.isin(protocol.units).fillna(False), (period < first) | (period > last)],
        list(EXCLUSION_REASONS),
        default="",
    )
    counts = pd.Series(reason).value_counts()
    account = RowAccount(
        source=source,
        rows_in=len(frame),
        rows_used=int(counts.get("", 0)),
        excluded={r: int(counts.get(r, 0)) for r in EXCLUSION_REASONS},
    )

    used = reason == ""
    grid = pd.MultiIndex.from_product(
        [list(protocol.units), pd.date_range(first, last, freq="MS")], names=["unit", "period"]
    )
    keys = [force[used].to_numpy(object), period[used].to_numpy()]
    flag_cache: dict[str, pd.Series] = {}
    pieces = []
    for outcome in protocol.outcomes:
        measure = outcome.measure
        assert measure is not None
        match = matches(frame, measure.where)
        if measure.repeat is not None:
            key = measure.repeat.model_dump_json()
            if key not in flag_cache:
                flag_cache[key] = repeats(frame, measure.repeat)
            match &= flag_cache[key]
        piece = pd.DataFrame(index=grid)
        if measure.aggregate in ("count", "rate", "share"):
            counted = match[used].astype(float)
            piece["numerator"] = _by_unit_month(counted, keys, grid)
        else:
            values = pd.Series(_as_float(frame[measure.field]), index=frame.index)
            selected = values.where(match)[used]
            piece["numerator"] = _by_unit_month(selected.fillna(0.0), keys, grid)
            if measure.aggregate == "mean":
                piece["denominator"] = _by_unit_month(selected.notna().astype(float), keys, grid)
        if measure.aggregate == "share":
            denominator = matches(frame, measure.denominator or {})[used].astype(float)
            piece["denominator"] = _by_unit_month(denominator, keys, grid)
        if measure.aggregate == "rate":
            assert population is not None
            piece["denominator"] = [population[(u, p.year)] for u, p in grid]
        if "denominator" not in piece:
            piece["denominator"] = np.nan
        if measure.aggregate in ("count", "sum"):
            piece["value"] = piece["numerator"]
        else:
            den = piece["denominator"].replace(0.0, np.nan)
            piece["value"] = piece["numerator"] / den
            if measure.aggregate == "rate":
                piece["value"] *= measure.per
        piece["outcome"] = outcome.id
        pieces.append(piece.reset_index())
    order = {o.id: i for i, o in enumerate(protocol.outcomes)}
    unit_order = {u: i for i, u in enumerate(protocol.units)}
    long = pd.concat(pieces, ignore_index=True)
    long = long.sort_values(
        ["unit", "period", "outcome"],
        key=lambda c: (
            c.map(unit_order) if c.name == "unit" else (c.map(order) if c.name == "outcome" else c)
        ),
        kind="stable",
    ).reset_index(drop=True)
    long = long[list(PANEL_COLUMNS)].astype({"numerator": float, "denominator": float})
    long["unit"] = long["unit"].astype(str)
    long["outcome"] = long["outcome"].astype(str)
    long["period"] = long["period"].astype("datetime64[ns]")
    return Panel(
        frame=long,
        accounting=account,
        aggregates={o.id: o.measure.aggregate for o in protocol.outcomes if o.measure},
        per={o.id: o.measure.per for o in protocol.outcomes if o.measure},
    )


def _by_unit_month(values: pd.Series, keys: Sequence[np.ndarray], grid: pd.MultiIndex):
    summed = values.groupby([keys[0], keys[1]]).sum()
    summed.index.names = ["unit", "period"]
    return summed.reindex(grid, fill_value=0.0).to_numpy(float)


def _as_float(column: pd.Series) -> np.ndarray:
    """Numbers (or booleans as 0/1) as floats, with NaN for missing values."""
    if column.dtype == object:
        column = column.map(lambda v: np.nan if v is None else float(v))
    return column.astype("Float64").to_numpy(float, na_value=np.nan)
