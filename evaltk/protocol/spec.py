"""The protocol: a frozen, validated specification of one evaluation.

A protocol says, before any outcome is seen, what the intervention is, which units and months are
analysed, where the data come from, how each outcome is measured, which design and estimator are
used, and how the result will be judged. It is written in YAML (see ``protocols/``), loaded by
:mod:`evaltk.protocol.load` and validated here. Every model is frozen: a loaded protocol cannot be
changed by the code that runs it.

Conventions a reader could guess wrong:

* Periods are calendar months, named by their first day. The intervention month is INCLUSIVE:
  the month in which a unit's ``start`` date falls is the first post-intervention month.
* Rates are per 100,000 population unless ``per`` says otherwise.
* The denominator of a share is all mental-health incidents of the unit and month (every
  episode row), unless the measure's ``denominator`` filter narrows it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    field_validator,
    model_serializer,
    model_validator,
)

from evaltk.episodes.schema import FIELDS_BY_NAME
from evaltk.protocol import prices
from evaltk.protocol.aggregates import Aggregate, AggregateName, aggregate_kind
from evaltk.protocol.designs import (
    CITSOptions,
    DesignKind,
    DiDOptions,
    EventStudyOptions,
    InferenceOptions,
    StaggeredOptions,
    SyntheticOptions,
    check_comparison_design,
    first_start,
    later_defaults_left_out,
    used_blocks_only,
)
from evaltk.protocol.trial import SteppedWedgeOptions, TrialOptions, check_stepped_wedge

SCHEMA_VERSION: Literal[1] = 1

Identifier = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=64)
]
Scalar = bool | int | float | str


class _Frozen(BaseModel):
    """Base of every protocol model: immutable; an unknown field is an error (catches typos)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# --------------------------------------------------------------------------- filters


class Comparison(_Frozen):
    """A numeric comparison on one episode field, e.g. ``{gt: 0}``. All given bounds must hold."""

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    ne: Scalar | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Comparison:
        if all(v is None for v in (self.gt, self.ge, self.lt, self.le, self.ne)):
            raise ValueError("give at least one of gt, ge, lt, le, ne")
        return self


Condition = Scalar | list[Scalar] | Comparison
# A filter is a conjunction: every field listed must match. A list means "any of these codes".
Filter = dict[str, Condition]


def _check_filter(where: Filter, what: str) -> Filter:
    for name, condition in where.items():
        field = FIELDS_BY_NAME.get(name)
        if field is None:
            known = ", ".join(sorted(FIELDS_BY_NAME))
            raise ValueError(f"{what} names unknown episode field '{name}'; known fields: {known}")
        values = condition if isinstance(condition, list) else [condition]
        if field.kind == "category":
            for value in values:
                if isinstance(value, str) and value not in field.codes:
                    codes = ", ".join(field.codes)
                    raise ValueError(f"{what}: '{value}' is not a code of {name} ({codes})")
        if field.kind == "bool" and not all(isinstance(v, bool) for v in values):
            raise ValueError(f"{what}: {name} is true/false, not {condition!r}")
        if isinstance(condition, Comparison) and field.kind != "number":
            raise ValueError(f"{what}: comparisons apply to number fields; {name} is {field.kind}")
    return where


# --------------------------------------------------------------------------- measures


class HighIntensity(_Frozen):
    """Who is a high-intensity user: a person with at least ``min_contacts`` contacts (episodes
    matching the measure's ``where``) in one unit in the ``months`` calendar months ending with
    the month measured (that month included).

    The default, at least 6 in 12 months, is "attends A&E more than five times a year", the
    definition of high intensity use in the British Red Cross's report *Nowhere else to turn*
    (2021, redcross.org.uk/nowhere-to-turn). NHS England's High Intensity Use programme page
    (england.nhs.uk/high-intensity-use-programme) defines it as attending an emergency
    department "more than five times a month, or more than 20 times a year" (``min_contacts:
    21``), and Dr Foster's analysis of 2017-18 A&E attendances used 10 or more in 12 months.
    Contacts before the analysis window count towards its first months: an extract that starts
    with the window under-counts its first ``months - 1`` months, so start it that much earlier.
    """

    min_contacts: int = Field(default=6, ge=2, le=1000)
    months: int = Field(default=12, ge=1, le=120)


class RepeatWindow(_Frozen):
    """A per-person window: the episode counts only if the same person has *another* episode
    (matching ``among``) within ``within_days`` days after it (strictly later, inclusive bound).

    Follow-up looks at every row of the data source, beyond the analysis window and unit if the
    data hold them, so an incident late in the window is not under-counted when later data exist.
    """

    within_days: int = Field(gt=0, le=3660)
    among: Filter = Field(default_factory=dict)

    @field_validator("among")
    @classmethod
    def _among_fields(cls, value: Filter) -> Filter:
        return _check_filter(value, "repeat.among")


