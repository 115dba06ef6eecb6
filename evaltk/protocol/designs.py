"""Options of the comparison designs: difference-in-differences, event study, staggered adoption
(Callaway & Sant'Anna) and comparative interrupted time series, and how intervals are obtained.

Each design reads its own block under ``design:`` (``did``, ``event_study``, ``staggered``,
``cits``) and the shared ``inference`` block; :func:`check_comparison_design` checks that the
protocol's units and start dates can support the design chosen. Conventions a reader could
guess wrong:

* A unit listed in ``units`` without a date under ``intervention.start`` is a *comparison*
  unit (never treated within the window).
* The month containing a start date is the first treated month (INCLUSIVE); with
  ``period_bin: quarter`` the quarter containing it is the first treated quarter.
* Intervals and tests are clustered by unit (force). With few forces, cluster-robust errors
  over-reject, so ``inference.method: auto`` switches to the wild cluster bootstrap (did,
  event study) or randomisation inference (staggered) below :data:`FEW_CLUSTERS` units.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

if TYPE_CHECKING:
    from evaltk.protocol.spec import Protocol

#: Units (clusters) below which ``inference.method: auto`` avoids cluster-robust errors. It
#: equals :data:`evaltk.estimators.did.options.FEW_CLUSTERS` (a test keeps them equal; the
#: protocol does not import the estimators). Cameron, Gelbach & Miller (2008) found
#: cluster-robust Wald tests over-reject with 10-30 clusters and MacKinnon & Webb (2017) still
#: at 50 when cluster sizes differ as much as police forces do; every English and Welsh
#: analysis (at most 43 forces) therefore falls below it.
FEW_CLUSTERS = 50

#: Never-treated units Callaway & Sant'Anna needs for ``control_group: never_treated`` (plus
#: one per covariate), as :mod:`evaltk.estimators.staggered.data` requires.
MIN_NEVER_TREATED = 5

DesignKind = Literal[
    "its",
    "did",
    "event_study",
    "staggered_did",
    "cits",
    "synthetic_control",
    "synthetic_did",
    "stepped_wedge",
]

#: The designs of one treated unit against a donor pool (options in ``design.synthetic``).
SYNTHETIC_KINDS = ("synthetic_control", "synthetic_did")


def later_defaults_left_out(data: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a model's serialised fields) without the fields that hold their default.

    For fields added after protocols were first registered: left out of the canonical form
    while at their default, so that existing registrations keep their hash.
    """
    for name, default in defaults.items():
        if name in data and data[name] == default:
            del data[name]
    return data


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class InferenceOptions(_Frozen):
    """How intervals and p-values are obtained (did, event_study, staggered_did).

    ``method``:

    * ``auto`` (default): below 50 units (:data:`FEW_CLUSTERS`) the wild cluster bootstrap for
      did and event_study, randomisation inference for staggered_did; cluster-robust errors
      from 50 units up. Cluster-robust tests over-reject with few clusters (Cameron, Gelbach &
      Miller 2008; MacKinnon & Webb 2017), and a region has five forces.
    * ``cluster``: cluster-robust (CR1) errors by unit; for staggered_did the analytical
      influence-function errors of Callaway & Sant'Anna, clustered by unit.
    * ``wild_bootstrap``: restricted wild cluster bootstrap (linear), score bootstrap
      (Poisson); for staggered_did the multiplier bootstrap of the influence functions.
    * ``randomization``: adoption dates permuted across units (exact with all distinct
      assignments enumerated when there are no more than ``permutations``).
    """

    method: Literal["auto", "cluster", "wild_bootstrap", "randomization"] = "auto"
    draws: int = Field(
        default=9_999,
        ge=99,
        le=999_999,
        description="Bootstrap draws; every sign pattern is enumerated instead when there are "
        "no more than this many (6^5 = 7,776 Webb patterns with 5 forces).",
    )
    weights: Literal["auto", "rademacher", "webb"] = Field(
        default="auto",
        description="Wild bootstrap weights; auto: Webb's six-point weights when 2^units is "
        "below draws (Rademacher has only 32 patterns with 5 forces), else Rademacher.",
    )
    bootstrap_by: Literal["auto", "unit", "unit_block"] = Field(
        default="auto",
        description="Which groups share a bootstrap weight: unit, or unit x calendar year "
        "(subcluster bootstrap; auto uses it below 10 units, where it holds its size better).",
    )
    permutations: int = Field(
        default=999,
        ge=19,
        le=100_000,
        description="Random permutations for randomisation inference; all distinct assignments "
        "are enumerated instead when there are no more (60 with 5 forces, 3 distinct dates).",
    )


