"""One treated unit against a donor pool: the outcome matrix the synthetic estimators fit.

A long frame (one row per unit x period) becomes a ``units x periods`` matrix with the donors
first and the treated unit last. Several treated units (forces of one region) are summed into
one treated series first, as a region is one unit of evaluation; the donors are the units the
caller names, or every other unit. Every unit must be observed in every period (a synthetic
control has no answer for a hole in the series), and there must be at least two pre periods,
one post period and two donors.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from evaltk.errors import EstimationError


@dataclass(frozen=True)
class Predictor:
    """One predictor of the synthetic control: the mean of ``column`` over ``periods``.

    A lagged outcome is a predictor whose column is the outcome (``Predictor("cigsale",
    (1975,))``). ``label`` names it in tables (default ``column`` and the periods' span).
    """

    column: str
    periods: tuple[Any, ...]
    label: str = ""

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        first, last = self.periods[0], self.periods[-1]
        return f"{self.column} ({first})" if first == last else f"{self.column} ({first}-{last})"


@dataclass(frozen=True, eq=False)
class SyntheticData:
    """The outcome matrix of one treated unit and its donors. Never changes.

    Attributes
    ----------
    y : numpy.ndarray
        ``(donors + 1, periods)``: the donors' rows, then the treated unit's.
    donors : tuple
        Donor labels, in row order.
    treated : str
        The treated unit's label (the treated units' labels joined by ``+`` when summed).
    periods : pandas.Index
        The periods, in order.
    n_pre : int
        Number of pre periods (the first post period is the intervention period, inclusive).
    outcome : str
        The outcome's name, for labels.
    x : numpy.ndarray or None
        ``(predictors, donors + 1)``: predictor values in the same column order as ``y``'s
        rows, or None when the fit uses pre-period outcomes only.
    predictors : tuple of str
        Predictor labels, in ``x``'s row order.
    predictor_last : tuple
        The last period each predictor is computed over (a placebo in time keeps only the
        predictors that end before its pretend start).
    """

    y: NDArray[np.float64]
    donors: tuple[Any, ...]
    treated: str
    periods: pd.Index
    n_pre: int
    outcome: str = "y"
    x: NDArray[np.float64] | None = None
    predictors: tuple[str, ...] = ()
    predictor_last: tuple[Any, ...] = ()

    @property
    def n_donors(self) -> int:
        return len(self.donors)

    @property
    def n_post(self) -> int:
        return len(self.periods) - self.n_pre

    @property
    def start(self) -> Any:
        """The first post period."""
        return self.periods[self.n_pre]

    @property
    def treated_series(self) -> NDArray[np.float64]:
        return self.y[-1]

    @property
    def donor_matrix(self) -> NDArray[np.float64]:
        return self.y[:-1]

    def as_treated(self, donor: int, *, treated_as_donor: bool = True) -> SyntheticData:
        """Donor ``donor`` (row index) as if it were treated.

        With ``treated_as_donor`` (the placebo in space of Abadie et al. 2010, "shifting
        California to the donor pool") the real treated unit joins the other donors: under
        the null of no effect its series is as good a control as any, and every unit is then
        fitted against all the others, which is what makes the rank test exact. Without it
        (Algorithm 4 of Arkhangelsky et al., which resamples controls only) it is left out.
        """
        others = [i for i in range(self.n_donors) if i != donor]
        order = [*others, self.n_donors, donor] if treated_as_donor else [*others, donor]
        placebo = self._rows(order, treated=str(self.donors[donor]))
        if treated_as_donor:
            labels = (*(self.donors[i] for i in others), self.treated)
            return replace(placebo, donors=labels)
        return placebo

    def without_donor(self, donor: int) -> SyntheticData:
        """The same treated unit with donor ``donor`` (row index) left out of the pool."""
        order = [i for i in range(self.n_donors) if i != donor] + [self.n_donors]
        return self._rows(order, treated=self.treated)

    def _rows(self, order: list[int], treated: str) -> SyntheticData:
        # The units in ``order`` (row indices of y; the last is the treated one); predictors
        # follow. Labels of rows that were the treated unit are fixed by the caller.
        labels = (*self.donors, self.treated)
        return replace(
            self,
            y=self.y[order],
            donors=tuple(labels[i] for i in order[:-1]),
            treated=treated,
            x=None if self.x is None else self.x[:, order],
        )

    def truncated(self, n_periods: int, n_pre: int) -> SyntheticData:
        """The first ``n_periods`` periods with ``n_pre`` of them before a pretend start
        (placebo in time: the real post periods are dropped). Predictors computed over
        periods from the pretend start on are dropped with them."""
        start = self.periods[n_pre]
        kept = [i for i, last in enumerate(self.predictor_last) if last < start]
        return replace(
            self,
            y=self.y[:, :n_periods],
            periods=self.periods[:n_periods],
            n_pre=n_pre,
            x=None if self.x is None or not kept else self.x[kept],
            predictors=tuple(self.predictors[i] for i in kept),
            predictor_last=tuple(self.predictor_last[i] for i in kept),
        )


def synthetic_data(
    frame: pd.DataFrame,
    *,
    treated: Hashable | Sequence[Hashable],
    start: Any,
    donors: Sequence[Hashable] | None = None,
    unit: str = "unit",
    period: str = "period",
    outcome: str = "y",
    predictors: Sequence[Predictor] = (),
) -> SyntheticData:
    """Lay a long frame out as :class:`SyntheticData` (never modifying ``frame``).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per unit x period.
    treated : label or sequence of labels
        The treated unit; several are summed into one (a region of forces).
    start : period
        The first post period (inclusive).
    donors : sequence of labels, optional
        The donor pool; by default every unit that is not treated.
    unit, period, outcome : str
        Column names.
    predictors : sequence of Predictor, optional
        Predictors of the synthetic control (each the mean of a column over its periods,
        missing values skipped); only with one treated unit, and all before ``start``.

    Raises
    ------
    EstimationError
        A column or unit is missing, a unit lacks a period or has a missing outcome, a unit
        is both treated and a donor, or there are too few donors or periods.
    """
    for column in (unit, period, outcome):
        if column not in frame.columns:
            raise EstimationError(f"synthetic control: no column {column!r} in the data")
    treated_units = (
        [treated] if isinstance(treated, str) or not isinstance(treated, Sequence) else treated
    )
    treated_units = list(treated_units)
    present = set(frame[unit].unique())
    for label in treated_units:
        if label not in present:
            raise EstimationError(f"synthetic control: treated unit {label!r} is not in the data")
    pool = (
        [u for u in sorted(present, key=str) if u not in treated_units]
        if donors is None
        else list(donors)
    )
    overlap = [u for u in pool if u in treated_units]
    if overlap:
        raise EstimationError(
            f"synthetic control: {overlap[0]!r} is both treated and a donor; "
            "remove it from the donor pool"
        )
    for label in pool:
        if label not in present:
            raise EstimationError(f"synthetic control: donor {label!r} is not in the data")
    if len(pool) < 2:
        raise EstimationError("synthetic control: needs at least two donors")
    wide = frame.pivot_table(index=unit, columns=period, values=outcome, aggfunc="sum")
    counts = frame.pivot_table(index=unit, columns=period, values=outcome, aggfunc="count")
    wide = wide.where(counts.reindex_like(wide) == 1)
    periods = wide.columns.sort_values()
    wide = wide[periods]
    rows = wide.loc[[*pool, *treated_units]]
    missing = rows.isna()
    if missing.to_numpy().any():
        label, when = missing.stack()[lambda s: s].index[0]
        raise EstimationError(
            f"synthetic control: unit {label!r} has no single {outcome!r} value in period "
            f"{when}; every unit needs exactly one value in every period (drop the unit "
            "from the donor pool or the period from the window)"
        )
    n_pre = int((periods < start).sum())
    if n_pre < 2 or n_pre == len(periods):
        raise EstimationError(
            f"synthetic control: needs at least two periods before {start} and one from it "
            f"on; the data have {n_pre} before and {len(periods) - n_pre} from it"
        )
    y = np.vstack(
        [rows.loc[pool].to_numpy(dtype=float), rows.loc[treated_units].to_numpy(float).sum(0)]
    )
    x = _predictor_matrix(frame, predictors, [*pool, *treated_units], unit, period, start)
    if x is not None and len(treated_units) > 1:
        raise EstimationError(
            "synthetic control: predictors need one treated unit (a summed region has no "
            "single predictor value); fit the region on its outcomes only"
        )
    return SyntheticData(
        y=y,
        donors=tuple(pool),
        treated="+".join(str(u) for u in treated_units),
        periods=pd.Index(periods),
        n_pre=n_pre,
        outcome=outcome,
        x=x,
        predictors=tuple(p.name for p in predictors),
        predictor_last=tuple(max(p.periods) for p in predictors),
    )


def _predictor_matrix(
    frame: pd.DataFrame,
    predictors: Sequence[Predictor],
    units: list[Any],
    unit: str,
    period: str,
    start: Any,
) -> NDArray[np.float64] | None:
    # One row per predictor, one column per unit (donors, then the treated unit).
    if not predictors:
        return None
    rows = []
    for p in predictors:
        if p.column not in frame.columns:
            raise EstimationError(f"synthetic control: predictor column {p.column!r} not in data")
        if max(p.periods) >= start:
            raise EstimationError(
                f"synthetic control: predictor {p.name} uses periods from {start} on; "
                "predictors must be measured before the intervention"
            )
        within = frame[frame[period].isin(p.periods)]
        means = within.groupby(unit)[p.column].mean().reindex(units)
        if means.isna().any():
            label = means[means.isna()].index[0]
            raise EstimationError(
                f"synthetic control: predictor {p.name} has no value for unit {label!r}"
            )
        rows.append(means.to_numpy(dtype=float))
    return np.vstack(rows)
