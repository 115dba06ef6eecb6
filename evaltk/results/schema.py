"""``results.json``: the contract between a run and everything that reads it (book, scripts).

Versioned by :data:`RESULTS_SCHEMA_VERSION` (semantic: a new optional field bumps the minor,
a removed or renamed field the major). The JSON Schema is exported to
``protocols/results.schema.json`` by ``evaltk schema``. The file is deterministic: no wall-clock
time or absolute path is written, so the same inputs and seed give byte-identical output.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

RESULTS_SCHEMA_VERSION = "1.11"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Interval(_Frozen):
    estimate: float | None
    ci_low: float | None
    ci_high: float | None


class Cumulative(_Frozen):
    """Events over the post period (positive = averted), implied by the headline effect: its
    estimate and interval ends mapped onto the treated force-months, so that they agree with
    the effect in sign and significance."""

    averted: float | None = Field(
        description="Counterfactual minus fitted total over the treated force-months (the "
        "effect's estimate mapped to events)."
    )
    ci_low: float | None
    ci_high: float | None
    observed: float | None = Field(description="Observed total over the post period.")
    counterfactual: float | None = Field(description="Counterfactual total (model).")
    unit: str = Field(description="What is summed: 'events', 'minutes', or 'not additive'.")
    force_months: int | None = Field(
        default=None, description="Treated force-months (ITS: post months) summed over."
    )


class Diagnostics(_Frozen):
    dispersion: float | None = Field(description="Pearson chi-square / residual df.")
    ljung_box_p: float | None = Field(description="Residual autocorrelation test p-value.")
    ljung_box_lags: int | None
    durbin_watson: float | None
    n_pre: int
    n_post: int
    n_washout: int


class PreTrendTest(_Frozen):
    """A test of parallel trends before the start (comparison designs): a small p-value is
    evidence that treated and comparison units were already drifting apart."""

    statistic: float | None = Field(description="The test statistic; null if not computed.")
    df: int | None = Field(description="Degrees of freedom (leads or cells tested), if any.")
    p_value: float | None
    method: str = Field(
        description="cluster, wild_bootstrap, randomization (the effect's inference), wald "
        "(Callaway & Sant'Anna) or placebo (comparative ITS)."
    )
    text: str = Field(description="The test in words.")


class EventTimeEffect(_Frozen):
    """One event-time effect: periods since adoption (0 = the start period; negative = before)."""

    event_time: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    kind: Literal["lead", "reference", "lag"]


class SensitivityBound(_Frozen):
    """The robust interval of the sensitivity target under one bound on non-parallel trends."""

    restriction: Literal["relative_magnitudes", "smoothness"] = Field(
        description="relative_magnitudes: every post-start change of the trend difference is "
        "at most `bound` (Mbar) times the largest pre-start change; smoothness: the trend "
        "difference bends by at most `bound` (M, the coefficients' units per period "
        "squared) from one period to the next."
    )
    bound: float
    ci_low: float | None
    ci_high: float | None
    excludes_null: bool | None = Field(
        description="Whether the interval excludes no effect (0, or 1 for a ratio)."
    )


class Sensitivity(_Frozen):
    """Rambachan & Roth (2023): how far trends may depart from parallel before the result's
    conclusion (an interval that excludes no effect) fails. Event-study and staggered designs."""

    computed: bool
    reason: str = Field(default="", description="Why the bounds were not computed.")
    target: str | None = Field(
        default=None,
        description="average_post: the mean of the event-time effects from the start on.",
    )
    scale: Literal["ratio", "difference"] | None = None
    level: float | None = None
    n_pre: int | None = Field(default=None, description="Pre-start event times used.")
    n_post: int | None = Field(default=None, description="Post-start event times used.")
    estimate: float | None = Field(default=None, description="The target's estimate.")
    largest_pre_change: float | None = Field(
        default=None, description="Largest change between consecutive pre-start coefficients."
    )
    largest_pre_bend: float | None = Field(
        default=None, description="Largest second difference of the pre-start coefficients."
    )
    bounds: list[SensitivityBound] = Field(default_factory=list)
    breakdown_mbar: float | None = Field(
        default=None,
        description="Largest Mbar at which the relative-magnitudes set excludes no effect (0: "
        "not even at 0; null: at every value up to search_max_mbar).",
    )
    breakdown_m: float | None = Field(
        default=None, description="Largest M at which the smoothness interval excludes no effect."
    )
    search_max_mbar: float | None = None
    search_max_m: float | None = None
    sentence: str = Field(default="", description="The breakdown value in words.")
    method: str = ""
    note: str = ""


class FigureFile(_Frozen):
    """An extra figure of an outcome, relative to the results folder."""

    kind: Literal["event_study", "heatmap", "groups", "series", "placebo"]
    path: str


class DonorWeight(_Frozen):
    unit: str
    name: str = Field(description="The force's name.")
    weight: float = Field(description="Its weight in the synthetic unit (0 below 0.0001).")


class PlaceboFit(_Frozen):
    """One unit fitted as if it were the treated one (placebo in space)."""

    unit: str
    name: str
    role: Literal["treated", "placebo"]
    estimate: float | None
    pre_rmspe: float | None
    post_rmspe: float | None
    ratio: float | None = Field(description="Post- over pre-start RMSPE.")
    rank: int = Field(description="Rank by ratio, largest first (ties share the lower rank).")


class PlaceboInTimeFit(_Frozen):
    start: str = Field(description="The pretend start (first month).")
    estimate: float | None
    rmspe_ratio: float | None


class LeaveOneOutFit(_Frozen):
    unit: str = Field(description="The donor left out.")
    name: str
    estimate: float | None


class PredictorBalance(_Frozen):
    predictor: str
    treated: float | None
    synthetic: float | None
    donor_mean: float | None
    weight: float | None = Field(description="The predictor's weight (V).")


class SyntheticFit(_Frozen):
    """Synthetic control and synthetic DiD: what the synthetic unit is and how well it fits."""

    method: Literal["synthetic_control", "synthetic_did"]
    treated: str = Field(description="The treated unit (force codes joined by + for a region).")
    treated_name: str
    n_donors: int
    n_pre: int
    n_post: int
    pre_rmspe: float = Field(description="Root mean squared gap before the start (the fit).")
    post_rmspe: float
    treated_mean_pre: float = Field(description="The treated unit's mean before the start.")
    rank: int = Field(description="The treated unit's rank in the placebo in space.")
    placebo_se: float | None
    weights: list[DonorWeight]
    placebos: list[PlaceboFit]
    placebo_in_time: PlaceboInTimeFit | None = None
    leave_one_out: list[LeaveOneOutFit] | None = None
    predictors: list[PredictorBalance] = Field(default_factory=list)


class OutcomeResult(_Frozen):
    """One outcome's estimate. ``estimate`` is the level change after the intervention: a rate
    ratio when ``scale`` is ``ratio`` (0.80 = 20 % lower than the counterfactual), a difference
    in the measure's units when ``scale`` is ``difference``."""

    outcome: str
    label: str
    role: Literal["primary", "secondary"]
    outcome_class: Literal["resolution", "displacement", "referral", "cost", "safety"]
    direction: Literal["decrease", "increase"]
    aggregate: str
    design: str
    estimator: str = Field(description="The model in words, e.g. 'segmented GLM, quasi-Poisson'.")
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_adjusted: float | None = Field(description="After the protocol's multiplicity correction.")
    scale: Literal["ratio", "difference"]
    std_error: float | None = Field(
        default=None, description="Standard error of log(estimate) (ratio) or of the estimate."
    )
    df: float | None = Field(
        default=None,
        description="Degrees of freedom of the t reference of the interval and tests (GLS "
        "models, Satterthwaite); null for the normal reference.",
    )
    margin: float | None = Field(
        default=None, description="Equivalence margin, relative (0.10 = a 10 % change)."
    )
    equivalence_p: float | None = Field(
        default=None, description="TOST p-value: small when the change is within the margin."
    )
    harm_ruled_out_p: float | None = Field(
        default=None,
        description="One-sided p-value against a harmful change of the margin or more "
        "(non-inferiority); small when such a change is ruled out.",
    )
    n_units: int
    n_periods: int
    slope_change: Interval | None
    trend_per_year: Interval | None
    cumulative: Cumulative | None
    diagnostics: Diagnostics | None
    figure: str | None = Field(description="Figure path, relative to the results folder.")
    note: str = ""
    inference: str | None = Field(
        default=None,
        description="Comparison designs: how the interval and p-value were obtained: cluster, "
        "wild_bootstrap, randomization, model or hac. Interrupted time series: the model "
        "fitted, gls or glm (inference_text says why, e.g. what model 'auto' read).",
    )
    inference_text: str | None = Field(
        default=None, description="The inference in words, with why it was chosen."
    )
    n_clusters: int | None = Field(default=None, description="Clusters (units) of the inference.")
    pretrend: PreTrendTest | None = None
    event_time: list[EventTimeEffect] = Field(
        default_factory=list, description="Event-study effects by period since adoption."
    )
    event_time_unit: str | None = Field(
        default=None, description="What one step of event_time is: 'month', '3 months', ..."
    )
    baseline: float | None = Field(
        default=None,
        description="Mean of the measure in treated units before their start (to read a "
        "difference against).",
    )
    figures: list[FigureFile] = Field(default_factory=list)
    sensitivity: Sensitivity | None = Field(
        default=None,
        description="Event-study and staggered designs: sensitivity to non-parallel trends.",
    )
    synthetic: SyntheticFit | None = Field(
        default=None, description="Synthetic control and synthetic DiD: weights, fit, placebos."
    )

    @model_serializer(mode="wrap")
    def _no_synthetic_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Absent rather than null for the other designs, so their results.json is unchanged.
        out: dict[str, Any] = handler(self)
        if self.synthetic is None:
            out.pop("synthetic", None)
        return out


