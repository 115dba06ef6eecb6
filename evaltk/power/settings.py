"""What a simulation-based power analysis of an interrupted time series assumes.

The design (months, model, test) comes from the registered protocol; what the protocol cannot
know before the data are seen (the baseline count, trend, seasonality, overdispersion and
autocorrelation) comes from the project simulator's settings (:mod:`evaltk.simulate`) unless
the user overrides it. Every value is written to ``power.json`` beside the table.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evaltk.errors import PowerError


class ITSPowerSettings(BaseModel):
    """Frozen settings of one ITS power grid: effect sizes × months after the start.

    Attributes are grouped as: the grid (``effects``, ``months_after``), the design
    (``months_before``, ``washout_months``, model options), the data-generating assumptions
    (``baseline`` ... ``overdispersion_cv``) and the simulation (``replicates``, ``seed``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: str = Field(description="The outcome powered (the protocol's primary).")
    outcome_label: str = ""
    first_month: dt.date = Field(description="First month of the analysis window.")
    months_before: int = Field(ge=3, description="Months before the start (pre-period).")
    washout_months: int = Field(default=0, ge=0)
    months_after: tuple[int, ...] = Field(description="Post-period lengths to compare.")
    registered_months_after: int = Field(ge=3, description="The protocol's post-period.")
    effects: tuple[float, ...] = Field(description="True rate ratios (0.9 = 10 % fewer).")

    baseline: float = Field(gt=0, description="Expected events per month at the window start.")
    baseline_source: str = Field(default="", description="Where the baseline came from.")
    exposure: Literal["population", "none"] = Field(
        default="none", description="population: a rate outcome, fitted with a log offset."
    )
    population: float = Field(default=1_000_000.0, gt=0)
    population_growth: float = Field(default=0.006, gt=-0.1, lt=0.1, description="Per year.")
    trend: float = Field(default=0.03, gt=-0.5, lt=0.5, description="Per-capita change a year.")
    seasonal_amplitude: float = Field(default=0.08, ge=0, lt=1)
    seasonal_peak_month: int = Field(default=7, ge=1, le=12)
    ar_rho: float = Field(default=0.5, gt=-1, lt=1, description="AR(1) of the log-rate noise.")
    ar_sd: float = Field(default=0.06, ge=0, description="Marginal sd of the AR(1) noise.")
    overdispersion_cv: float = Field(default=0.04, ge=0, description="Gamma multiplier CV.")

    family: Literal["poisson", "quasi_poisson", "negative_binomial", "gaussian"] = "quasi_poisson"
    seasonality: Literal["fourier", "month", "none"] = "fourier"
    harmonics: int = Field(default=2, ge=1, le=5)
    slope_change: bool = False
    trend_term: bool = Field(
        default=True,
        description="Fit the underlying trend (an ITS). False leaves a plain before-after "
        "comparison of rates, whose power has a closed form (used to check the simulation).",
    )
    hac: bool = False
    hac_lags: int | None = None
    ar1: bool = Field(default=False, description="AR(1) working-correlation errors.")
    model: Literal["glm", "gls", "auto"] = Field(
        default="glm",
        description="The ITS model, as the protocol's design.its.model: glm (the segmented GLM "
        "with the errors above), gls (log rate by GLS, REML, Satterthwaite t), or auto (per "
        "replicate, by the analysis's own rule: gls when every fitted month has a count).",
    )
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    target_power: float = Field(default=0.8, gt=0, lt=1)

    replicates: int = Field(default=500, ge=10)
    seed: int = Field(default=20181001, ge=0)

    @field_validator("months_after")
    @classmethod
    def _months(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(m < 3 for m in value):
            raise PowerError("months after the start must each be at least 3 (Cochrane EPOC)")
        return tuple(sorted(set(value)))

    @field_validator("effects")
    @classmethod
    def _effects(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(not (0 < e < 10) for e in value):
            raise PowerError("effects are rate ratios between 0 and 10, e.g. 0.9 for 10 % fewer")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _estimable(self) -> ITSPowerSettings:
        if self.hac_lags is not None and not self.hac:
            raise PowerError("hac_lags is set but hac is false")
        if self.hac and self.ar1:
            raise PowerError("choose one of hac and ar1 for the errors, not both")
        if self.model == "gls" and (self.hac or self.ar1):
            raise PowerError("model 'gls' models the autocorrelation itself; drop hac and ar1")
        return self

    @property
    def cells(self) -> list[tuple[float, int]]:
        """Every (effect, months after) pair of the grid, effects varying fastest."""
        return [(e, m) for m in self.months_after for e in self.effects]