class Measure(_Frozen):
    """How one outcome is computed from episode rows for each unit and month.

    ``aggregate``:

    * ``count`` — number of episodes matching ``where``;
    * ``rate`` — that count per ``per`` population (the population enters models as an offset);
    * ``share`` — that count divided by the episodes matching ``denominator`` (default: all);
    * ``mean`` — mean of ``field`` over episodes matching ``where``;
    * ``sum`` — sum of ``field`` over episodes matching ``where``;
    * ``per_person`` — that sum over the distinct people (``person_id``) with an episode
      matching ``where`` in the month (e.g. officer minutes per person in crisis).

    With ``repeat``, an episode matches only if the person has another episode within the window.

    High-intensity users (``high_intensity``: who counts as one, see :class:`HighIntensity`):

    * ``high_intensity_people`` — number of people with at least ``min_contacts`` contacts
      matching ``where`` in the ``months`` ending with the month;
    * ``high_intensity_share`` — share of the month's incidents matching ``where`` that are
      theirs;
    * ``high_intensity_field_share`` — share of ``field`` (e.g. officer minutes), summed over
      the month's incidents matching ``where``, that is theirs.
    """

    aggregate: AggregateName
    where: Filter = Field(default_factory=dict)
    field: str | None = None
    denominator: Filter | None = None
    per: int = Field(default=100_000, gt=0)
    repeat: RepeatWindow | None = None
    high_intensity: HighIntensity | None = None

    @field_validator("where")
    @classmethod
    def _where_fields(cls, value: Filter) -> Filter:
        return _check_filter(value, "where")

    @field_validator("denominator")
    @classmethod
    def _denominator_fields(cls, value: Filter | None) -> Filter | None:
        return None if value is None else _check_filter(value, "denominator")

    @property
    def kind(self) -> Aggregate:
        """What the aggregate means: its numerator and denominator (protocol/aggregates.py)."""
        return aggregate_kind(self.aggregate)

    @model_validator(mode="after")
    def _consistent(self) -> Measure:
        if self.kind.sums_a_field:
            if self.field is None:
                raise ValueError(f"aggregate '{self.aggregate}' needs 'field' (a number field)")
            spec = FIELDS_BY_NAME.get(self.field)
            if spec is None or spec.kind not in ("number", "bool"):
                raise ValueError(f"field '{self.field}' is not a number field of the episodes")
        elif self.field is not None:
            raise ValueError(f"'field' applies to mean and sum, not to '{self.aggregate}'")
        if self.denominator is not None and self.aggregate != "share":
            raise ValueError("'denominator' applies only to aggregate 'share'")
        if self.kind.over_people:
            if self.high_intensity is None:
                raise ValueError(
                    f"aggregate '{self.aggregate}' needs 'high_intensity' (e.g. "
                    "{min_contacts: 6, months: 12}, or {} for that default)"
                )
            if self.repeat is not None:
                raise ValueError(f"'repeat' does not apply to aggregate '{self.aggregate}'")
        elif self.high_intensity is not None:
            raise ValueError("'high_intensity' applies only to the high_intensity_* aggregates")
        return self

    @model_serializer(mode="wrap")
    def _absent_high_intensity_left_out(
        self, handler: SerializerFunctionWrapHandler
    ) -> dict[str, Any]:
        # Added after the first registrations: their hashes must not change.
        return later_defaults_left_out(handler(self), {"high_intensity": None})


# --------------------------------------------------------------------------- outcomes


