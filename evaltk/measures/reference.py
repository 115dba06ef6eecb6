"""A plain pandas implementation of the measures: the oracle the DuckDB engine is checked against.

It follows the definitions in :mod:`evaltk.measures.episodes` directly, in memory, so that it
is easy to read and to trust. The property tests compare
:func:`~evaltk.measures.episodes.compute_panel` with it on random episode tables, and the
benchmark (``bench/bench_measures.py``) times it as the "plain pandas" baseline, so it is
written the way a careful pandas user would: one column per numerator and denominator, ONE
``groupby(unit, month).sum()``, and repeat windows from a per-person ``groupby`` running
minimum and ``shift`` on the rows sorted by person and time.

It expects episodes already in canonical form (canonical column names; timestamps as
datetimes; booleans as booleans) and does not check values: reading and checking files is the
engine's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from evaltk.episodes.schema import FIELDS_BY_NAME
from evaltk.measures.accounting import CATEGORY_FIELDS, DURATION_FIELDS, EXCLUSION_REASONS
from evaltk.measures.coverage import check_coverage
from evaltk.measures.filters import normalise_condition
from evaltk.measures.panel import PANEL_COLUMNS, Panel, RowAccount
from evaltk.protocol.needed_fields import required_fields
from evaltk.protocol.spec import (
    Comparison,
    Condition,
    EpisodeSource,
    Filter,
    Measure,
    Protocol,
    RepeatWindow,
)

_NEVER = np.iinfo(np.int64).max  # "no later episode", as nanoseconds


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
        stamp = next(column for column, field in wanted.items() if field == "timestamp")
        frame = pd.read_csv(path, usecols=list(wanted), parse_dates=[stamp])
    return frame.rename(columns=wanted)


def _condition(column: pd.Series, condition: Condition) -> np.ndarray:
    present = column.notna().to_numpy()
    if isinstance(condition, Comparison):
        result = present.copy()
        for op, bound in (
            ("gt", condition.gt),
            ("ge", condition.ge),
            ("lt", condition.lt),
            ("le", condition.le),
            ("ne", condition.ne),
        ):
            if bound is not None:
                result &= getattr(column, op)(bound).fillna(False).to_numpy(bool)
        return result
    values = condition if isinstance(condition, list) else [condition]
    return present & column.isin(values).fillna(False).to_numpy(bool)


def matches(frame: pd.DataFrame, where: Filter) -> np.ndarray:
    """Rows meeting every condition of ``where``; a missing value never matches."""
    result = np.ones(len(frame), dtype=bool)
    for name, condition in where.items():
        column = frame[name]
        if name in ("episode_id", "person_id"):
            column = column.astype("string")  # ids are compared as text, as in the engine
        result &= _condition(column, normalise_condition(name, condition))
    return result


def repeats(frame: pd.DataFrame, window: RepeatWindow) -> np.ndarray:
    """Whether each episode is followed, strictly later and within ``window.within_days`` days,
    by an episode of the same person that matches ``window.among``."""
    ts = pd.to_datetime(frame["timestamp"]).to_numpy("datetime64[ns]").astype(np.int64)
    person = pd.factorize(frame["person_id"])[0]  # -1 for a missing person
    valid = (person >= 0) & frame["timestamp"].notna().to_numpy()
    rows = np.flatnonzero(valid)
    result = np.zeros(len(frame), dtype=bool)
    if len(rows) == 0:
        return result
    rows = rows[np.lexsort((ts[rows], person[rows]))]  # by person, then time
    p, t = person[rows], ts[rows]
    among_ts = np.where(matches(frame, window.among)[rows], t, _NEVER)

    # Episodes of one person at the same instant form one "instant"; none repeats another.
    new_instant = np.r_[True, (p[1:] != p[:-1]) | (t[1:] != t[:-1])]
    starts = np.flatnonzero(new_instant)
    instant = np.cumsum(new_instant) - 1
    instant_person, instant_ts = p[starts], t[starts]
    earliest_among = np.minimum.reduceat(among_ts, starts)
    # Earliest matching instant at or after each instant (running minimum from the end, per
    # person), shifted by one instant within the person: the first strictly later one.
    from_here = (
        pd.Series(earliest_among[::-1]).groupby(instant_person[::-1]).cummin().to_numpy()[::-1]
    )
    following = (
        pd.Series(from_here).groupby(instant_person).shift(-1, fill_value=_NEVER).to_numpy(np.int64)
    )
    limit = np.int64(window.within_days) * 86_400 * 10**9
    repeat = (following != _NEVER) & (following - instant_ts <= limit)

    result[rows] = repeat[instant]
    return result


def _as_float(column: pd.Series) -> np.ndarray:
    """Numbers (or booleans as 0/1) as floats, with NaN for missing values."""
    if column.dtype == object:
        column = column.map(lambda v: np.nan if v is None else float(v))
    return column.astype("Float64").to_numpy(float, na_value=np.nan)


def _quality_conditions(frame: pd.DataFrame) -> list[np.ndarray]:
    """Exclusion rules 4-8 of :mod:`evaltk.measures.accounting`, on the fields present."""
    none = np.zeros(len(frame), dtype=bool)
    if "episode_id" in frame:
        ids = frame["episode_id"]
        missing = ids.isna().to_numpy(bool)
        text = ids.astype("string")
        duplicated = (text.duplicated(keep=False) & text.notna()).to_numpy(bool)
    else:
        missing = duplicated = none
    negative = none.copy()
    for name in DURATION_FIELDS:
        if name in frame:
            negative |= (pd.to_numeric(frame[name]) < 0).fillna(False).to_numpy(bool)
    early = none.copy()
    if "admission_time" in frame:
        admitted = pd.to_datetime(frame["admission_time"])
        early = (admitted < pd.to_datetime(frame["timestamp"])).fillna(False).to_numpy(bool)
    bad_code = none.copy()
    for name in CATEGORY_FIELDS:
        if name in frame:
            column = frame[name].astype("string")
            allowed = column.isin(FIELDS_BY_NAME[name].codes).fillna(False).to_numpy(bool)
            bad_code |= column.notna().to_numpy(bool) & ~allowed
    return [missing, duplicated, negative, early, bad_code]


def high_intensity_reference(
    protocol: Protocol, measure: Measure, frame: pd.DataFrame
) -> pd.DataFrame:
    """Numerator and denominator of a high-intensity measure by unit and month (index
    ``unit, period``; only the pairs with any contact or high-intensity person), following
    :mod:`evaltk.measures.intensity`'s definition by a different route: a dense matrix of
    each person's monthly contact counts, summed over M months by differences of running
    totals."""
    assert measure.high_intensity is not None
    k, span = measure.high_intensity.min_contacts, measure.high_intensity.months
    stamp = pd.to_datetime(frame["timestamp"])
    force = frame["force"].astype("string")
    ok = stamp.notna().to_numpy() & force.isin(protocol.units).fillna(False).to_numpy(bool)
    for bad in _quality_conditions(frame):
        ok &= ~bad
    ok &= matches(frame, measure.where)
    contacts = pd.DataFrame(
        {
            "unit": force[ok].astype(object).to_numpy(),
            "person": frame["person_id"][ok].to_numpy(object),
            "month": (stamp[ok].dt.year * 12 + stamp[ok].dt.month - 1).to_numpy(int),
            "n": 1.0,
            "v": _as_float(frame[measure.field][ok]) if measure.field else np.nan,
        }
    )
    contacts["v"] = contacts["v"].fillna(0.0)
    totals = contacts.groupby(["unit", "month"])[["n", "v"]].sum()
    people = contacts[pd.notna(contacts["person"])]
    # Persons (per unit) x months as a dense matrix of contact counts; the count in the
    # ``span`` months ending with each month is a difference of running totals.
    key = people.groupby(["unit", "person"], sort=False).ngroup().to_numpy()
    names = people[["unit", "person"]].drop_duplicates().to_numpy(object)
    first = int(people["month"].min()) if len(people) else 0
    offset = people["month"].to_numpy(int) - first
    counts = np.zeros((len(names), (offset.max() + span) if len(people) else 0))
    np.add.at(counts, (key, offset), 1.0)
    running = np.cumsum(counts, axis=1)
    in_window = running - np.pad(running, ((0, 0), (span, 0)))[:, : running.shape[1]]
    who, when = np.nonzero(in_window >= k)
    flagged = pd.DataFrame({"unit": names[who, 0], "month": when + first, "person": names[who, 1]})
    if measure.aggregate == "high_intensity_people":
        out = flagged.groupby(["unit", "month"]).size().astype(float).to_frame("numerator")
        out["denominator"] = np.nan
    else:
        part = "n" if measure.aggregate == "high_intensity_share" else "v"
        theirs = people.merge(flagged, on=["unit", "month", "person"], how="inner")
        out = pd.DataFrame({"denominator": totals[part]})
        out["numerator"] = theirs.groupby(["unit", "month"])[part].sum()
        out["numerator"] = out["numerator"].fillna(0.0)
    months = out.index.get_level_values("month").to_numpy()
    out.index = pd.MultiIndex.from_arrays(
        [
            out.index.get_level_values("unit").astype(str),
            pd.to_datetime({"year": months // 12, "month": months % 12 + 1, "day": 1}),
        ],
        names=["unit", "period"],
    )
    return out[["numerator", "denominator"]]


def reference_panel(
    protocol: Protocol,
    episodes: pd.DataFrame,
    population: Mapping[tuple[str, int], float] | None = None,
    source: str = "reference",
) -> Panel:
    """The :class:`Panel` of ``protocol``'s outcomes from canonical ``episodes``, in pandas."""
    frame = episodes.reset_index(drop=True)
    month = pd.to_datetime(frame["timestamp"]).to_numpy("datetime64[ns]").astype("datetime64[M]")
    first = np.datetime64(protocol.window.start, "M")
    last = np.datetime64(protocol.window.end, "M")
    force = frame["force"].astype("string")
    reason = np.select(
        [
            np.isnat(month),
            ~force.isin(protocol.units).fillna(False).to_numpy(bool),
            (month < first) | (month > last),
            *_quality_conditions(frame),
        ],
        list(EXCLUSION_REASONS),
        default="",
    )
    # The window must lie within the extract's months of the protocol's units, as in
    # compute_panel (whatever the rows' quality or window).
    ours = month[~np.isnat(month) & force.isin(protocol.units).fillna(False).to_numpy(bool)]
    if len(ours):
        check_coverage(
            protocol,
            pd.Timestamp(ours.min().astype("datetime64[ns]")),
            pd.Timestamp(ours.max().astype("datetime64[ns]")),
            source,
        )
    counts = pd.Series(reason).value_counts()
    account = RowAccount(
        source=source,
        rows_in=len(frame),
        rows_used=int(counts.get("", 0)),
        excluded={r: int(counts.get(r, 0)) for r in EXCLUSION_REASONS},
    )

    # One column per numerator and denominator, then one groupby over the used rows.
    # "rows" counts the used rows: a unit-month without any is missing data.
    columns: dict[str, np.ndarray] = {"rows": np.ones(len(frame))}
    repeat_cache: dict[str, np.ndarray] = {}
    per_person: dict[str, pd.DataFrame] = {}
    people: dict[str, np.ndarray] = {}  # per_person measures: rows whose person counts
    for outcome in protocol.outcomes:
        measure = outcome.measure
        assert measure is not None
        if measure.kind.over_people:
            per_person[outcome.id] = high_intensity_reference(protocol, measure, frame)
            continue
        match = matches(frame, measure.where)
        if measure.repeat is not None:
            key = measure.repeat.model_dump_json()
            if key not in repeat_cache:
                repeat_cache[key] = repeats(frame, measure.repeat)
            match = match & repeat_cache[key]
        if measure.kind.counts_events:
            columns[f"num {outcome.id}"] = match.astype(float)
        else:
            assert measure.field is not None
            value = _as_float(frame[measure.field])
            counted = match & ~np.isnan(value)
            columns[f"num {outcome.id}"] = np.where(counted, value, 0.0)
            if measure.aggregate == "mean":
                columns[f"den {outcome.id}"] = counted.astype(float)
            if measure.kind.per_person:
                people[outcome.id] = match & frame["person_id"].notna().to_numpy(bool)
        if measure.aggregate == "share":
            columns[f"den {outcome.id}"] = matches(frame, measure.denominator or {}).astype(float)
    used = reason == ""
    sums = (
        pd.DataFrame(columns)[used]
        .groupby([force[used].to_numpy(object), month[used].astype("datetime64[ns]")])
        .sum()
    )
    months = pd.date_range(first.astype("datetime64[ns]"), last.astype("datetime64[ns]"), freq="MS")
    grid = pd.MultiIndex.from_product([list(protocol.units), months], names=["unit", "period"])
    # A unit-month without a single used row is missing data (NaN), as in compute_panel.
    sums = sums.reindex(grid)

    pieces: list[pd.DataFrame] = []
    for outcome in protocol.outcomes:
        measure = outcome.measure
        assert measure is not None
        piece = pd.DataFrame(index=grid)
        if outcome.id in per_person:
            # Zero where nothing was counted; missing where the unit-month has no used row.
            counted = per_person[outcome.id].reindex(grid).fillna(0.0)
            counted.loc[sums["rows"].isna().to_numpy(), :] = np.nan
            piece["numerator"] = counted["numerator"]
            piece["denominator"] = (
                counted["denominator"] if measure.kind.has_denominator else np.nan
            )
        elif outcome.id in people:
            piece["numerator"] = sums[f"num {outcome.id}"]
            rows = people[outcome.id] & used
            distinct = (
                frame.loc[rows, "person_id"]
                .astype(str)
                .groupby([force[rows].to_numpy(object), month[rows].astype("datetime64[ns]")])
                .nunique()
            )
            piece["denominator"] = distinct.reindex(grid).fillna(0.0).astype(float)
            piece.loc[piece["numerator"].isna(), "denominator"] = np.nan
        elif measure.kind.per_incident:
            piece["numerator"] = sums[f"num {outcome.id}"]
            piece["denominator"] = sums[f"den {outcome.id}"]
        elif measure.kind.per_population:
            piece["numerator"] = sums[f"num {outcome.id}"]
            assert population is not None
            piece["denominator"] = [population[(u, p.year)] for u, p in grid]
            piece.loc[piece["numerator"].isna(), "denominator"] = np.nan
        else:
            piece["numerator"] = sums[f"num {outcome.id}"]
            piece["denominator"] = np.nan
        if not measure.kind.has_denominator:
            piece["value"] = piece["numerator"]
        else:
            piece["value"] = piece["numerator"] / piece["denominator"].replace(0.0, np.nan)
            if measure.kind.per_population:
                piece["value"] *= measure.per
        piece["outcome"] = outcome.id
        piece["outcome_order"] = len(pieces)
        pieces.append(piece.reset_index())
    unit_order = {u: i for i, u in enumerate(protocol.units)}
    long = pd.concat(pieces, ignore_index=True)
    long["unit_order"] = long["unit"].map(unit_order)
    long = long.sort_values(["unit_order", "period", "outcome_order"]).reset_index(drop=True)
    long = long[list(PANEL_COLUMNS)].astype({"numerator": float, "denominator": float})
    long["unit"] = long["unit"].astype(str)
    long["outcome"] = long["outcome"].astype(str)
    long["period"] = long["period"].astype("datetime64[ns]")
    return Panel(
        frame=long,
        accounting=account,
        aggregates={o.id: o.measure.aggregate for o in protocol.outcomes if o.measure},
        per={o.id: o.measure.per for o in protocol.outcomes if o.measure},
        empty_months=tuple(
            f"{u} {p:%Y-%m}" for (u, p), missing in sums["rows"].isna().items() if missing
        ),
    )