class LedgerLine(_Frozen):
    """One costed outcome's change over the post period. Positive = demand averted (saved);
    negative = demand added."""

    outcome: str
    label: str
    outcome_class: str
    agency: str
    unit: str = Field(description="What 'averted' counts: events or minutes.")
    averted: Interval
    hours: Interval
    pounds: Interval
    unit_cost_gbp: float
    cost_per: Literal["event", "hour"]
    source: str = Field(description="Citation of the unit cost.")
    price_year: str | None = Field(
        default=None, description="Price base of the unit cost, as the protocol gives it."
    )
    uprated_unit_cost_gbp: float | None = Field(
        default=None,
        description="The unit cost at the ledger's price_year (GDP deflator), which its pounds "
        "use; null when it is not uprated (no price year on the cost or the ledger).",
    )
    in_net: bool = Field(description="Counted in the totals (false when part_of is set).")
    part_of: str | None = Field(
        default=None,
        description="The outcome whose time this is part of (hospital waiting inside officer "
        "minutes): shown under it and left out of every total, so time is counted once.",
    )
    force_months: int | None = Field(
        default=None,
        description="Treated force-months the change is summed over (for an ITS or "
        "comparative ITS: the post months of the treated series times the forces added up in "
        "it); the scheme's running cost is charged on them.",
    )