class UnitCost(_Frozen):
    """What one unit of an outcome costs the system, with where the figure comes from.

    ``per: event`` — ``amount_gbp`` per event (an A&E attendance, a conveyance), and
    ``hours_per_event`` of staff time if it uses any; ``per: hour`` — for outcomes measured in
    minutes (officer time), ``amount_gbp`` per hour. ``part_of: OTHER`` declares that this
    outcome's time is already inside outcome OTHER's (police minutes waiting at hospital are
    part of officer minutes): the ledger shows it under OTHER and leaves it out of every total,
    so that time is counted once (``in_net`` is then false). ``in_net: false`` alone shows a
    line but leaves it out of the net total for another reason.
    """

    amount_gbp: float = Field(ge=0)
    per: Literal["event", "hour"]
    hours_per_event: float | None = Field(default=None, ge=0)
    source: str = Field(
        min_length=1,
        description="Citation of the unit cost: the document, its table or page, and its year; "
        "or 'Illustrative: ...' for a figure with no published source.",
    )
    price_year: str | None = Field(
        default=None,
        pattern=r"^\d{4}(-\d{2})?$",
        description="Price base of amount_gbp: a financial year '2013-14' or a calendar year "
        "'2014'; absent for an illustrative figure or a source that states none.",
    )
    agency: Literal["police", "ambulance", "emergency_department", "mental_health", "other"] = (
        Field(description="Whose time and money this is (police hours released vs elsewhere).")
    )
    in_net: bool = True
    part_of: Identifier | None = Field(
        default=None,
        description="Id of the costed outcome whose time this outcome's is part of (e.g. "
        "hospital_wait_minutes part_of officer_minutes); it is then left out of every total.",
    )

    @model_validator(mode="before")
    @classmethod
    def _part_is_not_in_net(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("part_of") is not None:
            if data.get("in_net") is True:
                raise ValueError(
                    "a cost with 'part_of' is already inside that outcome's: drop 'in_net: true'"
                )
            data = {**data, "in_net": False}
        return data

    @model_serializer(mode="wrap")
    def _default_part_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return later_defaults_left_out(handler(self), {"part_of": None, "price_year": None})


class Outcome(_Frozen):
    """One outcome measure: what it is, why it matters, and how it is computed."""

    id: Identifier
    label: str = Field(min_length=1)
    role: Literal["primary", "secondary"]
    outcome_class: Literal["resolution", "displacement", "referral", "cost", "safety"] = Field(
        alias="class"
    )
    direction: Literal["decrease", "increase"] = Field(
        description="The beneficial direction of change (s136 detentions: decrease)."
    )
    measure: Measure | None = Field(
        default=None, description="How to compute it from episodes (absent for a ready series)."
    )
    family: Literal["poisson", "quasi_poisson", "negative_binomial", "gaussian"] | None = Field(
        default=None, description="Overrides the design's family for this outcome."
    )
    margin: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="Equivalence margin (relative change); default decision."
        "minimum_important_change.",
    )
    cost: UnitCost | None = Field(default=None, description="Unit cost for the ledger.")
    description: str = ""


# --------------------------------------------------------------------------- data

FileFormat = Literal["auto", "csv", "parquet", "sav", "dta", "sas7bdat", "xpt", "xlsx"]


class AgencyExtract(_Frozen):
    """One agency's extract (ambulance, A&E, admissions) to link to the police incidents.

    Its person identifiers are pseudonymised with the linkage key as they are read (unless
    ``identifiers: pseudonymised`` says the agency already did so with the same key), and a
    police incident is linked to the same person's record whose time falls ``window_hours``
    after the incident (:mod:`evaltk.linkage.link`).
    """

    path: str = Field(description="File path, relative to the analysis folder.")
    format: FileFormat = "auto"
    person: str = Field(description="Column holding the person identifier (e.g. NHS number).")
    time: str = Field(description="Column holding when it happened (dispatch, arrival, admission).")
    record: str | None = Field(
        default=None,
        description="Column holding the record's own id, for the link table `evaltk link` "
        "writes (default: the row number).",
    )
    window_hours: tuple[float, float] = Field(
        description="[from, to]: hours after the police incident (or after the record of the "
        "agency named in 'after') within which the record counts as following it, e.g. "
        "[0, 6]; a negative 'from' allows for clocks that differ."
    )
    after: Literal["ambulance", "ae", "admission"] | None = Field(
        default=None,
        description="Link this agency's records to another agency's records instead of to "
        "the police incident: the chain conveyance -> A&E -> admission, e.g. 'after: "
        "ambulance' for A&E (window_hours then counted from the ambulance record's time). An "
        "incident is linked_<agency> when its linked record of 'after' is linked to one of "
        "this agency's records.",
    )
    identifiers: Literal["raw", "pseudonymised"] = "raw"
    date_format: str | list[str] | None = None
    dayfirst: bool = True
    encoding: str | None = None
    sheet: str | None = None

    @field_validator("window_hours")
    @classmethod
    def _window_ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not low < high:
            raise ValueError(f"window_hours [{low:g}, {high:g}]: 'from' must be below 'to'")
        if low < -24 or high > 24 * 366:
            raise ValueError("window_hours must lie between -24 hours and one year")
        return value


