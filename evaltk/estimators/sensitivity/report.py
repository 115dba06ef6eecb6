"""The sensitivity of one DiD result to non-parallel trends: robust intervals over a grid of
:math:`\\bar M` (relative magnitudes) and :math:`M` (smoothness), and the breakdown values,
from an event study's coefficients and their covariance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evaltk.errors import EstimationError
from evaltk.estimators.sensitivity.moment_test import LF_DRAWS
from evaltk.estimators.sensitivity.relative_magnitudes import (
    first_differences,
    rm_interval,
    rm_rejects,
)
from evaltk.estimators.sensitivity.smoothness import flci_programmes, sd_flci

#: The relative-magnitude bounds tabulated (post-start change at most Mbar times the largest
#: pre-start one).
MBAR_GRID = (0.5, 1.0, 1.5, 2.0)
#: The smoothness bounds tabulated, as multiples of the largest bend (second difference) of
#: the pre-start coefficients.
M_MULTIPLES = (0.0, 0.5, 1.0, 2.0)
#: Breakdown values are found to within this share of the largest value searched.
BREAKDOWN_STEPS = 10


@dataclass(frozen=True)
class EventStudyCoefficients:
    """An event study's coefficients in event-time order with the reference period (-1)
    left out: ``n_pre`` pre-start then ``n_post`` post-start, and their covariance."""

    event_times: tuple[int, ...]
    estimates: np.ndarray
    covariance: np.ndarray
    n_pre: int
    n_post: int

    def __post_init__(self) -> None:
        p = self.n_pre + self.n_post
        if len(self.event_times) != p or self.estimates.shape != (p,):
            raise EstimationError(f"expected {p} event-time coefficients")
        if self.covariance.shape != (p, p):
            raise EstimationError(f"expected a {p} x {p} covariance of the coefficients")


@dataclass(frozen=True)
class SensitivityRow:
    restriction: str  # "relative_magnitudes" or "smoothness"
    bound: float  # Mbar, or M in the outcome's units per period squared
    ci_low: float | None
    ci_high: float | None

    @property
    def excludes_zero(self) -> bool | None:
        if self.ci_low is None or self.ci_high is None:
            return None
        return not (self.ci_low <= 0 <= self.ci_high)


@dataclass(frozen=True)
class Sensitivity:
    """Rambachan & Roth (2023) bounds for one target of one event study.

    ``breakdown_mbar`` is the largest :math:`\\bar M` at which the relative-magnitudes
    confidence set excludes zero (0 when it does not exclude zero even at 0, None when it
    excludes zero at every value searched, up to ``search_max_mbar``); ``breakdown_m`` the
    same for the smoothness FLCI.
    """

    target: str
    level: float
    event_times: tuple[int, ...]
    n_pre: int
    n_post: int
    estimate: float
    largest_pre_change: float
    largest_pre_bend: float
    rows: tuple[SensitivityRow, ...]
    breakdown_mbar: float | None
    breakdown_m: float | None
    search_max_mbar: float
    search_max_m: float
    note: str = ""
    lf_draws: int = field(default=LF_DRAWS)

    def sentence(self) -> str:
        """The plain-language reading of the relative-magnitudes breakdown value."""
        if self.breakdown_mbar is None:
            return (
                "The conclusion holds even if post-start trend differences reach "
                f"{self.search_max_mbar:g} times the largest pre-start one (the largest "
                "value checked)."
            )
        if self.breakdown_mbar <= 0:
            return (
                "The robust interval includes no effect even when post-start trend "
                "differences are assumed no larger than zero times the largest pre-start "
                "one: the conclusion does not survive this check."
            )
        return (
            "The conclusion holds unless post-start trend differences exceed "
            f"{self.breakdown_mbar:.2f} times the largest pre-start one."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "level": self.level,
            "event_times": list(self.event_times),
            "n_pre": self.n_pre,
            "n_post": self.n_post,
            "estimate": self.estimate,
            "largest_pre_change": self.largest_pre_change,
            "largest_pre_bend": self.largest_pre_bend,
            "rows": [
                {
                    "restriction": r.restriction,
                    "bound": r.bound,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "excludes_zero": r.excludes_zero,
                }
                for r in self.rows
            ],
            "breakdown_mbar": self.breakdown_mbar,
            "breakdown_m": self.breakdown_m,
            "search_max_mbar": self.search_max_mbar,
            "search_max_m": self.search_max_m,
            "sentence": self.sentence(),
            "method": (
                "Rambachan & Roth (2023): relative magnitudes by the conditional-least-"
                f"favourable hybrid test ({self.lf_draws} seeded least-favourable draws), "
                "smoothness by the optimal fixed-length confidence interval"
            ),
            "note": self.note,
        }


def average_post_weights(n_post: int) -> np.ndarray:
    """Equal weights on every post-start period: the average post-start effect."""
    return np.full(n_post, 1.0 / n_post)


def largest_pre_bend(coefs: EventStudyCoefficients) -> float:
    """The largest absolute second difference of the pre-start coefficients through the
    reference period (0 with fewer than two pre-start periods)."""
    path = np.r_[coefs.estimates[: coefs.n_pre], 0.0]
    return float(np.abs(np.diff(path, 2)).max()) if len(path) >= 3 else 0.0


def sensitivity(
    coefs: EventStudyCoefficients,
    level: float,
    *,
    target: str = "average_post",
    mbar_grid: tuple[float, ...] = MBAR_GRID,
    m_multiples: tuple[float, ...] = M_MULTIPLES,
    draws: int = LF_DRAWS,
    seed: int = 0,
    note: str = "",
) -> Sensitivity:
    """The sensitivity table and breakdown values for ``target`` (``average_post``: the mean
    of the post-start coefficients; ``first_post``: the first)."""
    n_pre, n_post = coefs.n_pre, coefs.n_post
    if target == "average_post":
        l_vec = average_post_weights(n_post)
    elif target == "first_post":
        l_vec = np.eye(n_post)[0]
    else:
        raise EstimationError(f"unknown sensitivity target {target!r}")
    beta, sigma = coefs.estimates, coefs.covariance
    _check_covariance(sigma)
    change = float(np.abs(first_differences(n_pre, n_post)[:n_pre] @ beta).max())
    bend = largest_pre_bend(coefs)
    se = float(np.sqrt(l_vec @ sigma[n_pre:, n_pre:] @ l_vec))
    m_unit = bend if bend > 0 else se
    programmes = flci_programmes(sigma, n_pre, n_post, l_vec)
    rows: list[SensitivityRow] = []
    for mbar in mbar_grid:
        interval = rm_interval(
            beta, sigma, n_pre, n_post, l_vec, mbar, level, draws=draws, seed=seed
        )
        rows.append(
            SensitivityRow(
                "relative_magnitudes",
                mbar,
                None if interval.empty else interval.low,
                None if interval.empty else interval.high,
            )
        )
    for multiple in m_multiples:
        flci = sd_flci(
            beta, sigma, n_pre, n_post, l_vec, multiple * m_unit, level, programmes=programmes
        )
        rows.append(SensitivityRow("smoothness", multiple * m_unit, flci.low, flci.high))

    def rm_excludes(mbar: float) -> bool:
        return rm_rejects(
            beta, sigma, n_pre, n_post, l_vec, mbar, level, 0.0, draws=draws, seed=seed
        )

    def sd_excludes(m: float) -> bool:
        flci = sd_flci(beta, sigma, n_pre, n_post, l_vec, m, level, programmes=programmes)
        return flci.excludes(0.0)

    search_mbar = 2 * max(mbar_grid)
    search_m = 4 * max(m_multiples) * m_unit
    return Sensitivity(
        target=target,
        level=level,
        event_times=coefs.event_times,
        n_pre=n_pre,
        n_post=n_post,
        estimate=float(l_vec @ beta[n_pre:]),
        largest_pre_change=change,
        largest_pre_bend=bend,
        rows=tuple(rows),
        breakdown_mbar=breakdown(rm_excludes, search_mbar),
        breakdown_m=breakdown(sd_excludes, search_m),
        search_max_mbar=search_mbar,
        search_max_m=search_m,
        note=note,
        lf_draws=draws,
    )


def breakdown(excludes: Any, upper: float, steps: int = BREAKDOWN_STEPS) -> float | None:
    """The largest bound in ``[0, upper]`` at which ``excludes(bound)`` holds, by bisection
    (the sets grow with the bound); 0 when it fails at 0, None when it holds at ``upper``."""
    if not excludes(0.0):
        return 0.0
    if excludes(upper):
        return None
    low, high = 0.0, upper
    for _ in range(steps):
        middle = (low + high) / 2
        if excludes(middle):
            low = middle
        else:
            high = middle
    return low


def _check_covariance(sigma: np.ndarray) -> None:
    values = np.linalg.eigvalsh((sigma + sigma.T) / 2)
    if values.min() <= 1e-10 * max(float(values.max()), 1e-300):
        raise EstimationError(
            f"the covariance of the {len(sigma)} event-time coefficients is singular (rank "
            f"{int((values > 1e-10 * values.max()).sum())}): the bounds need one of full rank "
            "(more units, or fewer event times)"
        )