class Ledger(_Frozen):
    """The whole-system ledger (positive = saved). Intervals respect the outcomes' correlation."""

    lines: list[LedgerLine]
    net_pounds: Interval
    net_hours: Interval
    police_hours_released: Interval
    hours_added_elsewhere: Interval = Field(description="Hours added for other agencies.")
    cost_per_averted_detention: Interval | None = Field(
        description="(Scheme cost + pounds added elsewhere) per averted s136 detention; null "
        "when the interval of averted detentions includes zero."
    )
    correlation: dict[str, dict[str, float]]
    method: str
    price_year: str | None = Field(
        default=None,
        description="The price year of every pound (decision.price_year); null when each cost "
        "stays at its own price base.",
    )
    prices: str | None = Field(
        default=None, description="The price base and the uprating in one or two sentences."
    )


class EvidenceLevel(_Frozen):
    """Maryland Scientific Methods Scale level and why; EMMIE headings this report covers."""

    sms_level: int
    reason: str
    emmie: dict[str, str]


class Verdict(_Frozen):
    label: Literal[
        "Resolves", "Displaces", "Refers on", "No detectable change", "Inconclusive", "Worsens"
    ]
    rule: str = Field(description="The rule that produced the label, in words.")
    sentence: str = Field(description="The verdict in one plain sentence.")


class LinkRate(_Frozen):
    """How one agency's extract linked to the police incidents (``data.linkage``).

    Counts are of observed records: in the book's published copy, counts of 1 to 4 are
    ``null``, and so is a share whose linked count is.
    """

    agency: Literal["ambulance", "ae", "admission"]
    path: str = Field(description="The agency's extract, relative to the analysis folder.")
    window_hours: list[float] = Field(
        description="[from, to]: hours after the incident in which a record links to it."
    )
    incidents: int | None = Field(description="Police rows (incidents) read.")
    records: int | None = Field(description="Agency rows read.")
    incidents_unlinkable: int | None = Field(
        description="Police rows without a person identifier or a time (never linked)."
    )
    records_unlinkable: int | None = Field(
        description="Agency rows without a person identifier or a time (never linked)."
    )
    incidents_linked: int | None = Field(description="Police rows linked to a record.")
    records_linked: int | None = Field(description="Agency rows linked to an incident.")
    incidents_linked_share: float | None = Field(
        description="incidents_linked / incidents: the share of incidents followed by one."
    )
    records_linked_share: float | None = Field(
        description="records_linked / records: the share of the agency's records explained by "
        "a police incident."
    )