class Linkage(_Frozen):
    """Agencies' extracts linked to the police incidents by person and time.

    Each linked agency adds the bool field ``linked_<agency>`` to every incident, which outcomes
    use like any other field (``where: {linked_ae: true}``, aggregate ``share``).
    """

    agencies: dict[Literal["ambulance", "ae", "admission"], AgencyExtract] = Field(min_length=1)

    @model_validator(mode="after")
    def _chain_known_and_acyclic(self) -> Linkage:
        for agency, extract in self.agencies.items():
            seen = [agency]
            step = extract.after
            while step is not None:
                if step not in self.agencies:
                    raise ValueError(
                        f"agencies.{seen[-1]}.after: '{step}' is not among the linked agencies "
                        f"({', '.join(self.agencies)}); add its extract or remove 'after'"
                    )
                if step in seen:
                    raise ValueError(
                        f"agencies.{agency}.after: the chain {' -> '.join([*seen, step])} "
                        "comes back to itself; each agency must follow the police incident "
                        "or an agency that does"
                    )
                seen.append(step)
                step = self.agencies[step].after
        return self


class EpisodeSource(_Frozen):
    """Episode-level rows (one per incident), mapped onto the canonical fields."""

    kind: Literal["episodes"]
    path: str = Field(description="File path, relative to the analysis folder.")
    format: Literal["auto", "csv", "parquet", "sav", "dta", "sas7bdat", "xpt", "xlsx"] = Field(
        default="auto",
        description="File format; 'auto' tells it from the extension (.csv, .parquet, .sav, "
        ".dta, .sas7bdat, .xpt, .xlsx). SPSS, Stata, SAS and Excel files are converted once "
        "to parquet in ANALYSIS/.cache/ (value labels applied, person ids pseudonymised).",
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Canonical field -> column name in the file, where they differ.",
    )
    population: str | None = Field(
        default=None, description="CSV of force, year, population (needed for rates)."
    )
    codes: dict[str, dict[str, Scalar | None]] = Field(
        default_factory=dict,
        description="Canonical field -> {value in the file: canonical value}, applied before "
        "any check, e.g. s136: {Y: true, N: false} or referral: {CMHT: community_team}. "
        "Values not listed pass through unchanged; null maps a value to missing.",
    )
    date_format: str | list[str] | None = Field(
        default=None,
        description="strftime format(s) of text timestamps, e.g. '%d/%m/%Y %H:%M'; only these "
        "are then accepted. Default: ISO 8601 or day-first UK dates.",
    )
    dayfirst: bool = Field(
        default=True,
        description="Without date_format: read 01/04/2016 as 1 April (UK). false reads it as "
        "4 January (US).",
    )
    encoding: str | None = Field(
        default=None,
        description="Text encoding of the file when it is not UTF-8 (e.g. 'latin-1', "
        "'cp1252'); for CSV, SPSS, Stata and SAS files.",
    )
    sheet: str | None = Field(
        default=None, description="Excel: the worksheet to read (default: the first)."
    )
    identifiers: Literal["pseudonymised", "raw"] = Field(
        default="pseudonymised",
        description="'raw' if person_id holds real identifiers (NHS number, force person "
        "number): they are then replaced by a keyed HMAC-SHA-256 as they are read, with the "
        "key from EVALTK_LINK_KEY or --key-file, and a run without a key is refused.",
    )
    max_excluded_share: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Largest share of in-scope rows (in the protocol's units and window) that "
        "checks may exclude (duplicate ids, impossible values, unknown codes) before the run "
        "stops; rows of other units or months do not count.",
    )
    allow_outside: bool = Field(
        default=False,
        description="Allow data files outside the analysis folder (an absolute path, or one "
        "climbing out with '..'). Off by default, so that a protocol cannot read any file on "
        "the machine; published records then name such a file by its name and SHA-256 only.",
    )
    linkage: Linkage | None = Field(
        default=None,
        description="Ambulance, A&E and admission extracts to link to these incidents by "
        "keyed pseudonym and time window; needs the linkage key (EVALTK_LINK_KEY or "
        "--key-file).",
    )

    @model_validator(mode="after")
    def _linked_fields_not_mapped(self) -> EpisodeSource:
        if self.linkage is not None:
            both = sorted(f"linked_{a}" for a in self.linkage.agencies)
            clash = [f for f in both if f in self.columns]
            if clash:
                raise ValueError(
                    f"data.columns maps {', '.join(clash)}, which data.linkage derives; "
                    "remove one of them"
                )
        return self

    @field_validator("columns", "codes")
    @classmethod
    def _canonical_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if name not in FIELDS_BY_NAME:
                raise ValueError(f"maps unknown canonical field '{name}'")
        return value

    @field_validator("codes", mode="before")
    @classmethod
    def _code_keys_as_text(cls, value: Any) -> Any:
        # YAML reads `1: true` with an integer key; codes compare as text in the file.
        if not isinstance(value, dict):
            return value
        out: dict[Any, Any] = {}
        for field, mapping in value.items():
            if isinstance(mapping, dict):
                mapping = {_code_text(k): v for k, v in mapping.items()}
            out[field] = mapping
        return out

    @model_serializer(mode="wrap")
    def _defaults_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return later_defaults_left_out(handler(self), _LATER_DEFAULTS)


