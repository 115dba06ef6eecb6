"""The change over the treated force-months that an outcome's headline effect implies.

Every design's events averted, and so every ledger line's events, hours and pounds, come from
one monotone map of the headline effect (:class:`TotalChange`), so that they agree in sign and
significance with the effect's interval: a reader never sees "85% higher (interval includes
no change)" next to "27 more events (interval excludes zero)".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltk.estimators.effect import Effect


@dataclass(frozen=True)
class TotalChange:
    """The change over the treated force-months that the headline effect implies.

    One monotone map from the effect to the events (or minutes) averted, so that the events,
    hours and pounds of the ledger agree in sign and significance with the effect's interval:

    * ``scale="ratio"``: ``averted(theta) = amount * (exp(-theta) - 1)`` with ``theta`` the log
      ratio and ``amount`` the total WITH the scheme over the treated force-months (observed,
      or the model's fit of it): the counterfactual is ``amount / exp(theta)``. The total with
      the scheme is what the data show; what is uncertain is the counterfactual, so it is
      the counterfactual that moves with the effect across its interval. (Holding the
      counterfactual fixed instead, at its estimate, would scale the interval by the ratio:
      too narrow for a fall, too wide for a rise. For s136 x 0.7 the ledger's 95 % intervals
      then covered the true change in only 79 % of 200 simulated datasets; see
      :mod:`evaltk.validation.ledger_coverage`.) At the estimate the two agree;
    * ``scale="difference"``: ``averted(theta) = -amount * theta`` with ``theta`` the
      difference (per unit-month, on the measure's scale) and ``amount`` the treated
      force-months' exposure (population / 100,000 for a rate, episodes for a share or mean,
      1 per unit-month for a count).

    ``theta_low`` and ``theta_high`` are the effect's own interval on that scale (at
    ``level``, from the effect's reference distribution: normal, Student t with ``df``, or a
    bootstrap / randomisation interval, which need not be symmetric). ``month_influence``
    (ITS and comparative ITS) is each fitted month's influence on the total, which correlates
    outcomes in the ledger; None where the design does not give it.
    """

    scale: str
    amount: float
    theta: float
    theta_low: float
    theta_high: float
    df: float | None
    level: float
    force_months: int
    month_influence: pd.Series | None = None

    def averted(self, theta: np.ndarray | float) -> np.ndarray | float:
        """Events (or minutes) averted at effect ``theta`` (positive: demand that did not
        happen)."""
        if self.scale == "ratio":
            averted = self.amount * np.expm1(-np.asarray(theta, dtype=float))
            return averted if np.ndim(theta) else float(averted)
        return -self.amount * np.asarray(theta) if np.ndim(theta) else -self.amount * theta

    @property
    def interval(self) -> tuple[float, float, float]:
        """``(averted, low, high)`` at the effect's estimate and interval ends."""
        ends = sorted(float(self.averted(t)) for t in (self.theta_low, self.theta_high))
        return float(self.averted(self.theta)), ends[0], ends[1]

    @property
    def counterfactual(self) -> float | None:
        """The total without the scheme at the estimate (ratio scale only)."""
        return self.amount / float(np.exp(self.theta)) if self.scale == "ratio" else None

    @property
    def finite(self) -> bool:
        return bool(
            np.isfinite([self.amount, self.theta, self.theta_low, self.theta_high]).all()
            and self.theta_low <= self.theta <= self.theta_high
        )


def effect_total(
    effect: Effect,
    amount: float,
    force_months: int,
    month_influence: pd.Series | None = None,
) -> TotalChange | None:
    """The :class:`TotalChange` of a headline effect (ratio: on the log scale, ``amount`` the
    total with the scheme); None when the effect or the amount is not finite or a ratio is
    not positive."""
    values = np.array([effect.estimate, effect.ci_low, effect.ci_high], dtype=float)
    if not np.isfinite(values).all() or not np.isfinite(amount):
        return None
    if effect.scale == "ratio":
        if (values <= 0).any():
            return None
        values = np.log(values)
    elif effect.scale != "difference":
        return None
    return TotalChange(
        scale="ratio" if effect.scale == "ratio" else "difference",
        amount=float(amount),
        theta=float(values[0]),
        theta_low=float(values[1]),
        theta_high=float(values[2]),
        df=effect.df,
        level=effect.level,
        force_months=int(force_months),
        month_influence=month_influence,
    )
