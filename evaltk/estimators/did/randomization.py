r"""Randomisation inference: permute adoption dates across units and re-estimate.

Under the sharp null that adoption changed no unit's outcome, every assignment of the observed
adoption dates (the multiset of start periods, "never" included) to units is equally likely to
have produced the data if the dates were assigned at random, so the observed estimate is
compared with the estimates under the other assignments (Fisher 1935; for DiD with few treated
clusters, MacKinnon & Webb 2020, *J. Econometrics* 218(2)).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaltk.errors import EstimationError
from evaltk.estimators.did.wild_bootstrap import TIE_TOLERANCE, invert
from evaltk.estimators.permutations import distinct_permutations

#: Enumerating more distinct assignments than this is never attempted.
MAX_ENUMERATION = 100_000


@dataclass(frozen=True)
class Assignments:
    """Adoption dates for each permutation: ``starts[p, g]`` is unit ``g``'s start.

    ``enumerated``: every distinct assignment is a row (the observed one included), so the
    p-value is exact; otherwise rows are uniform random permutations drawn with ``seed``.
    """

    starts: np.ndarray
    enumerated: bool
    seed: int | None
    n_distinct: int

    @property
    def count(self) -> int:
        return int(self.starts.shape[0])


def count_assignments(start: np.ndarray) -> int:
    """Distinct assignments of the start dates to units: ``G! / prod(n_d!)``."""
    counts = Counter(np.asarray(start, dtype=float).tolist())
    out = math.factorial(len(start))
    for n in counts.values():
        out //= math.factorial(n)
    return out


def assignments(start: np.ndarray, permutations: int, seed: int | None) -> Assignments:
    """All distinct assignments if there are at most ``permutations``, else random ones."""
    start = np.asarray(start, dtype=float)
    n = count_assignments(start)
    if n < 2:
        raise EstimationError(
            "randomisation inference needs units with different start dates (or some never "
            "treated); every unit has the same one."
        )
    if n <= min(permutations, MAX_ENUMERATION):
        return Assignments(distinct_permutations(start), True, None, n)
    rng = np.random.default_rng(seed)
    rows = np.tile(start, (permutations, 1))
    return Assignments(rng.permuted(rows, axis=1), False, seed, n)


def p_value(observed: float, permuted: np.ndarray, enumerated: bool) -> float:
    """Share of assignments with ``|estimate| >= |observed|``.

    Enumerated: the exact share over all assignments (the observed one among them). Random:
    ``(1 + #{|permuted| >= |observed|}) / (P + 1)``, which counts the observed assignment once
    and keeps the test exact at any ``P`` (Phipson & Smyth 2010).
    """
    hits = int(np.sum(np.abs(permuted) >= abs(observed) * (1 - TIE_TOLERANCE)))
    if enumerated:
        return hits / permuted.size
    return (1 + hits) / (permuted.size + 1)


@dataclass(frozen=True)
class RandomizationTest:
    """Result of a randomisation test, with its interval when one could be inverted."""

    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    permutations: int
    n_distinct: int
    enumerated: bool
    seed: int | None
    statistic_name: str

    def to_dict(self) -> dict[str, Any]:
        def fin(x: float) -> float | None:
            return float(x) if np.isfinite(x) else None

        return {
            "statistic": fin(self.statistic),
            "statistic_name": self.statistic_name,
            "p_value": fin(self.p_value),
            "ci_low": fin(self.ci_low),
            "ci_high": fin(self.ci_high),
            "permutations": self.permutations,
            "n_distinct": self.n_distinct,
            "enumerated": self.enumerated,
            "seed": self.seed,
        }


def permutation_test(
    statistic: Callable[[np.ndarray], float],
    start: np.ndarray,
    plan: Assignments,
    name: str,
) -> RandomizationTest:
    """Randomisation p-value of any statistic ``start -> float`` (re-estimated per row)."""
    observed = statistic(start)
    permuted = np.array([statistic(row) for row in plan.starts])
    return RandomizationTest(
        observed,
        p_value(observed, permuted, plan.enumerated),
        np.nan,
        np.nan,
        plan.count,
        plan.n_distinct,
        plan.enumerated,
        plan.seed,
        name,
    )


def permutation_test_linear(
    estimator: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray,
    plan: Assignments,
    se: float,
    level: float | None,
) -> RandomizationTest:
    r"""Randomisation test and interval of a linear estimator of a constant additive effect.

    Parameters
    ----------
    estimator : callable
        ``start -> (estimate for y, estimate for D)``: the estimator (linear in the response)
        under the assignment ``start``, applied to the outcome and to the observed treatment
        indicator ``D``.
    start : numpy.ndarray
        The observed start of each unit.
    plan : Assignments
        Permutations to use.
    se : float
        A standard error of the estimate (any), to scale the first steps of the search.
    level : float, optional
        Confidence level; None skips the interval.

    Notes
    -----
    Under the sharp null "adoption adds :math:`\tau_0` to every treated unit-period",
    :math:`y - \tau_0 D` is what every unit would show under any assignment. A linear estimator
    gives :math:`\hat\tau_p(\tau_0) = \hat\tau_p - \tau_0 \hat\gamma_p` under assignment
    :math:`p`, with :math:`\hat\gamma_p` the estimator applied to :math:`D`
    (:math:`\hat\gamma = 1` for the observed assignment), so each :math:`\tau_0` is tested at
    no further cost; the interval is every :math:`\tau_0` not rejected (bisection).
    """
    observed, gamma_obs = estimator(start)
    est = np.array([estimator(row) for row in plan.starts])
    beta, gamma = est[:, 0], est[:, 1]

    def p_at(tau: float) -> float:
        return p_value(observed - tau * gamma_obs, beta - tau * gamma, plan.enumerated)

    low = high = float("nan")
    if level is not None:
        low, high = invert(p_at, observed, se, 1.0 - level)
    return RandomizationTest(
        observed,
        p_at(0.0),
        low,
        high,
        plan.count,
        plan.n_distinct,
        plan.enumerated,
        plan.seed,
        "estimate",
    )
