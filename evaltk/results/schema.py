"""``results.json``: the contract between a run and everything that reads it (book, scripts).

Versioned by :data:`RESULTS_SCHEMA_VERSION` (semantic: a new optional field bumps the minor,
a removed or renamed field the major). The JSON Schema is exported to
``protocols/results.schema.json`` by ``evaltk schema``. The file is deterministic: no wall-clock
time or absolute path is written, so the same inputs and seed give byte-identical output.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RESULTS_SCHEMA_VERSION = "1.0"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Interval(_Frozen):
    estimate: float | None
    ci_low: float | None
    ci_high: float | None


class Cumulative(_Frozen):
    """Events over the post period: counterfactual minus observed (positive = averted)."""

    averted: float | None = Field(description="Sum of counterfactual - observed.")
    ci_low: float | None
    ci_high: float | None
    observed: float | None = Field(description="Observed total over the post period.")
    counterfactual: float | None = Field(description="Counterfactual total (model).")
    unit: str = Field(description="What is summed: 'events', 'minutes', or 'not additive'.")


class Diagnostics(_Frozen):
    dispersion: float | None = Field(description="Pearson chi-square / residual df.")
    ljung_box_p: float | None = Field(description="Residual autocorrelation test p-value.")
    ljung_box_lags: int | None
    durbin_watson: float | None
    n_pre: int
    n_post: int
    n_washout: int


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
    n_units: int
    n_periods: int
    slope_change: Interval | None
    trend_per_year: Interval | None
    cumulative: Cumulative | None
    diagnostics: Diagnostics | None
    figure: str | None = Field(description="Figure path, relative to the results folder.")
    note: str = ""


class Verdict(_Frozen):
    label: Literal[
        "Resolves", "Displaces", "Refers on", "No detectable change", "Inconclusive", "Worsens"
    ]
    rule: str = Field(description="The rule that produced the label, in words.")
    sentence: str = Field(description="The verdict in one plain sentence.")


class DataSummary(_Frozen):
    path: str
    sha256: str
    rows_in: int
    rows_used: int
    excluded: dict[str, int]


class Registration(_Frozen):
    status: Literal["registered", "unregistered", "exploratory"]
    protocol_sha256: str
    registered_at: str | None = None
    note: str = ""


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
    data: DataSummary
    outcomes: list[OutcomeResult]
    packages: dict[str, str]

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
