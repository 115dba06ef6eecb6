"""Randomisation inference for Callaway & Sant'Anna: adoption dates permuted across units.

With few units (5 forces: 5 clusters) the influence-function and multiplier-bootstrap errors
rest on many units and are far too small. Under the sharp null that adoption changed no unit's
outcome, every assignment of the observed adoption dates to units was as likely to produce
the data, so the observed aggregate is compared with its value under the other assignments
(:mod:`evaltk.estimators.did.randomization`).

* The effect: the C&S aggregate is linear in the outcome, so the interval is found by test
  inversion under a constant additive effect (``y - tau D`` under every assignment, with ``D``
  the observed treatment indicator; the aggregate of ``D`` under each assignment is the same for
  every outcome on the same units and periods, hence cached by the caller).
* The pre-trend test: the mean square of the pre-treatment event-time effects, compared over
  the permuted assignments (exact under no effect at all; conservative when adoption had an
  effect, because permuted dates then move treated periods into "before").
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, MutableMapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaltk.estimators.did.randomization import (
    RandomizationTest,
    assignments,
    p_value,
    permutation_test_linear,
)
from evaltk.estimators.staggered.aggregate_result import AggregateResult
from evaltk.estimators.staggered.results import CSResult

#: Fit C&S to a panel (columns ``unit, t, g`` and the outcome) for one outcome column.
Fit = Callable[[pd.DataFrame, str], CSResult]
#: The headline aggregation of a fitted C&S result.
Aggregate = Callable[[CSResult], AggregateResult]


@dataclass(frozen=True)
class PermutedPretrend:
    """The pre-trend test over permuted adoption dates.

    Attributes
    ----------
    statistic : float
        Mean square of the observed pre-treatment event-time effects (NaN when there are none).
    p_value : float
        Share of assignments whose statistic is at least as large (NaN when not computed).
    permutations : int
        Assignments with a finite statistic, compared (0 when not computed).
    """

    statistic: float
    p_value: float
    permutations: int

    @property
    def computed(self) -> bool:
        return self.permutations > 0


@dataclass(frozen=True)
class StaggeredRandomization:
    """The randomisation test and interval of the headline aggregate, and the pre-trend test."""

    test: RandomizationTest
    pretrend: PermutedPretrend


def randomization_inference(
    data: pd.DataFrame,
    fit: Fit,
    aggregate: Aggregate,
    result: CSResult,
    headline: AggregateResult,
    *,
    permutations: int,
    seed: int | None,
    level: float,
    cache: MutableMapping[Any, Any] | None = None,
    cache_key: Hashable = (),
) -> StaggeredRandomization:
    """Permute the adoption dates of ``data``'s units and test the headline and pre-trends.

    Parameters
    ----------
    data : pandas.DataFrame
        The balanced panel C&S was fitted to: ``unit``, ``t`` (period index), ``g`` (first
        treated period, 0 = never) and the outcome ``value``.
    fit : callable
        ``(panel, outcome column) -> CSResult`` with the analysis's options.
    aggregate : callable
        The headline aggregation of a result.
    result, headline : CSResult, AggregateResult
        The observed fit and its headline aggregate.
    permutations : int
        Random permutations; every distinct assignment is used instead when there are no more.
    seed : int or None
        Seed of the permutations.
    level : float
        Confidence level of the interval.
    cache : mutable mapping, optional
        Aggregates of the treatment indicator under each assignment, shared by the outcomes of
        one analysis (they depend on the units, periods and options only).
    cache_key : hashable
        What, besides the units, periods and assignment, the cached aggregates depend on (the
        estimator's options).

    Returns
    -------
    StaggeredRandomization
    """
    fitter = _Permuted(data, fit, aggregate, {} if cache is None else cache, cache_key)
    plan = assignments(fitter.start, permutations, seed)
    fitter.fits[fitter.start.tobytes()] = result

    def estimator(start: np.ndarray) -> np.ndarray:
        return np.array([float(aggregate(fitter.fit_y(start)).estimate), fitter.fit_d(start)])

    se = headline.std_error
    scale = se if np.isfinite(se) and se > 0 else max(abs(headline.estimate), 1e-6)
    test = permutation_test_linear(estimator, fitter.start, plan, scale, level)
    observed = pre_square(result)
    permuted = np.array([pre_square(fitter.fit_y(row)) for row in plan.starts])
    finite = np.isfinite(permuted)
    if not np.isfinite(observed) or not finite.any():
        pretrend = PermutedPretrend(float("nan"), float("nan"), 0)
    else:
        p = p_value(observed, permuted[finite], plan.enumerated)
        pretrend = PermutedPretrend(observed, p, int(finite.sum()))
    return StaggeredRandomization(test, pretrend)


def pre_square(result: CSResult) -> float:
    """Mean square of the pre-treatment event-time effects (NaN when there are none)."""
    levels = result.aggregate("dynamic").levels
    pre = levels.loc[levels["event_time"] < 0, "estimate"].to_numpy(dtype=float)
    pre = pre[np.isfinite(pre)]
    return float(np.mean(pre**2)) if pre.size else float("nan")


class _Permuted:
    """Fits of one panel under permuted adoption dates (each assignment fitted once)."""

    def __init__(
        self,
        data: pd.DataFrame,
        fit: Fit,
        aggregate: Aggregate,
        cache: MutableMapping[Any, Any],
        cache_key: Hashable,
    ) -> None:
        self.data, self.fit, self.aggregate = data, fit, aggregate
        self.cache, self.cache_key = cache, cache_key
        units = data.drop_duplicates("unit").set_index("unit")["g"].sort_index()
        self.units = units.index.to_numpy()
        self.start = np.where(units.to_numpy() > 0, units.to_numpy(), np.inf).astype(float)
        self.fits: dict[bytes, CSResult] = {}

    def _with_groups(self, start: np.ndarray) -> pd.DataFrame:
        groups = dict(zip(self.units, np.where(np.isfinite(start), start, 0), strict=True))
        data = self.data.copy()
        data["g"] = data["unit"].map(groups).astype(int)
        return data

    def fit_y(self, start: np.ndarray) -> CSResult:
        key = np.asarray(start, dtype=float).tobytes()
        if key not in self.fits:
            self.fits[key] = self.fit(self._with_groups(start), "value")
        return self.fits[key]

    def fit_d(self, start: np.ndarray) -> float:
        """The aggregate of the observed treatment indicator D under assignment ``start``."""
        key = (
            tuple(self.units),
            int(self.data["t"].max()),
            self.cache_key,
            np.asarray(start, dtype=float).tobytes(),
        )
        if key not in self.cache:
            data = self._with_groups(start)
            observed = self.data["g"]
            data["treated"] = ((observed > 0) & (data["t"] >= observed)).astype(float)
            self.cache[key] = float(self.aggregate(self.fit(data, "treated")).estimate)
        return self.cache[key]
