"""Check a unit × period frame and lay it out for the DiD estimators (never modifying it).

Periods are calendar months (timestamps on the first of the month, as everywhere in evaltk) or
integers. Months are numbered on one clock (``12 * year + month - 1``) so that event time is
"months since adoption" even across a month missing from the data. Adoption is absorbing: a
unit is treated from its start period on, INCLUSIVE, and stays treated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError

#: Start of a never-treated unit on the period clock.
NEVER = np.inf


@dataclass(frozen=True, eq=False)
class DiDPanel:
    """Validated long data: one row per unit × period, sorted by unit then period.

    Attributes
    ----------
    units : tuple
        Unit labels, sorted; ``unit`` codes index it.
    unit : numpy.ndarray
        ``(N,)`` unit code of each row, ``0 .. G-1``.
    clock : numpy.ndarray
        ``(N,)`` period number (months since year 0 for calendar months, else the integer).
    time : numpy.ndarray
        ``(N,)`` index of the row's period among the distinct periods, ``0 .. T-1``.
    y : numpy.ndarray
        ``(N,)`` outcome as given.
    exposure : numpy.ndarray or None
        ``(N,)`` positive exposure (population, denominator) or None.
    start : numpy.ndarray
        ``(G,)`` adoption period of each unit on the clock, :data:`NEVER` (``inf``) if never.
    calendar : bool
        Whether periods are calendar months (else integers).
    outcome_name : str
        Name of the outcome column, for labels.
    """

    units: tuple[Any, ...]
    unit: np.ndarray
    clock: np.ndarray
    time: np.ndarray
    y: np.ndarray
    exposure: np.ndarray | None
    start: np.ndarray
    calendar: bool
    outcome_name: str

    @property
    def n_obs(self) -> int:
        return int(self.y.size)

    @property
    def n_units(self) -> int:
        return len(self.units)

    @property
    def n_periods(self) -> int:
        return int(self.time.max()) + 1

    @property
    def clocks(self) -> np.ndarray:
        """The distinct periods on the clock, in order (``time`` indexes it)."""
        out = np.empty(self.n_periods, dtype=float)
        out[self.time] = self.clock
        return out

    @property
    def treated(self) -> np.ndarray:
        """``(N,)`` True from the unit's start period on (INCLUSIVE)."""
        return self.clock >= self.start[self.unit]

    @property
    def event_time(self) -> np.ndarray:
        """``(N,)`` periods since adoption (0 in the start period); NaN for never-treated."""
        start = self.start[self.unit]
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(start), self.clock - start, np.nan)

    @property
    def ever_treated(self) -> np.ndarray:
        """``(G,)`` True for units whose start falls on or before the last period."""
        return self.start <= self.clock.max()

    def with_starts(self, start: np.ndarray) -> DiDPanel:
        """The same data with other adoption periods (used by randomisation inference)."""
        return replace(self, start=np.asarray(start, dtype=float))

    def period_label(self, clock: float) -> Any:
        """The period a clock value stands for: a month-start Timestamp, or the integer."""
        if not np.isfinite(clock):
            return None
        if self.calendar:
            year, month = divmod(int(clock), 12)
            return pd.Timestamp(year=year, month=month + 1, day=1)
        return int(clock)

    def start_labels(self) -> dict[Any, Any]:
        """Unit label -> start period (None for never treated)."""
        return {u: self.period_label(s) for u, s in zip(self.units, self.start, strict=True)}


def build_panel(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str = "unit",
    period: str = "period",
    treatment: str | None = None,
    starts: Mapping[Any, Any] | None = None,
    exposure: str | None = None,
) -> DiDPanel:
    """Check ``data`` and lay it out as a :class:`DiDPanel`.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data, one row per unit × period. Not modified.
    outcome : str
        Column of the outcome (a count for Poisson models).
    unit, period : str
        Columns naming the unit (cluster) and the period (month-start timestamps or integers).
    treatment : str, optional
        Column of 0/1 (or bool) treatment status; it must switch on once per unit and stay on.
        Give either this or ``starts``.
    starts : mapping, optional
        Unit -> first treated period (a timestamp, ``"YYYY-MM"``, an integer period, or None /
        NaT for never treated). Every unit must be listed. Starts may lie outside the data.
    exposure : str, optional
        Column of a positive exposure (population): the offset of Poisson models, and the
        denominator of a rate for linear ones.

    Returns
    -------
    DiDPanel

    Raises
    ------
    EstimationError
        On missing columns, missing or non-finite values, duplicate unit-periods, periods that
        are neither month starts nor integers, non-absorbing treatment, or unlisted units.
    """
    if not isinstance(data, pd.DataFrame):
        raise EstimationError(f"DiD data must be a pandas DataFrame, got {type(data).__name__}.")
    if (treatment is None) == (starts is None):
        raise EstimationError(
            "give exactly one of treatment= (a 0/1 column) or starts= (unit -> start period)."
        )
    needed = [unit, period, outcome] + [c for c in (treatment, exposure) if c is not None]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise EstimationError(
            f"DiD data lack column(s) {', '.join(missing)}; it has "
            f"{', '.join(map(str, data.columns))}."
        )
    if data.empty:
        raise EstimationError("DiD data have no rows.")
    frame = data[needed].copy()
    if frame[unit].isna().any():
        raise EstimationError(f"column {unit!r} has missing unit labels; fill or drop those rows.")

    clock, calendar = _clock(frame[period], period)
    frame["_clock"] = clock
    frame = frame.sort_values([unit, "_clock"], kind="stable").reset_index(drop=True)
    dup = frame.duplicated([unit, "_clock"])
    if dup.any():
        row = frame.loc[int(np.argmax(dup.to_numpy()))]
        raise EstimationError(
            f"unit {row[unit]!r} has more than one row for period {row[period]}: aggregate to "
            "one row per unit and period first."
        )

    y = _finite_column(frame, outcome)
    expo = None
    if exposure is not None:
        expo = _finite_column(frame, exposure)
        if (expo <= 0).any():
            bad = frame.loc[expo <= 0].iloc[0]
            raise EstimationError(
                f"exposure {exposure!r} must be positive; unit {bad[unit]!r} has {bad[exposure]} "
                f"in period {bad[period]}."
            )

    labels, unit_codes = np.unique(frame[unit].to_numpy(), return_inverse=True)
    clock = frame["_clock"].to_numpy(dtype=float)
    _, time = np.unique(clock, return_inverse=True)
    if treatment is not None:
        start = _starts_from_column(frame, unit, period, treatment, unit_codes, len(labels))
    else:
        assert starts is not None
        start = _starts_from_mapping(starts, labels, calendar)
    return DiDPanel(
        units=tuple(labels.tolist()),
        unit=unit_codes.astype(np.intp),
        clock=clock,
        time=time.astype(np.intp),
        y=y,
        exposure=expo,
        start=start,
        calendar=calendar,
        outcome_name=outcome,
    )


