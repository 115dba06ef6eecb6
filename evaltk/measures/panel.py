"""The unit x month panel that every estimator reads, and the row accounting that goes with it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaltk.protocol.aggregates import aggregate_kind

PANEL_COLUMNS = ("unit", "period", "outcome", "numerator", "denominator", "value")


@dataclass(frozen=True)
class RowAccount:
    """Every row read is either used or excluded for a stated reason.

    ``rows_in == rows_used + sum(excluded.values())`` always holds (checked on creation).
    """

    source: str
    rows_in: int
    rows_used: int
    excluded: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        total = self.rows_used + sum(self.excluded.values())
        if total != self.rows_in:
            raise AssertionError(
                f"row accounting does not balance for {self.source}: "
                f"{self.rows_in} in, {self.rows_used} used + {total - self.rows_used} excluded"
            )

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "rows_in": self.rows_in,
            "rows_used": self.rows_used,
            "excluded": dict(sorted(self.excluded.items())),
        }


@dataclass(frozen=True)
class Panel:
    """Outcome measures by unit and month, in long form.

    Columns of ``frame``: ``unit``; ``period`` (first day of the month, Timestamp); ``outcome``
    (the outcome id); ``numerator`` (the count, or the sum of the field for mean and sum);
    ``denominator`` (population for rates, denominator episodes for shares, matching episodes
    for means; NaN for counts and sums); ``value`` (the measure as defined: count, rate per
    ``per``, share, mean or sum). Every unit has every month of the window, zeros included; a
    unit-month without data (``empty_months``) has NaN numerator, denominator and value.
    """

    frame: pd.DataFrame
    accounting: RowAccount
    aggregates: dict[str, str]  # outcome id -> aggregate ('count', 'rate', ...)
    per: dict[str, int]  # outcome id -> rate multiplier (100,000 by default)
    # "UNIT YYYY-MM" of every unit-month without data (NaN in the frame, never zero).
    empty_months: tuple[str, ...] = ()

    def series(self, outcome: str, units: list[str] | None = None) -> pd.DataFrame:
        """One monthly series for ``outcome``, adding up ``units`` (default: all).

        Returns columns ``period``, ``numerator``, ``denominator``, ``value``; ``value`` is
        recomputed from the summed numerator and denominator so that it keeps its definition.
        A month where any of the units has no data is missing (NaN) in the sum: the other
        units' months alone would look like a fall.
        """
        rows = self.frame[self.frame["outcome"] == outcome]
        if units is not None:
            rows = rows[rows["unit"].isin(units)]
        if rows.empty:
            raise KeyError(f"no rows for outcome '{outcome}' and units {units}")
        summed = (
            rows.groupby("period", sort=True)[["numerator", "denominator"]]
            .sum(min_count=1)
            .reset_index()
        )
        gap = rows["numerator"].isna().groupby(rows["period"], sort=True).any().to_numpy()
        summed.loc[gap, ["numerator", "denominator"]] = np.nan
        aggregate = self.aggregates[outcome]
        if aggregate_kind(aggregate).per_population:
            summed["value"] = summed["numerator"] / summed["denominator"] * self.per[outcome]
        elif aggregate_kind(aggregate).per_incident:
            with np.errstate(divide="ignore", invalid="ignore"):
                summed["value"] = summed["numerator"] / summed["denominator"]
        else:
            summed["value"] = summed["numerator"]
        return summed
