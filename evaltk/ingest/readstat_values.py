"""Value labels and dates of SPSS, Stata and SAS files, applied by column after pyreadstat.

pyreadstat can apply value labels (``apply_value_formats``) and turn date numbers into
dates itself, but it does both value by value in Python: a ``datetime`` object per date, a
pandas ``replace`` per labelled column after copying the frame. On a 5-million-row extract
that is about a third of the reading time. Here pyreadstat reads raw codes and raw date
numbers, and :func:`decode` gives the same values by column:

* a labelled column: each distinct value is looked up once (label, or the value itself when
  it has no label, as pyreadstat does) and the result indexed by the codes;
* a date or date-time column: the number is turned into microseconds with the same
  arithmetic pyreadstat uses (floor to days, seconds truncated, microseconds rounded half to
  even for SPSS and SAS date-times; milliseconds truncated for Stata), in numpy.

Which columns are dates follows pyreadstat's own reading of a column's display format
(:func:`date_kind`). A file with a time-of-day column (pyreadstat gives ``datetime.time``)
is not decoded here: :func:`plan` returns ``None`` and the caller lets pyreadstat convert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaltk.errors import DataError

# pyreadstat's reading of a display format: a name, then an optional width and decimals.
_FORMAT = re.compile(r"^([A-Z][A-Z0-9]+[A-Z])(\d+)?(?(2)(?:\.\d*)?$|\.?$)")
_SAS_DATES = {
    "WEEKDATE", "MMDDYY", "DDMMYY", "YYMMDD", "DATE", "DDMMYYB", "DDMMYYC", "DDMMYYD",
    "DDMMYYN", "DDMMYYP", "DDMMYYS", "MMDDYYB", "MMDDYYC", "MMDDYYD", "MMDDYYN", "MMDDYYP",
    "MMDDYYS", "WEEKDATX", "DTDATE", "IS8601DA", "E8601DA", "B8601DA", "YYMMDDB", "YYMMDDD",
    "YYMMDDN", "YYMMDDP", "YYMMDDS",
}  # fmt: skip
_SAS_DATETIMES = {"DATETIME", "E8601DT", "DATEAMPM", "MDYAMPM", "IS8601DT", "B8601DT", "B8601DN"}
_SAS_TIMES = {"TIME", "HHMM", "TOD", "TIMEAMPM", "IS8601TM", "E8601TM", "B8601TM"}
_SPSS_DATES = {"DATE", "ADATE", "EDATE", "JDATE", "SDATE"}
_SPSS_DATETIMES = {"DATETIME", "YMDHMS"}
_SPSS_TIMES = {"TIME", "DTIME"}
_STATA_DATES = {"%td", "%d", "%tdD_m_Y", "%tdCCYY-NN-DD"}
_STATA_DATETIMES = {"%tC", "%tc"}
_STATA_TIMES = {"%tcHH:MM:SS", "%tcHH:MM"}

# Seconds from each format's day zero to 1970-01-01.
_EPOCH_SECONDS = {"sav": 12_219_379_200, "dta": 315_619_200, "sas7bdat": 315_619_200}
_EPOCH_SECONDS["xpt"] = _EPOCH_SECONDS["sas7bdat"]
_DAY = 86_400
# Python's datetime range (pyreadstat fails outside it), in microseconds from 1970.
_MIN_US = -62_135_596_800_000_000
_MAX_US = 253_402_300_799_999_999


def date_kind(fmt: str, display: str | None) -> str | None:
    """``'date'``, ``'datetime'``, ``'time'`` or ``None``, as pyreadstat reads ``display``."""
    if not display:
        return None
    if fmt == "dta":
        sets = (_STATA_DATES, _STATA_DATETIMES, _STATA_TIMES)
        name = display
    else:
        match = _FORMAT.match(display)
        if not match:
            return None
        name = match.group(1)
        spss = fmt == "sav"
        sets = (
            (_SPSS_DATES, _SPSS_DATETIMES, _SPSS_TIMES)
            if spss
            else (_SAS_DATES, _SAS_DATETIMES, _SAS_TIMES)
        )
    for kind, names in zip(("date", "datetime", "time"), sets, strict=True):
        if name in names:
            return kind
    return None


@dataclass(frozen=True)
class Plan:
    """What to decode in each chunk: labels per column, and the date columns with their kind."""

    fmt: str
    labels: dict[str, dict[Any, Any]]
    dates: dict[str, str]  # column -> 'date' | 'datetime'


def plan(fmt: str, meta: Any, columns: list[str]) -> Plan | None:
    """How to decode ``columns`` (from pyreadstat's metadata), or ``None``: pyreadstat does it.

    ``None`` when a column is a time of day (pyreadstat gives ``datetime.time`` objects, kept
    as they were) or the format has no known day zero.
    """
    if fmt not in _EPOCH_SECONDS:
        return None
    displays = meta.original_variable_types or {}
    dates: dict[str, str] = {}
    for name in columns:
        kind = date_kind(fmt, displays.get(name))
        if kind == "time":
            return None
        if kind is not None:
            dates[name] = kind
    # The label sets pyreadstat's apply_value_formats uses: variable -> label set -> labels.
    sets = meta.value_labels or {}
    labels = {}
    for name, set_name in (meta.variable_to_label or {}).items():
        if name in columns and sets.get(set_name):
            labels[name] = dict(sets[set_name])
    return Plan(fmt, labels, dates)


def decode(
    frame: pd.DataFrame, plan: Plan, path: Any, first_row: int
) -> dict[str, pd.Series | Labelled]:
    """The columns of a raw chunk, with labels applied and dates as ``datetime64[us]``.

    ``first_row`` (1-based) is the chunk's first row in the file, for error messages.
    """
    out: dict[str, pd.Series | Labelled] = {}
    for name in frame.columns:
        series = frame[name]
        if name in plan.dates:
            out[name] = _dates(series, plan.fmt, plan.dates[name], f"{path}", first_row)
        elif name in plan.labels:
            out[name] = Labelled.of(series, plan.labels[name])
        else:
            out[name] = series
    return out


class Labelled:
    """A labelled column: its distinct values looked up once, and a code per row.

    :meth:`values` gives what pyreadstat's ``apply_value_formats`` gives (the label, else the
    value; missing stays missing); ``uniques`` and ``codes`` let a caller convert each
    distinct value once.
    """

    def __init__(self, uniques: list[Any], codes: np.ndarray, name: Any) -> None:
        self.uniques = uniques
        self.codes = codes
        self.name = name

    @classmethod
    def of(cls, series: pd.Series, labels: dict[Any, Any]) -> Labelled:
        codes, distinct = pd.factorize(series, use_na_sentinel=True)
        uniques = [labels.get(value, value) for value in list(distinct)]
        return cls(uniques, np.asarray(codes), series.name)

    def __len__(self) -> int:
        return len(self.codes)

    def values(self) -> pd.Series:
        """Label or value per row, as an object column (``None`` for a missing value)."""
        table = np.empty(len(self.uniques) + 1, dtype=object)
        table[: len(self.uniques)] = self.uniques
        table[-1] = None
        return pd.Series(table[self.codes], dtype=object, name=self.name)


def _dates(series: pd.Series, fmt: str, kind: str, path: str, first_row: int) -> pd.Series:
    numbers = series.to_numpy(dtype=float, na_value=np.nan)
    missing = np.isnan(numbers)
    t = np.where(missing, 0.0, numbers)
    with np.errstate(invalid="ignore", over="ignore"):
        if fmt == "dta" and kind == "datetime":  # milliseconds
            days = np.floor(t / (_DAY * 1000.0))
            millis = np.mod(t, _DAY * 1000.0)
            seconds = np.trunc(millis / 1000.0)
            micros = np.trunc(np.mod(millis, 1000.0) * 1000.0)
        elif fmt == "sav" or kind == "datetime":  # seconds (SPSS dates too)
            days = np.floor(t / _DAY)
            seconds = np.trunc(np.mod(t, float(_DAY)))
            micros = np.round(np.mod(t, 1.0) * 1e6) if kind == "datetime" else np.zeros_like(t)
        else:  # days (Stata and SAS dates)
            days = np.trunc(t)
            seconds = micros = np.zeros_like(t)
        total = (days * _DAY + seconds - _EPOCH_SECONDS[fmt]) * 1e6 + micros
    bad = ~missing & ~((total >= _MIN_US) & (total <= _MAX_US))
    if bad.any():
        raise DataError(
            f"{path}: row {first_row + int(np.argmax(bad))}, column '{series.name}': a date "
            "outside the years 1 to 9999; correct or blank it in the file"
        )
    # Whole microseconds well inside int64; exact, since each part is whole and < 2**53.
    as_int = (days.astype(np.int64) * _DAY + seconds.astype(np.int64) - _EPOCH_SECONDS[fmt]) * (
        1_000_000
    ) + micros.astype(np.int64)
    stamps = as_int.view("datetime64[us]").copy()
    stamps[missing] = np.datetime64("NaT")
    return pd.Series(stamps, name=series.name)
