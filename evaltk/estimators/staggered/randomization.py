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

from collections.abc import Hashable, MutableMapping
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
from evaltk.estimators.staggered.options import CSSpec
from evaltk.estimators.staggered.permuted import AggregateRequest, PermutedEstimates
from evaltk.estimators.staggered.permuted import pre_square as dynamic_pre_square
from evaltk.estimators.staggered.results import CSResult

_DYNAMIC = AggregateRequest("dynamic")


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
    spec: CSSpec,
    request: AggregateRequest,
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

    Each assignment's estimates come from :class:`~.permuted.PermutedEstimates` (the panel
    reshaped once, re-cut per assignment), equal to the bit to those of a refit of C&S on the
    permuted data.

    Parameters
    ----------
    data : pandas.DataFrame
        The balanced panel C&S was fitted to: ``unit``, ``t`` (period index), ``g`` (first
        treated period, 0 = never) and the outcome ``value``.
    spec : CSSpec
        The fit's options (comparison group, method, base period, anticipation, covariates).
    request : AggregateRequest
        The headline aggregation.
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
    permuted = _Permuted(data, spec, request, {} if cache is None else cache, cache_key)
    plan = assignments(permuted.start, permutations, seed)
    permuted.known[permuted.start.tobytes()] = (float(headline.estimate), pre_square(result))

    def estimator(start: np.ndarray) -> np.ndarray:
        return np.array([permuted.of_y(start)[0], permuted.of_d(start)])

    se = headline.std_error
    scale = se if np.isfinite(se) and se > 0 else max(abs(headline.estimate), 1e-6)
    test = permutation_test_linear(estimator, permuted.start, plan, scale, level)
    observed = pre_square(result)
    squares = np.array([permuted.of_y(row)[1] for row in plan.starts])
    finite = np.isfinite(squares)
    if not np.isfinite(observed) or not finite.any():
        pretrend = PermutedPretrend(float("nan"), float("nan"), 0)
    else:
        p = p_value(observed, squares[finite], plan.enumerated)
        pretrend = PermutedPretrend(observed, p, int(finite.sum()))
    return StaggeredRandomization(test, pretrend)


def pre_square(result: CSResult) -> float:
    """Mean square of the pre-treatment event-time effects (NaN when there are none)."""
    levels = result.aggregate("dynamic").levels
    pre = levels.loc[levels["event_time"] < 0, "estimate"].to_numpy(dtype=float)
    pre = pre[np.isfinite(pre)]
    return float(np.mean(pre**2)) if pre.size else float("nan")


class _Permuted:
    """Estimates of one panel under permuted adoption dates (each assignment computed once)."""

    def __init__(
        self,
        data: pd.DataFrame,
        spec: CSSpec,
        request: AggregateRequest,
        cache: MutableMapping[Any, Any],
        cache_key: Hashable,
    ) -> None:
        self.estimates = PermutedEstimates(data, "value", spec)
        self.request = request
        self.cache, self.cache_key = cache, cache_key
        self.units = self.estimates.units
        self.start = self.estimates.cohort.astype(float)
        self.last_period = int(data["t"].max())
        self.known: dict[bytes, tuple[float, float]] = {}
        self._treated: np.ndarray | None = None

    @staticmethod
    def _cohort(start: np.ndarray) -> np.ndarray:
        # As a refit on data whose group column holds int(start), 0 for never treated.
        start = np.asarray(start, dtype=float)
        cohort = np.where(np.isfinite(start), np.trunc(np.where(np.isfinite(start), start, 0)), 0)
        return np.where(cohort == 0, np.inf, cohort)

    def of_y(self, start: np.ndarray) -> tuple[float, float]:
        """The headline aggregate of the outcome, and the pre-trend statistic."""
        key = np.asarray(start, dtype=float).tobytes()
        if key not in self.known:
            headline, dynamic = self.estimates.aggregates(
                self._cohort(start), [self.request, _DYNAMIC]
            )
            self.known[key] = (float(headline.overall), dynamic_pre_square(dynamic))
        return self.known[key]

    def of_d(self, start: np.ndarray) -> float:
        """The aggregate of the observed treatment indicator D under assignment ``start``."""
        key = (
            tuple(self.units),
            self.last_period,
            self.cache_key,
            np.asarray(start, dtype=float).tobytes(),
        )
        if key not in self.cache:
            if self._treated is None:
                self._treated = self.estimates.treated()
            (aggregate,) = self.estimates.aggregates(
                self._cohort(start), [self.request], y=self._treated
            )
            self.cache[key] = float(aggregate.overall)
        return self.cache[key]
