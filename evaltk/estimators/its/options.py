"""Allowed options for the interrupted time series estimator, validated once, in one place."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Literal, get_args

from evaltk.errors import EstimationError

Family = Literal["poisson", "quasi_poisson", "negative_binomial", "gaussian"]
Model = Literal["glm", "gls", "auto"]
Seasonality = Literal["none", "fourier", "month"]
Scale = Literal["ratio", "difference"]

FAMILIES: tuple[str, ...] = get_args(Family)
MODELS: tuple[str, ...] = get_args(Model)
SEASONALITIES: tuple[str, ...] = get_args(Seasonality)
COUNT_FAMILIES: frozenset[str] = frozenset({"poisson", "quasi_poisson", "negative_binomial"})

# sin(2*pi*6*m/12) is zero for every calendar month, so K = 6 would add an empty column; a fully
# flexible seasonal pattern is what seasonality="month" is for.
MAX_HARMONICS = 5


def default_hac_lags(n_obs: int) -> int:
    """Newey-West's rule of thumb for the HAC truncation lag.

    Parameters
    ----------
    n_obs : int
        Number of months in the fit (washout months excluded).

    Returns
    -------
    int
        ``max(1, floor(4 * (n_obs / 100) ** (2 / 9)))``: 2 below 28 months, 3 for 28-99,
        4 for 100-272.

    Notes
    -----
    Newey & West (1994). With the Bartlett kernel, lag ``L`` gives weights ``1 - l / (L + 1)``.
    """
    return max(1, math.floor(4 * (n_obs / 100) ** (2 / 9)))


@dataclass(frozen=True)
class ITSSpec:
    """What to fit: the family, seasonality, effect terms and inference for one ITS model.

    Parameters
    ----------
    family : {"quasi_poisson", "poisson", "negative_binomial", "gaussian"}
        ``quasi_poisson`` (default) is a Poisson GLM whose covariance is scaled by the Pearson
        dispersion (chi-square / residual df), as R's ``quasipoisson``. ``negative_binomial`` is
        NB2 (variance ``mu + alpha * mu**2``) with ``alpha`` estimated by maximum likelihood
        jointly with the coefficients (statsmodels' discrete ``NegativeBinomial``).
        ``gaussian`` is ordinary least squares on the identity scale; its effects are
        differences and it takes no exposure.
    seasonality : {"fourier", "month", "none"}
        ``fourier`` adds ``harmonics`` sine/cosine pairs of period 12 in the calendar month (as
        R ``tsModel::harmonic(month, K, 12)``); ``month`` adds 11 indicators (January is the
        reference); ``none`` adds nothing.
    harmonics : int
        Number of Fourier pairs, 1 to 5. Ignored unless ``seasonality == "fourier"``.
    slope_change : bool
        Add a change in slope after the intervention as well as a change in level.
    hac : bool
        Use Newey-West (HAC, Bartlett kernel, small-sample factor ``n / (n - k)``) covariance
        instead of the model-based one. Off by default: in simulations of 48-120 months with
        AR(1) log-noise, HAC intervals covered less often than the quasi-Poisson model-based
        ones (see ``tests/estimators/its/test_coverage.py``).
    hac_lags : int or None
        HAC truncation lag; ``None`` uses :func:`default_hac_lags` of the number of fitted
        months. Only allowed with ``hac=True``.
    ar1 : bool
        Use an AR(1) working-correlation covariance instead of the model-based one: the
        coefficients are unchanged, and their covariance is
        ``phi * B Xw' R Xw B`` with ``Xw`` the design scaled by the square root of the GLM
        working weights, ``B = (Xw' Xw)^-1``, ``R_ts = rho**|t - s|`` over calendar months
        (a washout or gap is respected) and ``rho`` the lag-1 autocorrelation of the Pearson
        residuals with Kendall's ``(1 + 3 rho) / n`` bias correction, bounded to +/-0.95
        (see :mod:`evaltk.estimators.its.covariance`). ``phi`` is the Pearson dispersion for
        ``quasi_poisson``, the residual variance for ``gaussian`` and 1 for ``poisson`` and
        ``negative_binomial``. Meant for series where persistent month-to-month noise
        dominates the count noise (large counts), where the model-based and HAC intervals
        under-cover. Cannot be combined with ``hac``.
    model : {"glm", "gls"}
        ``glm`` (default) fits the segmented GLM of ``family`` with the covariance chosen by
        ``hac``/``ar1``. ``gls`` fits the log rate (the series itself for ``gaussian``) by
        generalised least squares with errors made of the Poisson sampling variance, white
        extra variation and an AR(1) process, variance parameters by REML, Satterthwaite
        covariance and t tests (see :mod:`evaltk.estimators.its.gls`). Meant for long series
        of large counts, where slow month-to-month variation dominates; every fitted month
        needs a count above zero. Cannot be combined with ``hac`` or ``ar1``. ``auto``
        resolves to ``gls`` or ``glm`` from the series itself when the model is built (see
        :mod:`evaltk.estimators.its.auto`); with ``auto``, ``ar1``/``hac`` name the GLM's
        errors for when it falls back to the GLM.
    washout_months : int
        Months from the intervention month on that are left out of the fit and of the
        post-period sums (implementation period). 0 keeps them all.
    level : float
        Confidence level of every interval, strictly between 0 and 1.

    Raises
    ------
    EstimationError
        If an option is not one of the allowed values; the message lists them.
    """

    family: Family = "quasi_poisson"
    seasonality: Seasonality = "fourier"
    harmonics: int = 2
    slope_change: bool = False
    hac: bool = False
    hac_lags: int | None = None
    ar1: bool = False
    model: Model = "glm"
    washout_months: int = 0
    level: float = 0.95

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise EstimationError(
                f"ITS family {self.family!r} is not supported; use one of {', '.join(FAMILIES)}."
            )
        if self.seasonality not in SEASONALITIES:
            raise EstimationError(
                f"ITS seasonality {self.seasonality!r} is not supported; use one of "
                f"{', '.join(SEASONALITIES)}."
            )
        if not _is_int(self.harmonics) or not 1 <= self.harmonics <= MAX_HARMONICS:
            raise EstimationError(
                f"ITS harmonics must be an integer from 1 to {MAX_HARMONICS}, got "
                f"{self.harmonics!r}; for a free seasonal shape use seasonality='month'."
            )
        for name in ("slope_change", "hac", "ar1"):
            if not isinstance(getattr(self, name), bool):
                raise EstimationError(
                    f"ITS {name} must be true or false, got {getattr(self, name)!r}."
                )
        if self.model not in MODELS:
            raise EstimationError(
                f"ITS model {self.model!r} is not supported; use one of {', '.join(MODELS)}."
            )
        if self.model == "gls" and (self.hac or self.ar1):
            raise EstimationError(
                "ITS model 'gls' models the autocorrelation itself; drop hac and ar1 with it."
            )
        if self.hac and self.ar1:
            raise EstimationError(
                "ITS hac and ar1 are both set; they are alternative covariances, choose one."
            )
        if self.hac_lags is not None:
            if not self.hac:
                raise EstimationError(
                    "ITS hac_lags is set but hac is false; set hac=True or drop hac_lags."
                )
            if not _is_int(self.hac_lags) or self.hac_lags < 0:
                raise EstimationError(
                    f"ITS hac_lags must be a non-negative integer or None, got {self.hac_lags!r}."
                )
        if not _is_int(self.washout_months) or self.washout_months < 0:
            raise EstimationError(
                f"ITS washout_months must be a non-negative integer, got {self.washout_months!r}."
            )
        if (
            isinstance(self.level, bool)
            or not isinstance(self.level, numbers.Real)
            or not 0 < self.level < 1
        ):
            raise EstimationError(
                f"ITS level must be a number strictly between 0 and 1 (e.g. 0.95), "
                f"got {self.level!r}."
            )

    @property
    def scale(self) -> Scale:
        """``"ratio"`` for the log-link count families, ``"difference"`` for gaussian."""
        return "difference" if self.family == "gaussian" else "ratio"


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