class InputFile(_Frozen):
    """One data file the run read, with its SHA-256: a reader holding the same files can check
    that they are the very files these results came from (``sha256sum FILE``)."""

    role: Literal["episodes", "series", "population", "ambulance", "ae", "admission"] = Field(
        description="What the file holds: the protocol's data.path (episodes or series), its "
        "population table, or an agency's extract linked to the incidents (data.linkage)."
    )
    path: str = Field(description="As the protocol names it, relative to the analysis folder.")
    sha256: str = Field(description="SHA-256 of the file's bytes, in hex.")


class DataSummary(_Frozen):
    """The data report: what was read, and what happened to every row.

    ``rows_in == rows_used + sum(excluded.values())``. In the book's published copy of
    results.json, counts of 1 to 4 (the protocol's disclosure threshold) are ``null``.
    """

    path: str
    sha256: str
    rows_in: int | None
    rows_used: int | None
    excluded: dict[str, int | None]
    format: str | None = Field(
        default=None, description="File format read: csv, parquet, sav, dta, sas7bdat, xpt, xlsx."
    )
    in_scope: int | None = Field(
        default=None,
        description="Rows of the protocol's units and window (rows_in minus the scope "
        "exclusions 'unit not in protocol' and 'outside analysis window').",
    )
    excluded_share: float | None = Field(
        default=None,
        description="Share of in-scope rows excluded by the data-quality checks.",
    )
    max_excluded_share: float | None = Field(
        default=None, description="The protocol's limit on excluded_share."
    )
    identifiers: Literal["pseudonymised", "raw"] | None = Field(
        default=None,
        description="How person ids arrived: 'raw' ids were replaced by keyed HMAC-SHA-256 "
        "pseudonyms as they were read.",
    )
    suppressed: bool = Field(
        default=False,
        description="True in the book's published copy when small counts were suppressed (null) "
        "or rounded by disclosure control.",
    )
    files: list[InputFile] = Field(
        default_factory=list,
        description="Every data file the protocol names (data.path first, then the population "
        "table and any linked agency extracts), each with its SHA-256.",
    )
    linkage: list[LinkRate] | None = Field(
        default=None,
        description="Linkage rates of each agency's extract to the police incidents "
        "(data.linkage); null when nothing was linked.",
    )
    empty_months: list[str] = Field(
        default_factory=list,
        description="'UNIT YYYY-MM' of every unit-month of the window without a single used row: "
        "missing data (left out of the estimates), never counted as zero. Absent when none.",
    )

    @model_serializer(mode="wrap")
    def _no_empty_months_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Absent rather than [] so that a run without gaps writes the same file as before.
        out: dict[str, Any] = handler(self)
        if not self.empty_months:
            out.pop("empty_months", None)
        return out


class DataAccessStatement(_Frozen):
    """What the analysts had seen of the data when they registered (OSF's question)."""

    status: Literal[
        "not_collected",
        "collected_not_accessed",
        "accessed_outcomes_not_examined",
        "outcomes_examined",
    ]
    statement: str = Field(description="The statement in words, with any explanation.")
    explanation: str = ""


class FieldChange(_Frozen):
    """One protocol field that changed. Values are JSON text; null means absent."""

    path: str = Field(description="e.g. 'outcomes[7].measure.repeat.within_days'.")
    before: str | None
    after: str | None


class Amendment(_Frozen):
    """A change recorded after registration with `evaltk amend`, in log order."""

    sequence: int = Field(description="Position in registration.json (1 = first amendment).")
    recorded_at: str = Field(description="UTC time, ISO 8601.")
    by: str
    reason: str
    protocol_sha256: str = Field(description="Hash of the protocol as amended.")
    entry_sha256: str = Field(description="Hash of the log entry (the chain link).")
    data_access: DataAccessStatement | None = None
    changes: list[FieldChange]