Family = Literal["poisson", "linear"]


class DiDOptions(_Frozen):
    """Difference-in-differences across units (design.kind: did).

    ``estimator``: ``twfe`` (two-way fixed effects: unit and month effects and one treatment
    indicator; any start dates) or ``two_by_two`` (treated and comparison units, before and
    after one common start). ``family``: ``poisson`` (log link with the measure's offset:
    population for rates, the denominator for shares and means; the effect is a rate ratio)
    or ``linear`` (least squares on the measure's value, e.g. the rate per 100,000; the effect
    is a difference). With ``pretrend`` the event study of ``design.event_study`` is fitted as
    well, for its joint pre-trend test and the event-study figure.
    """

    estimator: Literal["twfe", "two_by_two"] = "twfe"
    family: Family = "poisson"
    pretrend: bool = True


class EventStudyOptions(_Frozen):
    """Event study: TWFE with leads and lags of adoption (design.kind: event_study).

    Bins of ``width`` months: ``leads`` bins before adoption (the reference bin -1 included;
    the first holds every earlier month) and ``lags`` bins after it (the last holds every later
    month). The headline is the mean of the post-adoption bins; the pre-trend test is the
    joint test that every lead is zero.
    """

    family: Family = "poisson"
    leads: int = Field(default=4, ge=2, le=60)
    lags: int = Field(default=6, ge=0, le=120)
    width: int = Field(default=3, ge=1, le=12)


class StaggeredOptions(_Frozen):
    """Staggered adoption by Callaway & Sant'Anna (2021) (design.kind: staggered_did).

    Each cohort (units starting in the same period) is compared with units not yet treated
    (or never treated) over the same periods; the outcome is the measure's value (a rate per
    100,000, a share, a mean, a count per month) and every effect is a difference in it.
    """

    control_group: Literal["not_yet_treated", "never_treated"] = "not_yet_treated"
    est_method: Literal["dr", "ipw", "reg"] = "dr"
    covariates: list[str] = Field(
        default_factory=list,
        description="'population' (log population) or outcome ids, each unit's value in the "
        "base period; empty for unconditional parallel trends.",
    )
    base_period: Literal["varying", "universal"] = "varying"
    anticipation: int = Field(default=0, ge=0, le=12)
    aggregation: Literal["simple", "group", "dynamic", "calendar"] = Field(
        default="simple", description="Which aggregation of the ATT(g,t) is the headline."
    )
    period_bin: Literal["month", "quarter", "year"] = Field(
        default="month",
        description="Period of the panel: months, or calendar quarters / years, each the "
        "monthly average of the measure (sums over sums for rates, shares and means).",
    )
    min_e: int | None = Field(default=None, description="First event time of the dynamic view.")
    max_e: int | None = Field(default=None, description="Last event time of the dynamic view.")

    @model_validator(mode="after")
    def _window(self) -> StaggeredOptions:
        if self.min_e is not None and self.max_e is not None and self.min_e > self.max_e:
            raise ValueError("min_e must not exceed max_e")
        if len(set(self.covariates)) != len(self.covariates):
            raise ValueError("covariates lists a name twice")
        return self


