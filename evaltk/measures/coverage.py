"""The window and the data must agree: no month of the window may lie beyond the extract.

A month inside the window but outside the extract would otherwise be counted as zero events,
and an end date past the extract then produces a large, false effect. So:

* the extract's first and last month (over the rows of the protocol's units, whatever their
  month) must cover the window's first and last month, or the run is refused
  (:func:`check_coverage`);
* a unit-month inside that range with no rows at all is almost always missing data (a force
  extract does not have a month without a single incident): it is listed
  (:func:`empty_months`) and its values are missing (NaN), never zero (:func:`blank`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evaltk.errors import DataError
from evaltk.protocol.spec import Protocol


def check_coverage(
    protocol: Protocol,
    first: pd.Timestamp | None,
    last: pd.Timestamp | None,
    data_path: str,
    row: str = "incident",
) -> None:
    """Refuse a window that starts before ``first`` or ends after ``last`` (months of the data).

    Parameters
    ----------
    protocol
        The protocol whose ``window`` is checked.
    first, last
        The first and last month holding a row of the protocol's units; None when the data
        hold no such row, which is left to the caller's own check (it names the units).
    data_path
        The data file as the protocol names it, for the message.
    row
        What one row of the data is, for the message ("incident", "month").

    Raises
    ------
    DataError
        One line naming the window's date and the data's month, and what to do.
    """
    if first is None or last is None:
        return
    window = protocol.window
    if pd.Timestamp(window.start.replace(day=1)) < first:
        raise DataError(
            f"analysis.yaml: window.start {window.start:%Y-%m-%d} is before the first {row} "
            f"in {data_path} ({first:%Y-%m}); start the window at the extract's first month "
            "or send a longer extract"
        )
    if pd.Timestamp(window.end.replace(day=1)) > last:
        raise DataError(
            f"analysis.yaml: window.end {window.end:%Y-%m-%d} is after the last {row} in "
            f"{data_path} ({last:%Y-%m}); end the window at the extract's last month or send "
            "a longer extract"
        )


def empty_months(present: np.ndarray, units: Sequence[str], months: pd.DatetimeIndex) -> list[str]:
    """``"UNIT YYYY-MM"`` for every False cell of ``present`` (units x months), unit by unit."""
    return [f"{units[i]} {months[j]:%Y-%m}" for i, j in zip(*np.nonzero(~present), strict=True)]


def blank(grid: np.ndarray, present: np.ndarray) -> np.ndarray:
    """``grid`` (units x months) with the cells where ``present`` is False set to NaN."""
    out = np.array(grid, dtype=float)
    out[~present] = np.nan
    return out
