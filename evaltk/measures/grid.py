"""The complete unit x month grid of a window, and the long panel frame laid out on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from evaltk.measures.panel import PANEL_COLUMNS
from evaltk.protocol.aggregates import aggregate_kind
from evaltk.protocol.spec import Window


def month_floor(day: dt.date) -> dt.date:
    return day.replace(day=1)


def window_months(window: Window) -> pd.DatetimeIndex:
    """First days of the months from ``window.start`` to ``window.end``, both inclusive.

    The window works in whole months: a start of 2014-01-15 still includes all of January.
    """
    months = pd.date_range(month_floor(window.start), month_floor(window.end), freq="MS")
    return pd.DatetimeIndex(months, dtype="datetime64[ns]")


def measure_value(
    aggregate: str, numerator: np.ndarray, denominator: np.ndarray, per: float
) -> np.ndarray:
    """The value of a measure from its numerator and denominator, by aggregate.

    Share and mean with a zero denominator are NaN (undefined), never 0.
    """
    if not aggregate_kind(aggregate).has_denominator:
        return numerator.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator / np.where(denominator == 0, np.nan, denominator)
    return ratio * per if aggregate_kind(aggregate).per_population else ratio


def long_frame(
    units: Sequence[str],
    months: pd.DatetimeIndex,
    outcomes: Sequence[str],
    numerators: Mapping[str, np.ndarray],
    denominators: Mapping[str, np.ndarray | None],
    aggregates: Mapping[str, str],
    per: Mapping[str, int],
) -> pd.DataFrame:
    """The panel frame: one row per unit, month and outcome, in that order of sorting.

    Parameters
    ----------
    numerators, denominators
        Outcome id -> array of shape ``(len(units), len(months))``; a denominator of ``None``
        (counts, sums) becomes NaN.
    """
    shape = (len(units), len(months), len(outcomes))
    num = np.empty(shape)
    den = np.empty(shape)
    val = np.empty(shape)
    for k, outcome in enumerate(outcomes):
        n = np.asarray(numerators[outcome], dtype=float)
        d_given = denominators.get(outcome)
        d = np.full(n.shape, np.nan) if d_given is None else np.asarray(d_given, dtype=float)
        num[:, :, k] = n
        den[:, :, k] = d
        val[:, :, k] = measure_value(aggregates[outcome], n, d, per[outcome])
    frame = pd.DataFrame(
        {
            "unit": np.repeat(np.asarray(units, dtype=object), len(months) * len(outcomes)),
            "period": np.tile(np.repeat(months.to_numpy(), len(outcomes)), len(units)),
            "outcome": np.tile(np.asarray(outcomes, dtype=object), len(units) * len(months)),
            "numerator": num.ravel(),
            "denominator": den.ravel(),
            "value": val.ravel(),
        },
        columns=list(PANEL_COLUMNS),
    )
    frame["unit"] = frame["unit"].astype(str)
    frame["outcome"] = frame["outcome"].astype(str)
    return frame
