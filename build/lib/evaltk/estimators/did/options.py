"""Allowed options for the difference-in-differences estimators, validated once, in one place."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Literal, get_args

from evaltk.errors import EstimationError

Family = Literal["linear", "poisson"]
InferenceMethod = Literal["auto", "cluster", "wild_bootstrap", "randomization"]
Weights = Literal["auto", "rademacher", "webb"]
BootstrapBy = Literal["auto", "unit", "unit_block"]
Scale = Literal["ratio", "difference"]
CITSFamily = Literal["quasi_poisson", "poisson", "gaussian"]
CITSModelKind = Literal["glm", "gls"]
Seasonality = Literal["none", "fourier", "month"]

FAMILIES: tuple[str, ...] = get_args(Family)
INFERENCE_METHODS: tuple[str, ...] = get_args(InferenceMethod)
WEIGHTS: tuple[str, ...] = get_args(Weights)
BOOTSTRAP_BY: tuple[str, ...] = get_args(BootstrapBy)
CITS_FAMILIES: tuple[str, ...] = get_args(CITSFamily)
CITS_MODELS: tuple[str, ...] = get_args(CITSModelKind)
SEASONALITIES: tuple[str, ...] = get_args(Seasonality)

#: Below this many clusters ``inference="auto"`` uses the wild cluster bootstrap instead of
#: cluster-robust (CR1) t-tests. Cameron, Gelbach & Miller (2008, REStat) found CR1 Wald tests
#: over-reject with 10-30 clusters; MacKinnon & Webb (2017, J. Applied Econometrics) showed
#: over-rejection persists at 50 clusters when cluster sizes differ as much as US states do, and
#: is worse when few clusters are treated. Police forces differ in population more than
#: tenfold and adoption is staggered over a handful of forces, so every English and Welsh
#: analysis (at most 43 forces) falls under the threshold: the bootstrap is cheap, and with
#: many clusters it agrees with CR1 anyway.
FEW_CLUSTERS = 50

#: Below this many clusters ``bootstrap_by="auto"`` draws the bootstrap weights by unit ×
#: block of 12 periods (unit × calendar year for months) while the covariance stays clustered
#: by unit: the subcluster wild bootstrap of MacKinnon & Webb (2018, *Econometrics Journal*
#: 21(2)). With 5 clusters the unit-level WCR has only 6**5 weight patterns and, on the project
#: simulator's five-force region, rejected a true null 9 % of the time at 5 % (unit × year:
#: 6.5 %); with 12 forces the unit-level WCR was at 5.4 % (tests/estimators/did/test_size.py).
SUBCLUSTER_BELOW = 10

#: Default seed, so that the same data give byte-identical results without the caller seeding.
DEFAULT_SEED = 20_180_601


@dataclass(frozen=True)
class InferenceSpec:
    """How intervals and p-values are obtained for a DiD-type estimate.

    Parameters
    ----------
    method : {"auto", "cluster", "wild_bootstrap", "randomization"}
        ``cluster``: cluster-robust (by unit) covariance from linearmodels / statsmodels, normal
        (Poisson) or t(G - 1) (linear) reference. ``wild_bootstrap``: restricted wild cluster
        bootstrap (WCR) for linear models, the score bootstrap for Poisson ones.
        ``randomization``: adoption dates permuted across units. ``auto`` (default) is
        ``wild_bootstrap`` when the number of clusters is below ``few_clusters`` and
        ``cluster`` otherwise (see :data:`FEW_CLUSTERS` for why).
    level : float
        Confidence level of intervals, strictly between 0 and 1.
    draws : int
        Bootstrap draws ``B`` (default 9,999). All ``2**G`` (Rademacher) or ``6**G`` (Webb)
        sign patterns are enumerated instead when that is no more than ``draws``.
    weights : {"auto", "rademacher", "webb"}
        Wild bootstrap weights. ``auto`` uses Rademacher when ``2**G >= draws`` and Webb's
        six-point weights otherwise: with few clusters Rademacher has too few distinct
        patterns (with 5 clusters only 32, so no p-value can fall below 2/32 > 0.05; Webb 2014).
    permutations : int
        Random permutations for randomisation inference (default 999); all distinct
        assignments are enumerated instead when there are no more than this many.
    seed : int
        Seed of the bootstrap weights and permutations (fixed by default, so results repeat).
    ci : bool
        Compute intervals by inverting the bootstrap or randomisation test (a root search;
        turn off in simulation studies that need only p-values).
    few_clusters : int
        Threshold of ``auto``; clusters strictly fewer than this use the wild bootstrap.
    bootstrap_by : {"auto", "unit", "unit_block"}
        Which groups share a bootstrap weight: ``unit`` (the ordinary wild cluster bootstrap),
        or ``unit_block``, unit × consecutive block of ``block`` periods (the subcluster wild
        bootstrap; the covariance is still clustered by unit). ``auto`` is ``unit_block``
        below :data:`SUBCLUSTER_BELOW` (10) clusters and ``unit`` otherwise.
    block : int
        Periods per block for ``unit_block`` (12: calendar years for monthly data).

    Raises
    ------
    EstimationError
        If an option is not one of the allowed values.
    """

    method: InferenceMethod = "auto"
    level: float = 0.95
    draws: int = 9_999
    weights: Weights = "auto"
    permutations: int = 999
    seed: int = DEFAULT_SEED
    ci: bool = True
    few_clusters: int = FEW_CLUSTERS
    bootstrap_by: BootstrapBy = "auto"
    block: int = 12

    def __post_init__(self) -> None:
        _one_of("inference method", self.method, INFERENCE_METHODS)
        _one_of("bootstrap weights", self.weights, WEIGHTS)
        _one_of("bootstrap_by", self.bootstrap_by, BOOTSTRAP_BY)
        check_level(self.level)
        for name, low in (("draws", 99), ("permutations", 19), ("few_clusters", 2), ("block", 1)):
            value = getattr(self, name)
            if not is_int(value) or value < low:
                raise EstimationError(
                    f"inference {name} must be an integer of at least {low}, got {value!r}."
                )
        if not is_int(self.seed) or self.seed < 0:
            raise EstimationError(
                f"inference seed must be a non-negative integer, got {self.seed!r}."
            )
        if not isinstance(self.ci, bool):
            raise EstimationError(f"inference ci must be true or false, got {self.ci!r}.")


@dataclass(frozen=True)
class DiDSpec:
    """The model of a 2 × 2 or two-way fixed effects DiD.

    Parameters
    ----------
    family : {"linear", "poisson"}
        ``linear``: least squares, effect a difference in the outcome's units. ``poisson``:
        Poisson (quasi-)likelihood with a log link and ``log(exposure)`` offset, effect a rate
        ratio; the cluster-robust covariance makes it valid under overdispersion.
    per : float
        For ``linear`` with an exposure column, the response is ``outcome / exposure * per``
        (a rate per 100,000 by default). Ignored by ``poisson``.
    """

    family: Family = "linear"
    per: float = 100_000.0

    def __post_init__(self) -> None:
        _one_of("DiD family", self.family, FAMILIES)
        if isinstance(self.per, bool) or not isinstance(self.per, numbers.Real) or self.per <= 0:
            raise EstimationError(f"DiD per must be a positive number, got {self.per!r}.")

    @property
    def scale(self) -> Scale:
        """``"ratio"`` for Poisson, ``"difference"`` for linear."""
        return "ratio" if self.family == "poisson" else "difference"


@dataclass(frozen=True)
class EventStudySpec(DiDSpec):
    """An event study: a DiD model with leads and lags of adoption.

    Parameters
    ----------
    family, per
        As :class:`DiDSpec`.
    leads : int
        Number of pre-adoption bins, the reference bin ``-1`` included: bins ``-leads .. -1``,
        with ``-leads`` holding every earlier period (binned endpoint). At least 2, so that
        there is one lead to test.
    lags : int
        Post-adoption bins ``0 .. lags``, with ``lags`` holding every later period.
    width : int
        Periods per bin (1: one bin per month; 3: quarters of months). Bin ``e`` holds event
        times ``e * width .. (e + 1) * width - 1``; event time 0 is the adoption period
        (INCLUSIVE: it is a treated period).
    """

    leads: int = 4
    lags: int = 6
    width: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, low in (("leads", 2), ("lags", 0), ("width", 1)):
            value = getattr(self, name)
            if not is_int(value) or value < low:
                raise EstimationError(
                    f"event study {name} must be an integer of at least {low}, got {value!r}."
                )


@dataclass(frozen=True)
class CITSSpec:
    """Comparative interrupted time series: a treated series against comparison series.

    Parameters
    ----------
    family : {"quasi_poisson", "poisson", "gaussian"}
        ``quasi_poisson`` (default): Poisson GLM with covariance scaled by the Pearson
        dispersion; ``gaussian``: least squares on the outcome itself.
    seasonality : {"fourier", "month", "none"}
        Shared seasonal terms: ``harmonics`` Fourier pairs of period 12, or 11 month dummies.
    harmonics : int
        Fourier pairs, 1 to 5.
    slope_change : bool
        Also estimate the difference in slope change.
    hac : bool
        Newey-West covariance per series (statsmodels ``hac-panel``) instead of model-based.
    hac_lags : int or None
        HAC truncation lag (default ``max(1, floor(4 (n/100)^(2/9)))`` of the months).
    model : {"glm", "gls"}
        ``glm`` (default): inference from the joint GLM, model-based or HAC. ``gls``: the
        effect from a GLS fit of the difference of the two log rates with Poisson sampling,
        white and AR(1) errors by REML and Satterthwaite t tests
        (:mod:`evaltk.estimators.did.cits_gls`); the model-based and HAC errors of the GLM
        rejected a true null 15-23 % of the time at 5 % with month-to-month correlation 0.5.
        Excludes ``hac``.
    level : float
        Confidence level.
    """

    family: CITSFamily = "quasi_poisson"
    seasonality: Seasonality = "fourier"
    harmonics: int = 2
    slope_change: bool = False
    hac: bool = False
    hac_lags: int | None = None
    level: float = 0.95
    model: CITSModelKind = "glm"

    def __post_init__(self) -> None:
        _one_of("CITS family", self.family, CITS_FAMILIES)
        _one_of("CITS model", self.model, CITS_MODELS)
        if self.model == "gls" and self.hac:
            raise EstimationError(
                "CITS model 'gls' models the autocorrelation itself; drop hac (or use model 'glm')."
            )
        _one_of("CITS seasonality", self.seasonality, SEASONALITIES)
        if not is_int(self.harmonics) or not 1 <= self.harmonics <= 5:
            raise EstimationError(f"CITS harmonics must be 1 to 5, got {self.harmonics!r}.")
        for name in ("slope_change", "hac"):
            if not isinstance(getattr(self, name), bool):
                raise EstimationError(f"CITS {name} must be true or false.")
        if self.hac_lags is not None and (
            not self.hac or not is_int(self.hac_lags) or self.hac_lags < 0
        ):
            raise EstimationError(
                "CITS hac_lags needs hac=True and a non-negative integer; drop it or set hac."
            )
        check_level(self.level)

    @property
    def scale(self) -> Scale:
        return "difference" if self.family == "gaussian" else "ratio"


def check_level(level: object) -> None:
    """Raise unless ``level`` is a number strictly between 0 and 1."""
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < float(level) < 1:
        raise EstimationError(
            f"confidence level must be strictly between 0 and 1 (e.g. 0.95), got {level!r}."
        )


def is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _one_of(what: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise EstimationError(
            f"{what} {value!r} is not supported; use one of {', '.join(allowed)}."
        )
