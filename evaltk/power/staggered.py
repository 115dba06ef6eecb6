"""Power of a staggered adoption design: Callaway & Sant'Anna with randomisation inference.

Each replicate is a force × month panel from the simulator's generative model (as
:func:`evaltk.power.did.draw_panel`: trend, season, AR(1) and gamma noise per force, a
force-level rate multiplier), with the true rate ratio in each force from its own start month,
as rates per 100,000 (the measure's value, which the registered C&S models). The estimator
is the registered one without covariates: ATT(g,t) by the cells of
:func:`evaltk.estimators.staggered.attgt.plan_cells` (comparison group, base period and
anticipation as registered) and the ``simple`` aggregation. Without covariates every such
estimate is a fixed linear combination of the panel's values, so each assignment of adoption
dates is one weight matrix (:func:`headline_weights`, checked against
:class:`~evaltk.estimators.staggered.permuted.PermutedEstimates` in
``tests/power/test_designs.py``) and the randomisation test of every replicate under every
assignment is one matrix product. The assignments are those of the analysis
(:func:`evaltk.estimators.did.randomization.assignments`: all distinct ones when there are at
most ``permutations``), and so is the p-value
(:func:`~evaltk.estimators.did.randomization.p_value`).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field, field_validator

from evaltk.errors import PowerError
from evaltk.estimators.did.randomization import TIE_TOLERANCE, assignments
from evaltk.estimators.staggered.attgt import plan_cells
from evaltk.estimators.staggered.data import select_panel, wide_panel
from evaltk.estimators.staggered.options import CSSpec
from evaltk.power.did import PER
from evaltk.power.generate import SeriesNoise, expected_counts, latent_noise
from evaltk.power.report import CellResult
from evaltk.power.settings import ITSPowerSettings


class StaggeredPowerSettings(SeriesNoise):
    """Frozen settings of a staggered-adoption power grid (effects; one registered design)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: str
    outcome_label: str = ""
    first_month: dt.date
    n_months: int = Field(ge=4)
    starts: tuple[int | None, ...] = Field(
        description="Each force's first treated month (index from the first month), or None."
    )
    effects: tuple[float, ...]
    baseline: float = Field(gt=0, description="Expected events per force-month at the start.")
    baseline_source: str = ""
    population: float = Field(default=1_000_000.0, gt=0)
    force_rate_sd: float = Field(default=0.2, ge=0, le=1)
    control_group: Literal["not_yet_treated", "never_treated"] = "not_yet_treated"
    base_period: Literal["varying", "universal"] = "varying"
    anticipation: int = Field(default=0, ge=0)
    period_bin: Literal["month", "quarter", "year"] = "month"
    permutations: int = Field(default=999, ge=19)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    target_power: float = Field(default=0.8, gt=0, lt=1)
    replicates: int = Field(default=500, ge=10)
    seed: int = Field(default=20181001, ge=0)

    @field_validator("effects")
    @classmethod
    def _effects(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(not (0 < e < 10) for e in value):
            raise PowerError("effects are rate ratios between 0 and 10, e.g. 0.9 for 10 % fewer")
        return tuple(sorted(set(value)))

    @property
    def treated(self) -> int:
        return sum(s is not None for s in self.starts)

    @property
    def cells(self) -> list[tuple[float, str]]:
        return [(e, "registered") for e in self.effects]

    def series_settings(self) -> ITSPowerSettings:
        # The per-force series share the ITS generator; only its noise settings matter here.
        return ITSPowerSettings(
            outcome=self.outcome,
            first_month=self.first_month,
            months_before=3,
            months_after=(max(self.n_months - 3, 3),),
            registered_months_after=max(self.n_months - 3, 3),
            effects=(1.0,),
            baseline=self.baseline,
            trend=self.trend,
            seasonal_amplitude=self.seasonal_amplitude,
            seasonal_peak_month=self.seasonal_peak_month,
            ar_rho=self.ar_rho,
            ar_sd=self.ar_sd,
            overdispersion_cv=self.overdispersion_cv,
            replicates=self.replicates,
        )

    def spec(self) -> CSSpec:
        return CSSpec(
            control_group=self.control_group,
            base_period=self.base_period,
            anticipation=self.anticipation,
        )


_BIN = {"month": 1, "quarter": 3, "year": 12}


def treatment(settings: StaggeredPowerSettings) -> np.ndarray:
    """Forces × months: 1 from each force's start month on."""
    months = np.arange(settings.n_months)
    rows = [
        months >= s if s is not None else np.zeros(settings.n_months, bool) for s in settings.starts
    ]
    return np.array(rows, dtype=float)


def draw_rates(settings: StaggeredPowerSettings, effect: float) -> np.ndarray:
    """Monthly rates per 100,000, ``(replicates, forces, months)``; the random numbers depend
    on the design only (common random numbers across effects)."""
    n_units = len(settings.starts)
    key = [
        settings.seed,
        43,
        settings.n_months,
        *[0 if s is None else s + 1 for s in settings.starts],
    ]
    rng = np.random.default_rng(np.random.SeedSequence(key))
    series = settings.series_settings()
    months = np.datetime64(settings.first_month.strftime("%Y-%m"), "M") + np.arange(
        settings.n_months
    )
    expected = expected_counts(series, months)
    sd = settings.force_rate_sd
    level = np.exp(sd * rng.standard_normal((settings.replicates, n_units)) - sd**2 / 2)
    noise = np.stack(
        [latent_noise(rng, settings.replicates, settings.n_months, series) for _ in range(n_units)],
        axis=1,
    )
    d = treatment(settings)
    mean = expected[None, None, :] * level[:, :, None] * noise * np.where(d > 0, effect, 1.0)
    return rng.poisson(mean) / settings.population * PER


def binned(values: np.ndarray, period_bin: str) -> np.ndarray:
    """Monthly values averaged within periods (whole periods from the first month)."""
    width = _BIN[period_bin]
    if width == 1:
        return values
    n = values.shape[-1] // width * width
    return values[..., :n].reshape(*values.shape[:-1], n // width, width).mean(axis=-1)


def _period_starts(settings: StaggeredPowerSettings) -> np.ndarray:
    """Each force's first treated period (1-based, as the analysis numbers periods), inf if
    never (or after the last whole period)."""
    width = _BIN[settings.period_bin]
    n_periods = settings.n_months // width
    out = []
    for s in settings.starts:
        period = np.inf if s is None else s // width + 1
        out.append(period if period <= n_periods else np.inf)
    return np.array(out, dtype=float)


def _wide(settings: StaggeredPowerSettings, n_periods: int) -> object:
    units = len(settings.starts)
    cohort = _period_starts(settings)
    frame = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(units), n_periods),
            "t": np.tile(np.arange(1, n_periods + 1), units),
            "g": np.repeat(np.where(np.isfinite(cohort), cohort, 0), n_periods),
            "value": 0.0,
        }
    )
    return wide_panel(
        frame, outcome="value", unit="unit", time="t", group="g", spec=settings.spec()
    )