def _code_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


_LATER_DEFAULTS: dict[str, Any] = {
    "codes": {},
    "date_format": None,
    "dayfirst": True,
    "encoding": None,
    "sheet": None,
    "identifiers": "pseudonymised",
    "max_excluded_share": 0.05,
    "linkage": None,
    "allow_outside": False,
}


class SeriesSource(_Frozen):
    """A ready unit x month series (one row per month, or per unit and month)."""

    kind: Literal["series"]
    path: str
    unit: str | None = Field(default=None, description="Column naming the unit, if several.")
    period: str | None = Field(default=None, description="Column holding a date in the month.")
    year: str | None = Field(default=None, description="Year column, with 'month'.")
    month: str | None = Field(default=None, description="Month (1-12) column, with 'year'.")
    outcomes: dict[str, str] = Field(description="Outcome id -> column holding its value.")
    exposure: str | None = Field(
        default=None, description="Column of population (or other exposure) for the offset."
    )
    allow_outside: bool = Field(
        default=False,
        description="Allow data files outside the analysis folder (an absolute path, or one "
        "climbing out with '..'). Off by default, so that a protocol cannot read any file on "
        "the machine; published records then name such a file by its name and SHA-256 only.",
    )

    @model_serializer(mode="wrap")
    def _defaults_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return later_defaults_left_out(handler(self), {"allow_outside": False})

    @model_validator(mode="after")
    def _period_given(self) -> SeriesSource:
        if self.period is None and (self.year is None or self.month is None):
            raise ValueError("give either 'period' or both 'year' and 'month' columns")
        if self.period is not None and (self.year is not None or self.month is not None):
            raise ValueError("give 'period' or 'year'+'month', not both")
        return self


DataSource = Annotated[EpisodeSource | SeriesSource, Field(discriminator="kind")]


# --------------------------------------------------------------------------- design


class ITSOptions(_Frozen):
    """Interrupted time series options (segmented GLM)."""

    family: Literal["poisson", "quasi_poisson", "negative_binomial", "gaussian"] = "quasi_poisson"
    seasonality: Literal["fourier", "month", "none"] = "fourier"
    harmonics: int = Field(default=2, ge=1, le=5)
    slope_change: bool = False
    hac: bool = False
    hac_lags: int | None = Field(default=None, ge=0, le=36)
    ar1: bool = Field(
        default=False,
        description="Errors robust to month-to-month autocorrelation through an AR(1) working "
        "correlation (bias-corrected lag-1 autocorrelation of the residuals).",
    )
    model: Literal["glm", "gls", "auto"] = Field(
        default="glm",
        description="'glm': the segmented GLM of the family, errors as hac/ar1 say. 'gls': "
        "generalised least squares on the log rate with Poisson sampling, white and AR(1) "
        "errors, variance parameters by REML, Satterthwaite t tests; for long "
        "series of large counts, where slow month-to-month variation dominates (every month "
        "needs a count above zero). 'auto' (the templates' choice): gls for each outcome whose "
        "every fitted month has a count above zero and that has at least 6 more fitted months "
        "than coefficients, otherwise the glm with the errors hac/ar1 say; results.json "
        "records which it chose and why.",
    )
    offset: Literal["denominator", "none"] = Field(
        default="denominator",
        description="Offset for count families: 'denominator' uses the measure's own "
        "(population for rates, denominator episodes for shares and means); a count or sum "
        "has none. To model a count per head, define the outcome as a rate.",
    )

    @model_validator(mode="after")
    def _one_error_model(self) -> ITSOptions:
        if self.hac and self.ar1:
            raise ValueError("choose one of hac and ar1 for the errors, not both")
        if self.model == "gls" and (self.hac or self.ar1):
            raise ValueError("model 'gls' models the autocorrelation itself; drop hac and ar1")
        return self

    @model_serializer(mode="wrap")
    def _glm_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return later_defaults_left_out(handler(self), {"model": "glm"})


