"""Inference for one treated unit: placebos in space and in time, leave one donor out.

With one treated unit there is no sample of treated units for a large-sample standard error
to describe; the uncertainty that matters is whether the treated unit's post-period gap is
unusual among units that were not treated. So, following Abadie, Diamond & Hainmueller
(2010) and Abadie (2021):

- placebo in space: every donor in turn is treated as if it were the treated unit, against
  all the other units, the real treated unit among them (under the null of no effect its
  series is a control like any other; Abadie et al. 2010 "shift California to the donor
  pool"). Every unit is then fitted against all the others whichever was treated, so the
  set of fits does not depend on the assignment. The treated unit's ratio of post- to
  pre-period root mean squared prediction error (RMSPE) is ranked among all units'; its
  rank over the number of units is a p-value that is exact when the treated unit is no more
  likely than any other to have been the one treated (it cannot be below ``1 / units``). The
  ratio, not the post-period gap alone, is ranked, so a unit fitted badly before the start
  does not look "affected" merely because it is fitted badly after it.
- placebo in time: the start is moved back into the pre period and the real post periods are
  dropped; a large "effect" there warns that the fit predicts badly out of sample.
- leave one donor out: the fit is repeated without each donor that has a weight, showing
  whether the estimate rests on one donor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from evaltk.errors import EstimationError
from evaltk.estimators.synthetic.data import SyntheticData

Array = NDArray[np.float64]


class GapFit(Protocol):
    """What inference needs of a fit: the estimate and the gap in every period."""

    @property
    def estimate(self) -> float: ...

    @property
    def gaps(self) -> Array: ...


Fitter = Callable[[SyntheticData], GapFit]


def rmspe(gaps: Array, n_pre: int) -> tuple[float, float]:
    """Root mean squared gap before and from the start."""
    return float(np.sqrt(np.mean(gaps[:n_pre] ** 2))), float(np.sqrt(np.mean(gaps[n_pre:] ** 2)))


def ratio(pre: float, post: float) -> float:
    """Post over pre RMSPE; infinite when the pre-period fit is perfect and the post one not."""
    if pre > 0:
        return post / pre
    return np.inf if post > 0 else 1.0


@dataclass(frozen=True, eq=False)
class PlaceboInSpace:
    """Every unit's fit as if it were the treated one; the treated unit first.

    Attributes
    ----------
    units : tuple of str
        The treated unit, then each donor.
    estimates : numpy.ndarray
        Each unit's estimate (the treated unit's is the real one).
    gaps : numpy.ndarray
        ``(units, periods)`` gaps, for the figure of all placebo gaps.
    n_pre : int
        Pre periods.
    """

    units: tuple[str, ...]
    estimates: Array
    gaps: Array
    n_pre: int

    @property
    def ratios(self) -> Array:
        return np.array([ratio(*rmspe(g, self.n_pre)) for g in self.gaps])

    @property
    def rank(self) -> int:
        """1 + the number of donors whose ratio is at least the treated unit's (ties count
        against the treated unit, so the p-value is never too small)."""
        r = self.ratios
        return 1 + int(np.sum(r[1:] >= r[0]))

    @property
    def p_value(self) -> float:
        """Rank of the treated unit's RMSPE ratio over the number of units."""
        return self.rank / len(self.units)

    def interval(self, level: float) -> tuple[float, float] | None:
        """The effects ``tau`` the rank test does not reject at ``1 - level``: the interval
        that agrees with :attr:`p_value` (Firpo & Possebom 2018's test inversion).

        Under ``H0: effect = tau`` the treated unit's post-start gaps less ``tau`` are what it
        would show; the weights and every placebo are fitted before the start or on donors, so
        only the treated ratio ``R(tau) = sqrt(mean((post - tau)^2)) / pre_rmspe`` moves. The
        test keeps ``tau`` while ``1 + #{placebo ratios >= R(tau)}`` exceeds ``alpha x units``,
        i.e. while ``R(tau)`` is at most the ``k``-th largest placebo ratio, ``k = floor(alpha
        x units)``. With ``m`` and ``v`` the mean and variance of the post gaps,
        ``mean((post - tau)^2) = (tau - m)^2 + v``: the interval is ``m -/+ sqrt((c pre)^2 -
        v)``, ``c`` that ratio. At ``tau = 0`` the rule is the p-value's, so the interval
        excludes 0 exactly when ``p_value <= alpha``. None when the test can reject nothing
        (fewer units than ``1 / alpha``: every effect is kept) or keeps nothing (the post-start
        gaps vary more than any placebo's): then no finite interval agrees with the test.
        """
        alpha = 1.0 - level
        k = int(np.floor(alpha * len(self.units) + 1e-12))
        placebo = np.sort(self.ratios[1:])[::-1]
        if k < 1 or k > placebo.size:
            return None
        gaps = self.gaps[0]
        pre = float(np.sqrt(np.mean(gaps[: self.n_pre] ** 2)))
        post = gaps[self.n_pre :]
        mean, var = float(np.mean(post)), float(np.var(post))
        room = (placebo[k - 1] * pre) ** 2 - var
        if room < 0:
            return None
        half = float(np.sqrt(room))
        return mean - half, mean + half

    @property
    def smallest_p(self) -> float:
        """The smallest p-value this many units can give."""
        return 1.0 / len(self.units)

    @property
    def placebo_sd(self) -> float:
        """Standard deviation (divisor n) of the donors' placebo estimates."""
        return float(np.std(self.estimates[1:]))

    def table(self) -> pd.DataFrame:
        """One row per unit: estimate, pre and post RMSPE, their ratio, rank by ratio."""
        pre_post = np.array([rmspe(g, self.n_pre) for g in self.gaps])
        frame = pd.DataFrame(
            {
                "unit": self.units,
                "role": ["treated", *["placebo"] * (len(self.units) - 1)],
                "estimate": self.estimates,
                "pre_rmspe": pre_post[:, 0],
                "post_rmspe": pre_post[:, 1],
                "ratio": self.ratios,
            }
        )
        frame["rank"] = frame["ratio"].rank(ascending=False, method="max").astype(int)
        return frame.sort_values(["rank", "role"], ascending=[True, False]).reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class PlaceboInTime:
    """The fit with the start moved back into the pre period (real post periods dropped)."""

    start: Any
    estimate: float
    gaps: Array
    n_pre: int
    rmspe_ratio: float