def require_contrast(panel: DiDPanel, what: str) -> None:
    """Raise unless some unit-periods are treated and some are not, in a panel of 2+ units."""
    if panel.n_units < 2:
        raise EstimationError(f"{what} needs at least 2 units (clusters); got {panel.n_units}.")
    if panel.n_periods < 2:
        raise EstimationError(f"{what} needs at least 2 periods; got {panel.n_periods}.")
    treated = panel.treated
    if not treated.any():
        raise EstimationError(
            f"{what}: no unit is treated in any period of the data; check the start dates."
        )
    if treated.all():
        raise EstimationError(
            f"{what}: every unit-period is treated, so there is no comparison; include "
            "untreated periods or never-treated units."
        )


def month_clock(value: Any) -> float:
    """A month (timestamp-like or ``"YYYY-MM"``) as ``12 * year + month - 1``."""
    stamp = pd.Timestamp(value)
    return float(12 * stamp.year + stamp.month - 1)


def _clock(values: pd.Series, name: str) -> tuple[np.ndarray, bool]:
    if values.isna().any():
        raise EstimationError(f"column {name!r} has missing periods; fill or drop those rows.")
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = pd.DatetimeIndex(values)
        if (stamps.day != 1).any() or (stamps.normalize() != stamps).any():
            bad = stamps[(stamps.day != 1) | (stamps.normalize() != stamps)][0]
            raise EstimationError(
                f"periods in {name!r} must be month starts (first day, midnight); found {bad}."
            )
        return (12 * stamps.year + stamps.month - 1).to_numpy(dtype=float), True
    if pd.api.types.is_integer_dtype(values):
        return values.to_numpy(dtype=float), False
    raise EstimationError(
        f"periods in {name!r} must be month-start timestamps or integers, got dtype {values.dtype}."
    )


def _finite_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    try:
        values = pd.to_numeric(frame[name], errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise EstimationError(f"column {name!r} must be numeric.") from None
    bad = ~np.isfinite(values)
    if bad.any():
        raise EstimationError(
            f"column {name!r} has {int(bad.sum())} missing or non-finite value(s) (first at row "
            f"{int(np.argmax(bad))}); drop those unit-periods or impute them first."
        )
    return values


def _starts_from_column(
    frame: pd.DataFrame, unit: str, period: str, treatment: str, codes: np.ndarray, n_units: int
) -> np.ndarray:
    raw = frame[treatment]
    if raw.isna().any():
        raise EstimationError(f"treatment column {treatment!r} has missing values.")
    values = raw.to_numpy()
    if not np.isin(values, [0, 1]).all():
        raise EstimationError(f"treatment column {treatment!r} must be 0/1 or true/false.")
    on = values.astype(bool)
    clock = frame["_clock"].to_numpy(dtype=float)
    start = np.full(n_units, NEVER)
    for g in range(n_units):
        rows = codes == g
        status = on[rows]
        if status.any():
            first = int(np.argmax(status))
            if not status[first:].all():
                off = frame.loc[np.flatnonzero(rows)[first + int(np.argmin(status[first:]))]]
                raise EstimationError(
                    f"treatment must stay on once it starts (adoption is absorbing); unit "
                    f"{off[unit]!r} switches off in period {off[period]}."
                )
            start[g] = clock[rows][first]
    return start


def _starts_from_mapping(
    starts: Mapping[Any, Any], labels: np.ndarray, calendar: bool
) -> np.ndarray:
    if not isinstance(starts, Mapping):
        raise EstimationError("starts must be a mapping of unit -> start period (or None).")
    absent = [str(u) for u in labels if u not in starts]
    if absent:
        raise EstimationError(
            f"starts has no entry for unit(s) {', '.join(absent)}; give None for never treated."
        )
    out = np.full(len(labels), NEVER)
    for i, u in enumerate(labels):
        value = starts[u]
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            continue
        try:
            out[i] = month_clock(value) if calendar else float(int(value))
        except (TypeError, ValueError):
            raise EstimationError(
                f"start of unit {u!r} is {value!r}; use a month (e.g. '2016-04') or None."
            ) from None
    return out