class Design(_Frozen):
    """The evaluation design and its options.

    ``kind``: ``its`` (interrupted time series of the treated units, summed), ``did``
    (difference-in-differences: two-way fixed effects or 2 x 2), ``event_study`` (leads and
    lags of adoption), ``staggered_did`` (Callaway & Sant'Anna), ``cits`` (comparative
    interrupted time series), ``synthetic_control`` or ``synthetic_did`` (one treated unit
    against a donor pool) or ``stepped_wedge`` (a randomised rollout: ``trial`` and
    ``stepped_wedge``, :mod:`evaltk.protocol.trial`). Each reads its own block (``its``,
    ``did``, ``event_study``, ``staggered``, ``cits``, ``synthetic``) and the DiD family the
    shared ``inference`` block; the blocks a design does not read are left out of the
    canonical form (they change no hash).
    """

    kind: DesignKind
    its: ITSOptions = Field(default_factory=ITSOptions)
    did: DiDOptions = Field(default_factory=DiDOptions)
    event_study: EventStudyOptions = Field(default_factory=EventStudyOptions)
    staggered: StaggeredOptions = Field(default_factory=StaggeredOptions)
    cits: CITSOptions = Field(default_factory=CITSOptions)
    synthetic: SyntheticOptions = Field(default_factory=SyntheticOptions)
    inference: InferenceOptions = Field(default_factory=InferenceOptions)
    trial: TrialOptions | None = None
    stepped_wedge: SteppedWedgeOptions = Field(default_factory=SteppedWedgeOptions)

    @model_serializer(mode="wrap")
    def _used_blocks(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return used_blocks_only(self, handler(self))


class Window(_Frozen):
    """The analysis window: months from ``start`` to ``end`` (both inclusive).

    Months before the intervention form the pre-period; the first ``washout_months`` months from
    the intervention (inclusive) are left out of the fit; the remaining months form the
    post-period.
    """

    start: dt.date
    end: dt.date
    washout_months: int = Field(default=0, ge=0, le=24)

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError("window end must be after its start")
        return self


VerdictLabel = Literal[
    "Resolves", "Displaces", "Refers on", "No detectable change", "Inconclusive", "Worsens"
]
RuleCondition = Literal[
    "primary_not_estimated",
    "primary_improves",
    "primary_worsens",
    "primary_equivalent",
    "primary_not_significant",
    "displacement_rises",
    "referral_rises",
    "displacement_ruled_out",
    "referral_ruled_out",
    "always",
]


class Rule(_Frozen):
    """One decision rule: when every condition holds, the verdict is ``verdict``.

    Conditions (tests at the protocol's alpha; secondary outcomes after its multiplicity
    correction; each outcome's ``margin``, else ``minimum_important_change``):

    * ``primary_not_estimated`` — the primary outcome's model could not be fitted;
    * ``primary_improves`` / ``primary_worsens`` — significant change in the beneficial /
      harmful direction;
    * ``primary_equivalent`` — equivalence shown by TOST: the change lies within ± margin;
    * ``primary_not_significant`` — neither of the above two-sided;
    * ``displacement_rises`` / ``referral_rises`` — some displacement / referral outcome moved
      significantly in its harmful direction;
    * ``displacement_ruled_out`` / ``referral_ruled_out`` — every such outcome is shown not to
      have moved in its harmful direction by its margin or more (the one-sided half of a TOST
      that matters: non-inferiority). Not significant is NOT enough;
    * ``always`` — a catch-all, for the last rule.
    """

    verdict: VerdictLabel
    when: list[RuleCondition] = Field(min_length=1)
    reason: str = Field(default="", description="The rule in words, for the book.")


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        verdict="Inconclusive",
        when=["primary_not_estimated"],
        reason="The primary outcome could not be estimated.",
    ),
    Rule(
        verdict="Worsens",
        when=["primary_worsens"],
        reason="The primary outcome moved significantly in the harmful direction.",
    ),
    Rule(
        verdict="Displaces",
        when=["primary_improves", "displacement_rises"],
        reason="The primary outcome improved but a displacement outcome rose significantly.",
    ),
    Rule(
        verdict="Refers on",
        when=["primary_improves", "referral_rises"],
        reason="The primary outcome improved but onward referrals rose significantly.",
    ),
    Rule(
        verdict="Resolves",
        when=["primary_improves", "displacement_ruled_out", "referral_ruled_out"],
        reason="The primary outcome improved and every displacement and referral outcome is "
        "shown not to have risen by its margin.",
    ),
    Rule(
        verdict="Inconclusive",
        when=["primary_improves"],
        reason="The primary outcome improved but a rise elsewhere cannot be ruled out.",
    ),
    Rule(
        verdict="No detectable change",
        when=["primary_equivalent"],
        reason="The primary outcome is shown to lie within its margin (TOST).",
    ),
    Rule(
        verdict="Inconclusive",
        when=["always"],
        reason="No change was detected, and an important change cannot be ruled out.",
    ),
)