def headline_weights(wide: object, spec: CSSpec, cohort: np.ndarray) -> np.ndarray:
    """Weights ``W`` (units in the wide panel's order × periods) with ``sum(W * y)`` the
    ``simple`` aggregate of the ATT(g,t) when the units' cohorts are ``cohort``.

    Each post cell is the treated cohort's mean change from its base period less the
    comparison units' mean change; the cells are averaged with the cohorts' shares as weights.
    """
    panel = select_panel(wide, spec, cohort=cohort)  # type: ignore[arg-type]
    cells, _ = plan_cells(panel, spec)
    row_of = {u: i for i, u in enumerate(wide.unit_ids)}  # type: ignore[attr-defined]
    rows = np.array([row_of[u] for u in panel.unit_ids])
    n_units = len(wide.unit_ids)  # type: ignore[attr-defined]
    shares = {g: float(np.mean(panel.cohort == g)) for g in panel.groups}
    post = [c for c in cells if not c.normalized and c.group <= panel.periods[c.ti]]
    if not post:
        raise PowerError("no cohort has a comparison after its start: nothing to estimate")
    total = sum(shares[c.group] for c in post)
    weights = np.zeros((n_units, len(panel.periods)))
    never = np.isinf(panel.cohort)
    for c in post:
        w = shares[c.group] / total
        treated = panel.cohort == c.group
        control = never if np.isinf(c.cutoff) else (panel.cohort > c.cutoff) & ~treated
        for mask, sign in ((treated, 1.0), (control, -1.0)):
            share = sign * w / mask.sum()
            weights[rows[mask], c.ti] += share
            weights[rows[mask], c.base] -= share
    return weights


@functools.lru_cache(maxsize=4)
def _operators(settings: StaggeredPowerSettings, n_periods: int) -> tuple[np.ndarray, bool]:
    """The observed assignment's weights, then every assignment of the analysis's plan, as
    rows ``(1 + A, units * periods)``; the same for every effect, so computed once."""
    wide = _wide(settings, n_periods)
    spec = settings.spec()
    observed = _period_starts(settings)
    plan = assignments(observed, settings.permutations, settings.seed)
    rows = [headline_weights(wide, spec, observed)]
    rows += [headline_weights(wide, spec, row) for row in plan.starts]
    return np.stack(rows).reshape(plan.count + 1, -1), plan.enumerated


def simulate_staggered_cell(
    settings: StaggeredPowerSettings, effect: float, column: str = "registered"
) -> CellResult:
    """Power of the registered C&S randomisation test at one effect."""
    values = binned(draw_rates(settings, effect), settings.period_bin)
    replicates = values.shape[0]
    ops, enumerated = _operators(settings, values.shape[2])
    estimates = values.reshape(replicates, -1) @ ops.T  # (R, 1 + A)
    hit = np.abs(estimates[:, 1:]) >= np.abs(estimates[:, :1]) * (1 - TIE_TOLERANCE)
    hits = hit.sum(axis=1)
    count = ops.shape[0] - 1
    p = hits / count if enumerated else (1 + hits) / (count + 1)
    # An exact test rejects when p <= alpha (its p-values are multiples of 1 / A).
    rejections = int(np.sum(p <= settings.alpha + 1e-12))
    first = min(s for s in settings.starts if s is not None)
    baseline_rate = float(np.mean(values[:, :, : max(first // _BIN[settings.period_bin], 1)]))
    return CellResult(
        effect=effect,
        months_before=first,
        months_after=settings.n_months - first,
        treated_units=settings.treated,
        comparison_units=len(settings.starts) - settings.treated,
        replicates=replicates,
        rejections=rejections,
        failed=0,
        mean_estimate=float(1.0 + np.mean(estimates[:, 0]) / baseline_rate),
    )
