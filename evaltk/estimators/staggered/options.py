"""Allowed options for Callaway & Sant'Anna, validated once, in one place."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Literal, get_args

from evaltk.errors import EstimationError

ControlGroup = Literal["never_treated", "not_yet_treated"]
EstMethod = Literal["dr", "ipw", "reg"]
BasePeriod = Literal["varying", "universal"]
AggregationType = Literal["simple", "group", "dynamic", "calendar"]
Multiplier = Literal["rademacher", "mammen"]

CONTROL_GROUPS: tuple[str, ...] = get_args(ControlGroup)
EST_METHODS: tuple[str, ...] = get_args(EstMethod)
BASE_PERIODS: tuple[str, ...] = get_args(BasePeriod)
AGGREGATION_TYPES: tuple[str, ...] = get_args(AggregationType)
MULTIPLIERS: tuple[str, ...] = get_args(Multiplier)

# DRDID trims control units whose propensity score is at or above this level (ipw and dr).
TRIM_LEVEL = 0.995


@dataclass(frozen=True)
class CSSpec:
    """What to estimate: comparison group, 2 × 2 estimator, base period, covariates.

    Parameters
    ----------
    control_group : {"never_treated", "not_yet_treated"}
        ``never_treated`` compares each cohort with units never treated in the panel;
        ``not_yet_treated`` also uses units first treated after the later of the two periods
        compared (plus ``anticipation``), as R ``did``'s ``"notyettreated"``.
    est_method : {"dr", "ipw", "reg"}
        The 2 × 2 estimator for each ATT(g,t): doubly robust (Sant'Anna & Zhao 2020, R
        ``DRDID::drdid_panel``, the default of R ``did``), standardised (Hajek) inverse
        probability weighting (``DRDID::std_ipw_did_panel``) or outcome regression
        (``DRDID::reg_did_panel``).
    base_period : {"varying", "universal"}
        ``varying`` (R's default): pre-treatment ATT(g,t) compare period t with t - 1 and
        post-treatment ones compare t with g - 1 - anticipation. ``universal``: every ATT(g,t)
        compares with g - 1 - anticipation, and that cell is reported as 0 with no standard
        error.
    anticipation : int
        Number of periods before g in which units may already react (0 by default). Measured
        in periods of the panel's time variable (its values, not its positions).
    covariates : tuple of str
        Column names of covariates for conditional parallel trends; each unit's value is taken
        from the earlier of the two periods compared (the base period for post-treatment
        cells), as R ``did`` does. Empty for unconditional parallel trends.

    Raises
    ------
    EstimationError
        If an option is not one of the allowed values; the message lists them.
    """

    control_group: ControlGroup = "never_treated"
    est_method: EstMethod = "dr"
    base_period: BasePeriod = "varying"
    anticipation: int = 0
    covariates: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_choice("control_group", self.control_group, CONTROL_GROUPS)
        _check_choice("est_method", self.est_method, EST_METHODS)
        _check_choice("base_period", self.base_period, BASE_PERIODS)
        if not is_int(self.anticipation) or self.anticipation < 0:
            raise EstimationError(
                f"Callaway-Sant'Anna anticipation must be a non-negative integer, got "
                f"{self.anticipation!r}."
            )
        if isinstance(self.covariates, str) or not all(isinstance(c, str) for c in self.covariates):
            raise EstimationError(
                "Callaway-Sant'Anna covariates must be a list of column names, e.g. "
                f"['lpop'], got {self.covariates!r}."
            )
        if len(set(self.covariates)) != len(self.covariates):
            raise EstimationError(
                f"Callaway-Sant'Anna covariates repeat a column: {list(self.covariates)!r}."
            )


@dataclass(frozen=True)
class CSInference:
    """How to do inference: analytical or multiplier-bootstrap errors, bands, level.

    Parameters
    ----------
    bootstrap : bool
        Standard errors from the multiplier bootstrap (as R ``did`` with ``bstrap=TRUE``)
        instead of the analytical influence-function ones.
    n_boot : int
        Bootstrap draws (R's ``biters``).
    seed : int
        Seed of the draws; the result records it, so a run can be repeated exactly.
    cband : bool
        Simultaneous (uniform, sup-t) bands instead of pointwise intervals. The critical value
        always comes from the multiplier bootstrap, so ``cband=True`` draws even when
        ``bootstrap=False`` (the standard errors then stay analytical).
    level : float
        Confidence level of the intervals (0.95 for 95 % intervals).
    multiplier : {"rademacher", "mammen"}
        Bootstrap weights: Rademacher (+1/-1 with equal probability, what R ``did`` draws
        through ``BMisc``) or Mammen's two-point weights.
    """

    bootstrap: bool = False
    n_boot: int = 999
    seed: int = 0
    cband: bool = False
    level: float = 0.95
    multiplier: Multiplier = "rademacher"

    def __post_init__(self) -> None:
        for name in ("bootstrap", "cband"):
            if not isinstance(getattr(self, name), bool):
                raise EstimationError(
                    f"Callaway-Sant'Anna {name} must be true or false, got {getattr(self, name)!r}."
                )
        if not is_int(self.n_boot) or self.n_boot < 2:
            raise EstimationError(
                f"Callaway-Sant'Anna n_boot must be an integer of at least 2 (999 is usual), "
                f"got {self.n_boot!r}."
            )
        if not is_int(self.seed) or self.seed < 0:
            raise EstimationError(
                f"Callaway-Sant'Anna seed must be a non-negative integer, got {self.seed!r}."
            )
        check_level(self.level)
        _check_choice("multiplier", self.multiplier, MULTIPLIERS)

    @property
    def draws(self) -> bool:
        """Whether the fit needs multiplier-bootstrap draws."""
        return self.bootstrap or self.cband

    @property
    def alpha(self) -> float:
        """``1 - level`` (the name R ``did`` uses; kept for callers that read it)."""
        return 1 - self.level


def check_level(level: object) -> float:
    """Return ``level`` as a float, or raise if it is not strictly between 0 and 1."""
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < float(level) < 1:
        raise EstimationError(
            f"Callaway-Sant'Anna level must be a number strictly between 0 and 1 (0.95 for 95 % "
            f"intervals), got {level!r}."
        )
    return float(level)


def check_alpha(alpha: object) -> float:
    """Return ``alpha`` as a float, or raise if it is not strictly between 0 and 1."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < float(alpha) < 1:
        raise EstimationError(
            f"Callaway-Sant'Anna alpha must be a number strictly between 0 and 1 (0.05 for 95 % "
            f"intervals), got {alpha!r}."
        )
    return float(alpha)


def resolve_level(level: float | None, alpha: float | None, default: float) -> float:
    """The confidence level from ``level`` or, for callers written against R ``did``'s
    ``alp``, from ``alpha`` (``1 - level``); ``default`` when neither is given.

    Raises
    ------
    EstimationError
        If both are given, or either is not strictly between 0 and 1.
    """
    if level is not None and alpha is not None:
        raise EstimationError(
            "Callaway-Sant'Anna takes level or alpha (= 1 - level), not both; use level."
        )
    if alpha is not None:
        return 1 - check_alpha(alpha)
    return default if level is None else check_level(level)


def is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise EstimationError(
            f"Callaway-Sant'Anna {name} {value!r} is not supported; use one of "
            f"{', '.join(repr(a) for a in allowed)}."
        )