class Decision(_Frozen):
    """How results will be judged, fixed before the data are seen (and registered with it)."""

    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    interval_level: float = Field(default=0.95, gt=0.5, lt=1)
    multiplicity: Literal["holm", "benjamini_hochberg", "none"] = "holm"
    minimum_important_change: float = Field(
        default=0.10,
        gt=0,
        lt=1,
        description="Default equivalence margin: the smallest relative change (0.10 = 10 %) a "
        "commissioner would act on. An outcome's own 'margin' overrides it.",
    )
    rules: list[Rule] = Field(
        default_factory=lambda: list(DEFAULT_RULES),
        description="Checked in order; the first rule whose conditions all hold decides.",
    )
    price_year: str | None = Field(
        default=None,
        pattern=r"^\d{4}(-\d{2})?$",
        description="The price year of every pound in the ledger ('2024'): each unit cost with "
        "a stated price_year is uprated to it by the HM Treasury GDP deflator evaltk carries "
        "(evaltk.protocol.prices); costs without one, and the scheme's running cost, are taken "
        "as they are. Absent: every cost at its own price base, none uprated.",
    )

    @model_serializer(mode="wrap")
    def _default_price_year_left_out(
        self, handler: SerializerFunctionWrapHandler
    ) -> dict[str, Any]:
        # Added after the first registrations: their hashes must not change.
        return later_defaults_left_out(handler(self), {"price_year": None})

    @field_validator("price_year")
    @classmethod
    def _price_year_deflated(cls, value: str | None) -> str | None:
        if value is not None and not prices.covered(value):
            first, last = prices.price_years()
            raise ValueError(
                f"price_year '{value}' is outside the GDP deflator evaltk carries "
                f"({first} to {last}): use a year within it"
            )
        return value

    @field_validator("rules")
    @classmethod
    def _ends_with_catch_all(cls, value: list[Rule]) -> list[Rule]:
        if not value or value[-1].when != ["always"]:
            raise ValueError("the last rule must be a catch-all: when: [always]")
        return value


class Intervention(_Frozen):
    kind: Literal["street_triage", "control_room_nurse", "right_care_right_person", "other"]
    description: str = ""
    cost_gbp_per_month: float | None = Field(
        default=None,
        ge=0,
        description="Running cost of the scheme per force and month, for the cost per averted "
        "s136: charged on every treated force-month (each treated force from its start).",
    )
    start: dict[str, dt.date] = Field(
        description="Unit -> date the intervention began there. Units left out are comparisons."
    )


# --------------------------------------------------------------------------- disclosure


class Disclosure(_Frozen):
    """Statistical disclosure control of published counts of observed data (NHS practice).

    Counts from 1 to ``threshold - 1`` are suppressed in every table, figure and download of
    the book, with secondary suppression where a published total would reveal a suppressed
    cell; modelled quantities (fitted values, counterfactuals, estimates) are not suppressed.
    """

    threshold: int = Field(
        default=5, ge=1, description="Suppress observed counts from 1 to threshold - 1."
    )
    round_to: int | None = Field(
        default=None, ge=2, description="Also round published observed counts to this base (5)."
    )


# --------------------------------------------------------------------------- protocol