class Registration(_Frozen):
    """The registration this run was checked against (`evaltk register`, `evaltk amend`)."""

    status: Literal["registered", "unregistered", "exploratory"]
    protocol_sha256: str = Field(description="Hash of the protocol that ran.")
    registered_at: str | None = None
    registered_by: str | None = None
    registered_sha256: str | None = Field(
        default=None, description="Hash of the protocol as originally registered."
    )
    data_access: DataAccessStatement | None = None
    log_sha256: str | None = Field(
        default=None, description="entry_sha256 of the latest log entry this run was checked at."
    )
    amendments: list[Amendment] = Field(default_factory=list)
    exploratory_outcomes: list[str] = Field(
        default_factory=list, description="Outcomes not in the original registration."
    )
    amended_outcomes: list[str] = Field(
        default_factory=list, description="Outcomes whose definition changed after registration."
    )
    primary_changed: bool = Field(
        default=False, description="The primary outcome differs from the original registration."
    )
    registered_primary: list[str] = Field(
        default_factory=list, description="Primary outcome ids as originally registered."
    )
    unregistered_changes: list[FieldChange] = Field(
        default_factory=list,
        description="Exploratory run: how the protocol differs from its latest registration.",
    )
    note: str = ""


class DisclosureSettings(_Frozen):
    """Small-count suppression for publication (the protocol's ``disclosure`` block)."""

    threshold: int = Field(
        default=5, description="Observed counts from 1 to threshold - 1 are suppressed."
    )
    round_to: int | None = Field(
        default=None, description="Published observed counts are rounded to this base (5)."
    )


class TrialClusterRow(_Frozen):
    """One cluster of a stepped-wedge trial, as randomised."""

    name: str
    population: int
    step: int
    start: str = Field(description="First month with the scheme (ISO date).")


class TrialReport(_Frozen):
    """What the CONSORT extension for stepped-wedge trials (Hemming et al. 2018) asks a trial
    to report about its design, randomisation and clustering (design stepped_wedge only)."""

    clusters: list[TrialClusterRow]
    steps: int
    step_months: int
    first_start: str
    periods: int = Field(description="Design periods analysed (baseline blocks included).")
    baseline_periods: int = Field(description="Periods before the first step.")
    randomisation: str = Field(description="How the order was drawn, in words.")
    schedules: int = Field(
        description="Schedules the draw and the randomisation test were uniform over "
        "(0: random orders of the clusters, too many to list)."
    )
    icc: dict[str, float | None] = Field(
        description="Each outcome's intra-cluster correlation of the log rate (REML)."
    )


class AnalysisResult(_Frozen):
    """Everything one ``evaltk run`` found."""

    results_schema_version: str = RESULTS_SCHEMA_VERSION
    evaltk_version: str
    analysis: str = Field(description="The analysis folder name.")
    title: str
    question: str
    intervention: str = Field(description="Kind of scheme: street_triage, ...")
    units: list[str]
    start: str = Field(description="Intervention month (first post month), ISO date.")
    window_start: str
    window_end: str
    design: str
    alpha: float = Field(description="Significance level fixed by the protocol.")
    interval_level: float = Field(description="Confidence level of every interval (0.95).")
    multiplicity: str = Field(description="Correction across secondary outcomes.")
    registration: Registration
    verdict: Verdict
    headline: str
    ledger: Ledger | None = None
    ledger_note: str = Field(
        default="", description="Why there is no ledger, when the design does not give one."
    )
    starts: dict[str, str | None] = Field(
        default_factory=dict,
        description="Each unit's first treated month (ISO date); null for comparison units.",
    )
    evidence: EvidenceLevel | None = None
    not_measured: list[str] = Field(default_factory=list)
    data: DataSummary
    outcomes: list[OutcomeResult]
    packages: dict[str, str]
    disclosure: DisclosureSettings | None = Field(
        default=None,
        description="The protocol's disclosure control, applied when the book is published.",
    )
    trial: TrialReport | None = Field(
        default=None, description="A stepped-wedge trial's design (left out for other designs)."
    )

    @model_serializer(mode="wrap")
    def _no_trial_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Written only by stepped-wedge runs, so other designs' results keep their bytes.
        data = handler(self)
        if data.get("trial") is None:
            data.pop("trial", None)
        return dict(data)

    def to_json(self) -> str:
        # sort_keys and a fixed float repr keep the file byte-identical across runs.
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"

    def outcome(self, outcome_id: str) -> OutcomeResult:
        for result in self.outcomes:
            if result.outcome == outcome_id:
                return result
        raise KeyError(outcome_id)

    @property
    def primary(self) -> list[OutcomeResult]:
        return [o for o in self.outcomes if o.role == "primary"]
