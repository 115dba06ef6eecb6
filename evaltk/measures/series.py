"""A ready unit x month series (one row per month, or per unit and month) -> :class:`Panel`.

Series are small (hundreds of rows), so they are read with pandas, and every value is checked
so that an error can name its row. Conventions:

* Without ``data.exposure`` every outcome is a ``count`` (its value is the number given).
  With it, every outcome is a ``rate``: numerator = the column's value, denominator = the
  exposure, value = numerator / exposure x ``per``, where ``per`` is the outcome's
  ``measure.per`` if it has a measure and 100,000 otherwise (rates per 100,000 residents, the
  protocol convention).
* Without ``data.unit`` the series belongs to the protocol's single unit, ``units[0]``.
* The series must cover the window: a window that starts before the series' first month or
  ends after its last (over the protocol's units) is refused. A unit-month absent inside that
  range is NOT taken as zero (nobody can tell a gap from a month with no events): it is
  missing (NaN) and listed in the panel's ``empty_months``.
* Row accounting: ``period missing`` (empty period, or year or month), ``unit not in
  protocol``, ``outside analysis window``, in that order of priority.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaltk.errors import DataError
from evaltk.measures.accounting import SERIES_EXCLUSION_REASONS, row_account
from evaltk.measures.coverage import check_coverage, empty_months
from evaltk.measures.grid import long_frame, window_months
from evaltk.measures.panel import Panel
from evaltk.protocol.spec import Protocol, SeriesSource

DEFAULT_PER = 100_000


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path}: series file not found; check data.path")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            table = pd.read_parquet(path).astype(str).replace({"None": "", "nan": "", "NaT": ""})
        else:
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as error:  # pandas raises many types for a corrupt or non-tabular file
        raise DataError(f"{path}: cannot read the series ({error})") from None
    table.columns = [str(c).strip() for c in table.columns]
    return table.apply(lambda column: column.str.strip())


def _row(path: Path, i: int) -> str:
    where = f"{path}: data row {i + 1}"
    return where if path.suffix.lower() in (".parquet", ".pq") else f"{where} (line {i + 2})"


def _check_columns(table: pd.DataFrame, source: SeriesSource, path: Path) -> None:
    wanted = {
        "data.unit": source.unit,
        "data.period": source.period,
        "data.year": source.year,
        "data.month": source.month,
        "data.exposure": source.exposure,
        **{f"data.outcomes.{k}": v for k, v in source.outcomes.items()},
    }
    missing = [
        f"'{col}' (from {key})"
        for key, col in wanted.items()
        if col is not None and col not in table.columns
    ]
    if missing:
        raise DataError(
            f"{path}: column(s) {', '.join(missing)} missing; the file has "
            f"{', '.join(table.columns)}. Fix the protocol's data section or the file"
        )


def _periods(table: pd.DataFrame, source: SeriesSource, path: Path) -> pd.Series:
    """The month of every row (NaT where the period is empty); unreadable periods are errors."""
    if source.period is not None:
        text = table[source.period]
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
        bad = (text != "") & parsed.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{_row(path, i)}: period column '{source.period}' has {text.iloc[i]!r}, "
                "expected a date such as 2016-04-01"
            )
        months = pd.Series(parsed.dt.to_period("M").dt.to_timestamp(), index=table.index)
        return months.astype("datetime64[ns]")
    assert source.year is not None and source.month is not None
    year_text, month_text = table[source.year], table[source.month]
    empty = (year_text == "") | (month_text == "")
    year = pd.to_numeric(year_text, errors="coerce")
    month = pd.to_numeric(month_text, errors="coerce")
    bad = ~empty & (
        year.isna() | month.isna() | (year % 1 != 0) | (month % 1 != 0) | ~month.between(1, 12)
    )
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{_row(path, i)}: year '{year_text.iloc[i]}' / month '{month_text.iloc[i]}' "
            f"(columns '{source.year}', '{source.month}') are not a year and a month 1-12"
        )
    ok = ~empty
    periods = pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns]")
    periods[ok] = pd.to_datetime(
        {"year": year[ok].astype(int), "month": month[ok].astype(int), "day": 1}
    )
    return periods


def _numbers(table: pd.DataFrame, column: str, path: Path, positive: bool) -> np.ndarray:
    text = table[column]
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() | (values <= 0 if positive else values < 0)
    if bad.any():
        i = int(bad[bad].index[0])  # the table's RangeIndex: the row's position in the file
        need = "a positive number" if positive else "a number, 0 or more"
        raise DataError(
            f"{_row(path, i)}: column '{column}' has {text.loc[i]!r}, expected {need}; "
            "a month inside the window must have a value"
        )
    return values.to_numpy(float)


def read_series(protocol: Protocol, folder: Path) -> Panel:
    """Read a ready unit x month series into a :class:`Panel`.

    Parameters
    ----------
    protocol
        A protocol whose ``data`` is a :class:`~evaltk.protocol.spec.SeriesSource`.
    folder
        The analysis folder; ``data.path`` is relative to it.

    Raises
    ------
    DataError
        The file is missing or unreadable, a column is missing, a period or value cannot be
        read (naming the row), a unit-month is given twice, or the window runs beyond the
        series' months.
    """
    source = protocol.data
    if not isinstance(source, SeriesSource):
        raise TypeError("read_series needs a series source; use compute_panel for episodes")
    path = (Path(folder) / source.path).resolve()
    table = _read_table(path)
    _check_columns(table, source, path)
    units = list(protocol.units)
    if source.unit is None and len(units) > 1:
        raise DataError(
            f"{path}: the protocol has {len(units)} units but the series has no unit column; "
            "set data.unit to the column naming each row's unit"
        )

    periods = _periods(table, source, path)
    unit = table[source.unit] if source.unit is not None else pd.Series(units[0], table.index)
    months = window_months(protocol.window)
    # The first reason that applies, in the documented order; "" for a used row.
    reason = np.select(
        [periods.isna(), ~unit.isin(units), ~periods.isin(months)],
        list(SERIES_EXCLUSION_REASONS),
        default="",
    )
    names, counts = np.unique(reason, return_counts=True)
    account = row_account(
        str(path),
        len(table),
        {(str(k) or None): int(v) for k, v in zip(names, counts, strict=True)},
        SERIES_EXCLUSION_REASONS,
    )
    kept = pd.Series(reason == "", index=table.index)

    used = table[kept]
    keys = pd.DataFrame({"unit": unit[kept], "period": periods[kept]})
    twice = keys.duplicated(keep="first")
    if twice.any():
        i = int(np.flatnonzero(twice.to_numpy())[0])
        row = used.index[i]
        raise DataError(
            f"{_row(path, int(row))}: unit {keys['unit'].iloc[i]} month "
            f"{keys['period'].iloc[i]:%Y-%m} is given twice; keep one row per unit and month"
        )
    ours = periods[unit.isin(units) & periods.notna()]
    check_coverage(
        protocol,
        ours.min() if len(ours) else None,
        ours.max() if len(ours) else None,
        source.path,
        row="month",
    )

    unit_index = {u: i for i, u in enumerate(units)}
    month_index = {m: j for j, m in enumerate(months)}
    rows = keys["unit"].map(unit_index).to_numpy(int)
    cols = keys["period"].map(month_index).to_numpy(int)

    def grid(values: np.ndarray) -> np.ndarray:
        out = np.full((len(units), len(months)), np.nan)
        out[rows, cols] = values
        return out

    present = np.zeros((len(units), len(months)), dtype=bool)
    present[rows, cols] = True
    exposure = None
    if source.exposure is not None:
        exposure = grid(_numbers(used, source.exposure, path, True))
    outcome_ids = [o.id for o in protocol.outcomes]
    aggregate = "rate" if exposure is not None else "count"
    aggregates = dict.fromkeys(outcome_ids, aggregate)
    per = {o.id: o.measure.per if o.measure else DEFAULT_PER for o in protocol.outcomes}
    numerators = {o: grid(_numbers(used, source.outcomes[o], path, False)) for o in outcome_ids}
    denominators = dict.fromkeys(outcome_ids, exposure)
    frame = long_frame(units, months, outcome_ids, numerators, denominators, aggregates, per)
    return Panel(
        frame=frame,
        accounting=account,
        aggregates=aggregates,
        per=per,
        empty_months=tuple(empty_months(present, units, months)),
    )