class CITSOptions(_Frozen):
    """Comparative interrupted time series (design.kind: cits).

    The treated units' monthly series (summed) against the comparison units' series (summed):
    a segmented GLM with a series intercept, shared seasonality, and the treated series' own
    trend and level change; the effect is the difference in level change. Inference is
    model-based or Newey-West (``hac``) from that GLM, or (``model: gls``) from a GLS fit of
    the difference of the two log rates with AR(1) errors: two series are too few to cluster.
    """

    family: Literal["quasi_poisson", "poisson", "gaussian"] = "quasi_poisson"
    seasonality: Literal["fourier", "month", "none"] = "fourier"
    harmonics: int = Field(default=2, ge=1, le=5)
    slope_change: bool = False
    hac: bool = False
    hac_lags: int | None = Field(default=None, ge=0, le=36)
    placebo_test: bool = Field(
        default=True,
        description="Fit the same model to the pre-period alone with a placebo start halfway "
        "through it: the pre-trend test that the evidence level reads.",
    )
    model: Literal["glm", "gls"] = Field(
        default="glm",
        description="'glm': inference from the joint segmented GLM, errors model-based or as "
        "hac says. 'gls': the effect from generalised least squares on the difference of the "
        "two series' log rates with Poisson sampling, white and AR(1) errors, variance "
        "parameters by REML, Satterthwaite t tests (the GLM's errors over-reject when months "
        "are correlated); every month of both series needs a count above zero.",
    )

    @model_validator(mode="after")
    def _lags_need_hac(self) -> CITSOptions:
        if self.hac_lags is not None and not self.hac:
            raise ValueError("hac_lags applies only with hac: true")
        if self.model == "gls" and self.hac:
            raise ValueError("model 'gls' models the autocorrelation itself; drop hac")
        return self

    @model_serializer(mode="wrap")
    def _glm_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return later_defaults_left_out(handler(self), {"model": "glm"})


class SyntheticPredictor(_Frozen):
    """One predictor of the synthetic control: the mean of an outcome's measure over the
    months from ``start`` to ``end`` (both inclusive, before the intervention)."""

    outcome: str = Field(description="An outcome id of this protocol.")
    start: dt.date
    end: dt.date


class SyntheticOptions(_Frozen):
    """One treated unit against a donor pool (design.kind: synthetic_control, synthetic_did).

    The treated units (those with a start date, all on the same date) are one unit: several
    forces are summed into one region. ``donors``: the forces the synthetic unit may be built
    from, or ``untreated`` (every force in ``units`` without a start date). The outcome is the
    measure's value (a rate per 100,000, a share, a mean, a count per month); the effect is
    the average difference from the synthetic unit over the months from the start.

    Inference suits one treated unit: the p-value is the placebo in space (every donor in turn
    treated; the rank of the treated unit's post/pre RMSPE ratio, exact, never below
    1/units); the interval is the estimate plus or minus the normal quantile times the placebo
    standard error. ``placebo_in_time`` (the fit with a pretend start in the pre-period; the
    pre-trend test) and ``leave_one_out`` (refit without each weighted donor) are robustness
    checks shown beside it.
    """

    donors: list[str] | Literal["untreated"] = Field(
        default="untreated",
        description="ONS codes of the donor forces, or 'untreated': every force in units "
        "without a start date.",
    )
    predictors: list[SyntheticPredictor] = Field(
        default_factory=list,
        description="synthetic_control only: predictors matched with optimised weights "
        "(Abadie, Diamond & Hainmueller); empty to fit the months before the start alone.",
    )
    placebo_in_time: bool = Field(
        default=True,
        description="Refit with a pretend start in the months before the start: its placebo "
        "p-value is the design's pre-trend test (the Maryland level reads it).",
    )
    placebo_start: dt.date | None = Field(
        default=None,
        description="The pretend start of the placebo in time (default: halfway through the "
        "months before the start).",
    )
    leave_one_out: bool = Field(
        default=True, description="Refit without each donor that has a weight."
    )

    @field_validator("donors", mode="before")
    @classmethod
    def _donors_word(cls, value: Any) -> Any:
        # One message, not one per member of the union.
        if isinstance(value, str) and value != "untreated":
            raise ValueError(f"'{value}': use 'untreated' or a list of ONS force codes")
        return value


#: The option blocks each design reads (the others are left out of the canonical form, so an
#: irrelevant block, e.g. a template's ``its`` block under a staggered design, changes no hash).
USED_BLOCKS: dict[str, tuple[str, ...]] = {
    "its": ("its",),
    "did": ("did", "event_study", "inference"),
    "event_study": ("event_study", "inference"),
    "staggered_did": ("staggered", "inference"),
    "cits": ("cits",),
    "synthetic_control": ("synthetic",),
    "synthetic_did": ("synthetic",),
    "stepped_wedge": ("trial", "stepped_wedge"),
}