@dataclass(frozen=True, eq=False)
class LeaveOneOut:
    """The estimate without each donor that had a weight."""

    donors: tuple[Any, ...]
    estimates: Array

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"donor_left_out": self.donors, "estimate": self.estimates})


def placebo_in_space(data: SyntheticData, fitter: Fitter, fit: GapFit) -> PlaceboInSpace:
    """Refit with every donor as the treated unit, the real treated unit among its donors
    (``fit`` is the real treated unit's)."""
    if data.n_donors < 2:
        raise EstimationError("placebo in space: needs at least two donors")
    placebos = [fitter(data.as_treated(j)) for j in range(data.n_donors)]
    return PlaceboInSpace(
        units=(data.treated, *(str(d) for d in data.donors)),
        estimates=np.array([fit.estimate, *(p.estimate for p in placebos)]),
        gaps=np.vstack([fit.gaps, *(p.gaps for p in placebos)]),
        n_pre=data.n_pre,
    )


def placebo_in_time(data: SyntheticData, fitter: Fitter, n_pre: int | None = None) -> PlaceboInTime:
    """Refit on the pre periods only with a pretend start after ``n_pre`` of them (default:
    half of them, rounded down, at least two)."""
    n_pre = data.n_pre // 2 if n_pre is None else n_pre
    if not 2 <= n_pre < data.n_pre:
        raise EstimationError(
            f"placebo in time: needs between 2 and {data.n_pre - 1} periods before the "
            f"pretend start, not {n_pre}"
        )
    pretend = data.truncated(data.n_pre, n_pre)
    fit = fitter(pretend)
    return PlaceboInTime(
        start=pretend.start,
        estimate=fit.estimate,
        gaps=fit.gaps,
        n_pre=n_pre,
        rmspe_ratio=ratio(*rmspe(fit.gaps, n_pre)),
    )


def leave_one_out(data: SyntheticData, fitter: Fitter, weights: Array) -> LeaveOneOut:
    """Refit without each donor whose weight exceeds 1e-6 (at least two donors must stay)."""
    used = [j for j in range(data.n_donors) if weights[j] > 1e-6]
    if data.n_donors < 3:
        return LeaveOneOut(donors=(), estimates=np.array([]))
    return LeaveOneOut(
        donors=tuple(data.donors[j] for j in used),
        estimates=np.array([fitter(data.without_donor(j)).estimate for j in used]),
    )
