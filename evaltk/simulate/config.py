"""The simulation's settings: one frozen model, with presets for the common sizes."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from evaltk.episodes.schema import PLACES_OF_SAFETY, REFERRALS
from evaltk.errors import SimulationError
from evaltk.simulate.effects import EFFECT_NAMES
from evaltk.simulate.forces import (
    ALL_FORCES,
    DERBYSHIRE,
    EAST_MIDLANDS,
    FORCES_BY_CODE,
    LEICESTERSHIRE,
    LINCOLNSHIRE,
    NORTHAMPTONSHIRE,
    NOTTINGHAMSHIRE,
)

PresetName = Literal["demo", "small", "region", "national", "synthetic"]
PRESETS: tuple[str, ...] = ("demo", "small", "region", "national", "synthetic")

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_REFERRAL_KINDS = tuple(r for r in REFERRALS if r != "none")

# A displacement story: fewer detentions and less police time waiting at hospital, but more
# A&E conveyances and more referrals. Each example analysis reads this one scheme through its
# own template (street triage, control-room nurses, Right Care, Right Person), so the story
# gives each a primary outcome that improves and a displacement outcome that rises; ambulance
# conveyances, missing-person reports and incident volume have no effect (true nulls).
DISPLACEMENT_EFFECTS: dict[str, float] = {
    "s136": 0.7,
    "ae_conveyance": 1.2,
    "hospital_wait_minutes": 0.7,
    "referral": 1.25,
}
# Staggered starts in the East Midlands; Lincolnshire and Northamptonshire never adopt triage.
EAST_MIDLANDS_STARTS: dict[str, str | None] = {
    DERBYSHIRE: "2017-01",
    NOTTINGHAMSHIRE: "2016-04",
    LINCOLNSHIRE: None,
    LEICESTERSHIRE: "2015-10",
    NORTHAMPTONSHIRE: None,
}


def parse_month(text: str) -> np.datetime64:
    """``"YYYY-MM"`` as a numpy month; raise :class:`SimulationError` otherwise."""
    if not isinstance(text, str) or not _MONTH.match(text):
        raise SimulationError(f"month {text!r} is not of the form YYYY-MM, e.g. 2016-04")
    return np.datetime64(text, "M")


#: The seed of the demo preset, and so of `evaltk demo`'s data (the year of the roundtable).
DEMO_SEED = 2018


class SimulationConfig(BaseModel):
    """Everything that defines a simulated dataset; with ``seed`` it fixes the output exactly.

    The defaults reproduce the ``"demo"`` preset (five East Midlands forces, 2014-01 to 2019-12,
    about 156,000 episodes, a displacement story). Build variants with
    :meth:`preset` (``SimulationConfig.preset("national", seed=3)``), keyword arguments, or
    :meth:`model_copy` with ``update=``; every route re-validates, and any impossible setting
    raises :class:`~evaltk.errors.SimulationError`.

    Rates are per incident unless named otherwise. Effects are ratios of expected monthly counts
    (or means per incident, for minutes) in treated force-months to the counterfactual; see
    :mod:`evaltk.simulate.effects`. The intervention month is INCLUSIVE: from a force's start
    month on, every month is treated.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field("custom", description="Label written to truth.json (the preset's name).")
    seed: int = Field(20180601, ge=0, description="Seed of every random draw.")

    # Where and when.
    forces: tuple[str, ...] = Field(EAST_MIDLANDS, description="ONS codes of the forces.")
    first_month: str = Field("2014-01", description="First simulated month, YYYY-MM.")
    months: int = Field(72, ge=1, le=1200, description="Number of simulated months.")
    scale: float = Field(0.25, gt=0, description="Multiplies the base incident rate.")

    # Incident volume per force-month.
    base_rate: float = Field(
        160.0, gt=0, description="Incidents per 100,000 people per month at first_month."
    )
    population_growth: float = Field(0.006, gt=-0.1, lt=0.1, description="Per year.")
    trend: float = Field(0.03, gt=-0.5, lt=0.5, description="Secular change in the rate per year.")
    seasonal_amplitude: float = Field(0.08, ge=0, lt=1, description="Of the annual sinusoid.")
    seasonal_peak_month: int = Field(7, ge=1, le=12, description="Calendar month of the peak.")
    ar_rho: float = Field(0.5, gt=-1, lt=1, description="AR(1) coefficient of log-rate noise.")
    ar_sd: float = Field(0.06, ge=0, description="Marginal sd of the AR(1) log-rate noise.")
    overdispersion_cv: float = Field(
        0.04, ge=0, description="Coefficient of variation of a mean-one gamma multiplier."
    )
    force_rate_sd: float = Field(
        0.2, ge=0, le=1, description="Sd of each force's log incident-rate multiplier."
    )

    # Intervention.
    starts: dict[str, str | None] = Field(
        default_factory=lambda: dict(EAST_MIDLANDS_STARTS),
        description="Start month per force (YYYY-MM), or null for never treated.",
    )
    never_treated_share: float = Field(
        0.3, ge=0, le=1, description="Share of forces not in `starts` that never adopt triage."
    )
    start_window: tuple[str, str] | None = Field(
        None,
        description="Months between which generated starts fall (default: the middle half).",
    )
    coverage: float = Field(
        0.6, gt=0, le=1, description="Share of incidents in treated months the nurse attends."
    )

    # Per-incident outcomes without triage (before force-to-force variation).
    force_outcome_sd: float = Field(
        0.1, ge=0, le=0.5, description="Sd of each force's log multiplier on outcome rates."
    )
    p_s136: float = Field(0.05, ge=0, le=1)
    place_of_safety_shares: dict[str, float] = Field(
        default_factory=lambda: {
            "health_based_suite": 0.6,
            "emergency_department": 0.33,
            "police_custody": 0.07,
        }
    )
    p_ae_conveyance: float = Field(
        0.15, ge=0, le=1, description="Including s136 detentions taken to an ED."
    )
    p_ambulance_conveyance: float = Field(0.20, ge=0, le=1)
    p_referral: float = Field(0.35, ge=0, le=1, description="Any onward referral.")
    referral_shares: dict[str, float] = Field(
        default_factory=lambda: {"gp": 0.4, "community_team": 0.35, "crisis_team": 0.25}
    )
    p_missing_person: float = Field(0.03, ge=0, le=1)
    p_arrest: float = Field(0.04, ge=0, le=1)
    p_admitted_72h_s136: float = Field(0.20, ge=0, le=1)
    p_admitted_72h_other: float = Field(0.03, ge=0, le=1)
    officer_minutes_mean: float = Field(
        180.0, gt=0, description="Mean per incident, including any wait at hospital."
    )
    officer_minutes_sigma: float = Field(0.7, gt=0, le=3, description="Lognormal sigma.")
    p_hospital_wait: float = Field(
        0.8, ge=0, le=1, description="Police wait, given the person was taken to hospital."
    )
    hospital_wait_mean: float = Field(420.0, gt=0, description="Mean minutes, given a wait.")
    hospital_wait_sigma: float = Field(0.8, gt=0, le=3, description="Lognormal sigma.")

    # Repeat users.
    repeat_active_ratio: float = Field(
        20.0, gt=0, description="People active at a time per expected monthly incident."
    )
    repeat_propensity_sigma: float = Field(
        1.6, ge=0, le=4, description="Lognormal sigma of personal incident propensity."
    )
    repeat_spell_months: float = Field(
        12.0, gt=0, description="Mean length of a person's active spell."
    )

    # Journeys: one crisis feeding another (evaltk.simulate.journeys). Off by default, so that
    # the demo's data and every golden stay as they were; the journey study turns them on.
    journey_missing_after_s136: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Chance that a person detained under s136 is reported missing 1-23 hours "
        "later (a police incident of the same person).",
    )
    journey_missing_after_admission: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Chance that a person admitted within 72 hours of an incident (and not "
        "detained under s136 at it) is reported missing 24-72 hours after the incident.",
    )

    effects: dict[str, float] = Field(
        default_factory=lambda: dict(DISPLACEMENT_EFFECTS),
        description="True ratio per outcome key; missing keys mean no effect (1.0).",
    )

    def __init__(self, **data: Any) -> None:
        # One error type for every bad setting, so the CLI prints one line and callers catch one.
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise SimulationError(_one_line(error)) from None

    # --- validation -------------------------------------------------------------------------

    @field_validator("forces")
    @classmethod
    def _known_forces(cls, forces: tuple[str, ...]) -> tuple[str, ...]:
        if not forces:
            raise SimulationError("forces is empty: name at least one ONS force code")
        unknown = [f for f in forces if f not in FORCES_BY_CODE]
        if unknown:
            raise SimulationError(
                f"unknown force code(s) {', '.join(unknown)}: use ONS codes "
                "E23000001-E23000039 or W15000001-W15000004"
            )
        if len(set(forces)) != len(forces):
            raise SimulationError("forces lists a force twice")
        return forces

    @field_validator("first_month")
    @classmethod
    def _month_format(cls, value: str) -> str:
        parse_month(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for force, start in self.starts.items():
            if force not in self.forces:
                raise SimulationError(f"starts names force {force!r}, which is not in forces")
            if start is not None:
                parse_month(start)
        if self.start_window is not None:
            low, high = (parse_month(m) for m in self.start_window)
            if high < low:
                raise SimulationError("start_window ends before it begins")
        _check_shares("place_of_safety_shares", self.place_of_safety_shares, PLACES_OF_SAFETY)
        _check_shares("referral_shares", self.referral_shares, _REFERRAL_KINDS)
        for key, ratio in self.effects.items():
            if key not in EFFECT_NAMES:
                raise SimulationError(
                    f"unknown effect {key!r}: choose from {', '.join(EFFECT_NAMES)}"
                )
            if not math.isfinite(ratio) or ratio < 0:
                raise SimulationError(f"effect {key}={ratio} must be a ratio >= 0")
        if {"officer_minutes", "scene_minutes"} <= set(self.effects):
            raise SimulationError(
                "effects: set scene_minutes (officer time other than hospital waits; officer "
                "minutes then follow) or officer_minutes (the total), not both"
            )
        # Imported here because the rate solver itself reads this config.
        from evaltk.simulate.rates import solve_rates

        solve_rates(self)  # raises SimulationError when a probability would leave [0, 1]
        return self

    # --- construction ---------------------------------------------------------------------------

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> SimulationConfig:
        """A named configuration, optionally with fields overridden.

        Parameters
        ----------
        name
            ``"demo"`` (5 East Midlands forces, 2014-2019, about 145,000 episodes: the data
            of ``evaltk demo``), ``"small"`` (Nottinghamshire alone, about 5,600 episodes),
            ``"region"`` (the 5 forces at full scale over 2014-2023, about 1.1 million) or
            ``"national"`` (all 43 forces at full scale over 2014-2023, about 14 million,
            with generated staggered starts) or ``"synthetic"`` (all 43 forces 2014-2019 at
            a tenth of the scale, Nottinghamshire alone starting, in April 2016: the data of
            the demo's synthetic-control example, about 200,000).
        **overrides
            Any field, e.g. ``seed=7`` or ``effects={"s136": 0.8}``.
        """
        if name not in PRESETS:
            raise SimulationError(f"unknown preset {name!r}: choose from {', '.join(PRESETS)}")
        fields: dict[str, Any] = {"name": name}
        if name == "demo":
            # `evaltk demo` runs on exactly this dataset, so `evaltk simulate --preset demo`
            # reproduces its data.
            fields |= {"seed": DEMO_SEED}
        elif name == "small":
            fields |= {
                "forces": (NOTTINGHAMSHIRE,),
                "starts": {NOTTINGHAMSHIRE: "2016-04"},
                "scale": 0.03,
            }
        elif name == "region":
            fields |= {"months": 120, "scale": 1.0}
        elif name == "national":
            fields |= {"forces": ALL_FORCES, "starts": {}, "months": 120, "scale": 1.0}
        elif name == "synthetic":
            # One force against the other 42 (the synthetic-control example of `evaltk demo`):
            # Nottinghamshire starts in April 2016, no other force ever does; small scale keeps
            # the demo quick.
            starts: dict[str, str | None] = {force: None for force in ALL_FORCES}
            fields |= {
                "seed": DEMO_SEED,
                "forces": ALL_FORCES,
                "starts": starts | {NOTTINGHAMSHIRE: "2016-04"},
                "scale": 0.1,
            }
        return cls(**(fields | overrides))

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update`` applied, validated again (pydantic's own copy skips that)."""
        data = self.model_dump()
        data.update(update or {})
        return type(self)(**data)

    # --- derived ------------------------------------------------------------------------------

    @property
    def periods(self) -> np.ndarray:
        """The simulated months as ``datetime64[M]``, oldest first."""
        return parse_month(self.first_month) + np.arange(self.months)

    @property
    def calendar_years(self) -> list[int]:
        """The calendar years the simulated months touch, oldest first."""
        years = self.periods.astype("datetime64[Y]").astype(np.int64) + 1970
        return sorted(set(years.tolist()))

    def effect(self, key: str) -> float:
        """The configured true ratio for ``key`` (1.0 when unset)."""
        return float(self.effects.get(key, 1.0))


def _check_shares(field: str, shares: Mapping[str, float], codes: tuple[str, ...]) -> None:
    if set(shares) != set(codes):
        raise SimulationError(f"{field} must give a share for each of {', '.join(codes)}")
    values = np.array([shares[c] for c in codes], dtype=float)
    if (values < 0).any() or not math.isclose(values.sum(), 1.0, abs_tol=1e-9):
        raise SimulationError(f"{field} must be non-negative and sum to 1 (got {values.sum():g})")


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "configuration"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"invalid simulation setting {where}: {first['msg']}{more}"