def used_blocks_only(design: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Drop the option blocks ``design.kind`` does not read from a serialised design."""
    used = set(USED_BLOCKS[design.kind])
    if design.kind == "did" and not design.did.pretrend:
        used.discard("event_study")
    return {k: v for k, v in data.items() if k == "kind" or k in used}


# --------------------------------------------------------------------------- cross-checks


def check_comparison_design(protocol: Protocol) -> None:
    """Raise ValueError (one sentence, led by the field) unless the units and start dates can
    support the comparison design of ``protocol``."""
    design = protocol.design
    kind = design.kind
    starts = {u: protocol.intervention.start[u] for u in protocol.treated_units}
    comparisons = protocol.comparison_units
    if not starts:
        raise ValueError(
            f"intervention.start gives no start date for any unit in 'units'; design "
            f"'{kind}' needs at least one treated unit"
        )
    for unit, start in starts.items():
        if not (protocol.window.start < start <= protocol.window.end):
            raise ValueError(
                f"intervention.start.{unit} {start} lies outside the analysis window "
                f"({protocol.window.start} to {protocol.window.end}): a treated unit needs "
                "months before and after its start"
            )
    if kind in SYNTHETIC_KINDS:
        _check_synthetic(protocol, starts, comparisons)
        return
    if kind != "cits" and protocol.window.washout_months:
        raise ValueError(
            f"window.washout_months applies to its and cits; design '{kind}' shows the months "
            "after adoption in its event-time effects instead: set it to 0"
        )
    distinct = sorted(set(starts.values()))
    if kind == "cits" or (kind == "did" and design.did.estimator == "two_by_two"):
        what = "a comparative ITS" if kind == "cits" else "a 2 x 2 DiD"
        if len(distinct) > 1:
            raise ValueError(
                f"intervention.start gives {len(distinct)} different dates; {what} needs one "
                "date for every treated unit (use did with estimator twfe, event_study or "
                "staggered_did for staggered starts)"
            )
        if not comparisons:
            raise ValueError(
                f"units has no comparison unit: {what} needs at least one unit without a "
                "start date (leave it out of intervention.start)"
            )
        return
    if not comparisons and len(distinct) < 2:
        raise ValueError(
            f"units has no comparison unit: design '{kind}' needs a unit without a start "
            "date (never treated) or units starting on different dates (not yet treated)"
        )
    if kind == "staggered_did":
        _check_staggered(protocol, comparisons)


def _check_staggered(protocol: Protocol, comparisons: list[str]) -> None:
    options = protocol.design.staggered
    needed = MIN_NEVER_TREATED + len(options.covariates)
    if options.control_group == "never_treated" and len(comparisons) < needed:
        raise ValueError(
            f"design.staggered.control_group never_treated needs at least {needed} units "
            f"without a start date; this protocol has {len(comparisons)}: use not_yet_treated"
        )
    if protocol.design.inference.weights == "webb":
        raise ValueError(
            "design.inference.weights webb does not apply to staggered_did: its multiplier "
            "bootstrap draws Rademacher weights (use auto or rademacher)"
        )
    ids = {o.id for o in protocol.outcomes}
    for name in options.covariates:
        if name != "population" and name not in ids:
            raise ValueError(
                f"design.staggered.covariates names '{name}': use 'population' or an outcome id "
                f"({', '.join(sorted(ids))})"
            )
    if "population" in options.covariates:
        data = protocol.data
        if data.kind == "series" and data.exposure is None:
            raise ValueError(
                "design.staggered.covariates names 'population', which needs data.exposure"
            )
        rates = [o for o in protocol.outcomes if o.measure and o.measure.kind.per_population]
        if data.kind == "episodes" and not rates:
            raise ValueError(
                "design.staggered.covariates names 'population', which is read from a rate "
                "outcome's denominator; this protocol has no outcome with aggregate rate"
            )


def _check_synthetic(
    protocol: Protocol, starts: dict[str, dt.date], comparisons: list[str]
) -> None:
    kind = protocol.design.kind
    options = protocol.design.synthetic
    if protocol.window.washout_months:
        raise ValueError(
            f"window.washout_months applies to its and cits; design '{kind}' compares every "
            "month from the start: set it to 0"
        )
    if len(set(starts.values())) > 1:
        raise ValueError(
            f"intervention.start gives {len(set(starts.values()))} different dates; design "
            f"'{kind}' treats the treated forces as one unit (summed) and needs one date"
        )
    if options.donors == "untreated":
        donors = comparisons
        if len(donors) < 2:
            raise ValueError(
                f"units has {len(donors)} force(s) without a start date; design '{kind}' needs "
                "at least two donors (list the forces that never started the scheme in units)"
            )
    else:
        donors = options.donors
        for donor in donors:
            if donor not in protocol.units:
                raise ValueError(
                    f"design.synthetic.donors names '{donor}', which is not in units: add it "
                    "to units or remove it from the donors"
                )
            if donor in starts:
                raise ValueError(
                    f"design.synthetic.donors names '{donor}', which has a start date in "
                    "intervention.start: a treated force cannot be a donor"
                )
        if len(set(donors)) != len(donors):
            raise ValueError("design.synthetic.donors lists a force twice")
        if len(donors) < 2:
            raise ValueError("design.synthetic.donors needs at least two forces")
    alpha = protocol.decision.alpha
    if 1 / (len(donors) + 1) >= alpha:
        field = "units" if options.donors == "untreated" else "design.synthetic.donors"
        raise ValueError(
            f"{field} gives {len(donors)} donor(s): the placebo p-value can be no smaller than "
            f"1/{len(donors) + 1} = {1 / (len(donors) + 1):.3f}, which is not below "
            f"decision.alpha {alpha:g}, so no result could be significant; add donors (at "
            f"least {int(1 / alpha)}) or raise alpha"
        )
    start = next(iter(starts.values())).replace(day=1)
    first = protocol.window.start.replace(day=1)
    pre_months = (start.year - first.year) * 12 + start.month - first.month
    if pre_months < 3:
        raise ValueError(
            f"window.start {protocol.window.start} leaves {pre_months} month(s) before the "
            f"start; design '{kind}' needs at least 3 (Abadie advises years of them)"
        )
    _check_predictors(protocol, start, len(starts))
    placebo = options.placebo_start
    if placebo is not None:
        before = (placebo.year - first.year) * 12 + placebo.month - first.month
        if not 2 <= before < pre_months:
            raise ValueError(
                f"design.synthetic.placebo_start {placebo} must leave at least 2 months of the "
                f"window before it and fall before the start ({start})"
            )


def _check_predictors(protocol: Protocol, start: dt.date, n_treated: int) -> None:
    options = protocol.design.synthetic
    if not options.predictors:
        return
    if protocol.design.kind == "synthetic_did":
        raise ValueError(
            "design.synthetic.predictors applies to synthetic_control only: synthetic_did "
            "fits the months before the start (remove the predictors)"
        )
    if n_treated > 1:
        raise ValueError(
            "design.synthetic.predictors needs one treated force: a summed region has no "
            "single predictor value (remove the predictors or treat one force)"
        )
    ids = {o.id for o in protocol.outcomes}
    for i, predictor in enumerate(options.predictors):
        where = f"design.synthetic.predictors[{i}]"
        if predictor.outcome not in ids:
            raise ValueError(
                f"{where}.outcome '{predictor.outcome}' is not an outcome id "
                f"({', '.join(sorted(ids))})"
            )
        if predictor.end < predictor.start:
            raise ValueError(f"{where}: end {predictor.end} is before start {predictor.start}")
        if predictor.start < protocol.window.start or predictor.end.replace(day=1) >= start:
            raise ValueError(
                f"{where}: months {predictor.start} to {predictor.end} must lie in the window "
                f"and before the start ({start}): predictors are measured before the scheme"
            )


def first_start(protocol: Protocol) -> dt.date:
    """The earliest start date among the analysed units (ITS: the common one; a stepped-wedge
    trial: its first step, drawn or not)."""
    if protocol.design.kind == "stepped_wedge" and protocol.design.trial is not None:
        return protocol.design.trial.first_start
    return min(protocol.intervention.start[u] for u in protocol.treated_units)


__all__ = [
    "FEW_CLUSTERS",
    "CITSOptions",
    "DiDOptions",
    "EventStudyOptions",
    "InferenceOptions",
    "StaggeredOptions",
    "SyntheticOptions",
    "SyntheticPredictor",
    "check_comparison_design",
    "first_start",
    "used_blocks_only",
]