class Protocol(_Frozen):
    """A complete evaluation protocol (after merging an analysis onto its template)."""

    schema_version: Literal[1] = SCHEMA_VERSION
    title: str = Field(min_length=1)
    question: str = Field(default="", description="The question in one plain sentence.")
    intervention: Intervention
    units: list[str] = Field(min_length=1, description="Units analysed (ONS force codes).")
    period: Literal["month"] = "month"
    data: DataSource
    outcomes: list[Outcome] = Field(min_length=1)
    design: Design
    window: Window
    decision: Decision = Field(default_factory=Decision)
    not_measured: list[str] = Field(
        default_factory=list,
        description="What this evaluation does not measure, said plainly for commissioners.",
    )
    seed: int = Field(default=20181001, description="Seed for anything random (bootstrap).")
    disclosure: Disclosure = Field(
        default_factory=lambda: Disclosure(),
        description="Statistical disclosure control of everything published from observed data.",
    )

    @model_serializer(mode="wrap")
    def _default_disclosure_left_out(
        self, handler: SerializerFunctionWrapHandler
    ) -> dict[str, Any]:
        return later_defaults_left_out(
            handler(self), {"disclosure": Disclosure().model_dump(mode="json")}
        )

    @field_validator("units")
    @classmethod
    def _units_unique(cls, value: list[str]) -> list[str]:
        duplicated = sorted({u for u in value if value.count(u) > 1})
        if duplicated:
            raise ValueError(f"units listed twice: {', '.join(duplicated)}")
        for unit in value:
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", unit):
                raise ValueError(f"unit '{unit}' must be a code without spaces")
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> Protocol:
        ids = [o.id for o in self.outcomes]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"outcome ids used twice: {', '.join(duplicated)}")
        if not any(o.role == "primary" for o in self.outcomes):
            raise ValueError("at least one outcome must have role 'primary'")
        unknown = sorted(set(self.intervention.start) - set(self.units))
        if unknown:
            raise ValueError(f"intervention.start names units not in 'units': {', '.join(unknown)}")
        if isinstance(self.data, EpisodeSource):
            missing = [o.id for o in self.outcomes if o.measure is None]
            if missing:
                raise ValueError(
                    f"outcomes need a 'measure' for episode data: {', '.join(missing)}"
                )
            needs_population = [
                o.id for o in self.outcomes if o.measure and o.measure.kind.per_population
            ]
            if needs_population and self.data.population is None:
                raise ValueError(
                    "outcomes with aggregate 'rate' need data.population: "
                    + ", ".join(needs_population)
                )
        else:
            unknown_outcomes = sorted(set(self.data.outcomes) - set(ids))
            if unknown_outcomes:
                raise ValueError(
                    "data.outcomes names unknown outcome ids: " + ", ".join(unknown_outcomes)
                )
            unmapped = [i for i in ids if i not in self.data.outcomes]
            if unmapped:
                raise ValueError("data.outcomes has no column for: " + ", ".join(unmapped))
        self._check_parts()
        self._check_price_years()
        if self.design.kind == "its":
            self._check_its()
        elif self.design.kind == "stepped_wedge":
            check_stepped_wedge(self)
        else:
            check_comparison_design(self)
        return self

    def _check_parts(self) -> None:
        """``cost.part_of`` names another costed outcome of the same agency and kind of cost,
        which is not itself part of a third (one level: a part and its whole)."""
        costed = {o.id: o.cost for o in self.outcomes if o.cost is not None}
        for outcome in self.outcomes:
            whole_id = outcome.cost.part_of if outcome.cost is not None else None
            if outcome.cost is None or whole_id is None:
                continue
            where = f"outcome '{outcome.id}': cost.part_of '{whole_id}'"
            whole = costed.get(whole_id)
            if whole_id == outcome.id or whole is None:
                raise ValueError(
                    f"{where} must name another outcome with a cost (one of: "
                    f"{', '.join(sorted(set(costed) - {outcome.id})) or 'none'})"
                )
            if whole.part_of is not None:
                raise ValueError(f"{where} is itself part of '{whole.part_of}'; name the whole")
            if (whole.agency, whole.per) != (outcome.cost.agency, outcome.cost.per):
                raise ValueError(
                    f"{where} must be the same agency and 'per' as its whole "
                    f"({whole.agency}, per {whole.per}), since its time is inside it"
                )

    def _check_price_years(self) -> None:
        """With ``decision.price_year`` set, every cost's own price year must be one the
        deflator reaches, or its pounds could not be uprated."""
        if self.decision.price_year is None:
            return
        for outcome in self.outcomes:
            year = outcome.cost.price_year if outcome.cost is not None else None
            if year is not None and not prices.covered(year):
                first, last = prices.price_years()
                raise ValueError(
                    f"outcome '{outcome.id}': cost.price_year '{year}' is outside the GDP "
                    f"deflator evaltk carries ({first} to {last}), so it cannot be uprated to "
                    f"decision.price_year '{self.decision.price_year}'; give a year within it"
                )

    def _check_its(self) -> None:
        starts = {self.intervention.start.get(u) for u in self.units}
        if None in starts:
            untreated = [u for u in self.units if u not in self.intervention.start]
            raise ValueError(
                "an interrupted time series analyses treated units only; no start date for "
                + ", ".join(untreated)
            )
        if len(starts) > 1:
            raise ValueError(
                "an interrupted time series needs one start date for all its units; "
                "use a staggered design for different dates"
            )
        start = next(iter(starts))
        assert start is not None
        if not (self.window.start < start <= self.window.end):
            raise ValueError(f"intervention start {start} lies outside the analysis window")

    # ------------------------------------------------------------------ helpers for callers

    @property
    def primary_outcomes(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.role == "primary"]

    def outcome(self, outcome_id: str) -> Outcome:
        for outcome in self.outcomes:
            if outcome.id == outcome_id:
                return outcome
        raise KeyError(outcome_id)

    def its_start(self) -> dt.date:
        """The common intervention date of an ITS (validated to be unique)."""
        return self.intervention.start[self.units[0]]

    @property
    def treated_units(self) -> list[str]:
        """Units with a start date, in the order of ``units``."""
        return [u for u in self.units if u in self.intervention.start]

    @property
    def comparison_units(self) -> list[str]:
        """Units without a start date (never treated in the window), in the order of ``units``."""
        return [u for u in self.units if u not in self.intervention.start]

    def first_start(self) -> dt.date:
        """The earliest start among the analysed units (an ITS: its common start)."""
        return first_start(self)
