"""The one result contract of every estimator: an :class:`Effect` and its reference distribution.

Every design (ITS, comparative ITS, 2x2 and two-way fixed-effects DiD, event study, staggered
adoption) reports its headline as an :class:`Effect`: the estimate on its scale, the standard
error on the scale the interval is built on, the reference distribution of its Wald test
(Student's t with ``df`` degrees of freedom, or the standard normal when ``df`` is None), the
confidence ``level``, the interval and the two-sided p-value.

This module is the one place that turns a level into a critical value
(:func:`critical_value`) and a Wald statistic into a p-value (:func:`p_value`), so that an
interval, its p-value and every number derived from them (equivalence tests, the ledger's
events and pounds) use the same reference distribution.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from scipy import stats

#: The scales an effect is read on: a rate ratio, a difference in the measure's units, or a
#: proportional change (``-0.1`` is 10 % fewer than the counterfactual).
SCALES = ("ratio", "difference", "relative")


@dataclass(frozen=True)
class Effect:
    """One effect with its interval.

    Attributes
    ----------
    term : str
        What the effect is (``level_change``, ``slope_change``, ``trend_per_year``,
        ``relative_effect``, ``att``, ...).
    estimate, ci_low, ci_high : float
        On ``scale``: rate ratios for count models, differences for linear ones; a relative
        effect is a proportional change.
    p_value : float
        Two-sided Wald test of no effect against the reference distribution (see ``df``).
    scale : str
        ``ratio``, ``difference`` or ``relative``.
    std_error : float
        Standard error on the scale the interval is built on (the log of a ratio; the
        difference itself; the log of the sum ratio for the relative effect of a count model).
    level : float
        Confidence level of the interval (0.95 for a 95 % interval).
    df : float or None
        Degrees of freedom of the Student t reference of the interval and p-value; ``None``
        for the standard normal.
    """

    term: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    scale: str
    std_error: float
    level: float
    df: float | None = None

    @property
    def ci(self) -> tuple[float, float]:
        return (self.ci_low, self.ci_high)

    def to_dict(self) -> dict[str, Any]:
        return {k: json_float(v) for k, v in asdict(self).items()}


def reference(df: float | None = None) -> Any:
    """The reference distribution of a Wald statistic: Student's t with ``df`` degrees of
    freedom when the model gives them (finite), the standard normal otherwise."""
    if df is not None and np.isfinite(df):
        return stats.t(df)
    return stats.norm


def critical_value(level: float, df: float | None = None, *, like_r: bool = False) -> float:
    """Two-sided quantile for a ``level`` interval: normal (1.959964 for 0.95), or Student's t
    with ``df`` degrees of freedom when given.

    Parameters
    ----------
    level : float
        Confidence level, strictly between 0 and 1.
    df : float, optional
        Degrees of freedom of a Student t reference; None (or infinite) for the normal.
    like_r : bool
        Compute the normal quantile as R's ``qnorm`` does (Wichura's AS 241, which
        :class:`statistics.NormalDist` implements). scipy's ``ndtri`` can differ from it in
        the last bit, and the staggered estimator is checked against R ``did`` to the last
        digit its results were first written with. Ignored with finite ``df``.

    Returns
    -------
    float
    """
    if like_r and reference(df) is stats.norm:
        return NormalDist().inv_cdf(0.5 + level / 2.0)
    return float(reference(df).ppf(0.5 + level / 2.0))


def p_value(estimate: float, se: float, df: float | None = None) -> float:
    """Two-sided Wald p-value (normal, or Student's t with ``df``); NaN when ``se`` is not
    positive."""
    if not se > 0:
        return float("nan")
    return float(2.0 * reference(df).sf(abs(estimate) / se))


def p_values(estimate: np.ndarray, se: np.ndarray, df: float | None = None) -> np.ndarray:
    """:func:`p_value` of every element: NaN where ``se`` is missing (NaN), as many estimators'
    cells with no standard error have."""
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.abs(np.asarray(estimate, dtype=float) / np.asarray(se, dtype=float))
    return np.asarray(2.0 * reference(df).sf(z), dtype=float)


def std_error_from_interval(low: float, high: float, level: float, scale: str) -> float:
    """The standard error a symmetric normal interval implies (of log(estimate) for ratios),
    where a library reports the interval but its standard error is on another scale."""
    z = critical_value(level)
    if scale == "ratio":
        return (np.log(high) - np.log(low)) / (2 * z)
    return (high - low) / (2 * z)


def json_float(value: Any) -> Any:
    """A JSON-safe number: non-finite floats become None, numpy scalars Python ones."""
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
