"""Power of a difference-in-differences design: treated and comparison forces.

Each replicate is a balanced force × month panel drawn from the simulator's generative model
(:mod:`evaltk.power.generate`: trend, season, AR(1) and gamma noise, independently per force),
with a force-level rate multiplier (the simulator's ``force_rate_sd``) and the true rate ratio
in treated forces from the common start month. The estimator is the registered DiD's two-way
fixed effects model, linear in the rate per 100,000 with errors clustered by force, as
:class:`evaltk.estimators.did.TWFEModel` fits it with ``inference="cluster"`` (linearmodels'
``PanelOLS``): batched here through the within transformation, which on a balanced panel gives
the same coefficient, and the same clustered covariance and reference distribution
(``tests/power/test_did.py`` checks replicates against ``TWFEModel``).

Two tests, as ``TWFEModel`` offers them: ``randomization`` (the default here) permutes which
forces are treated, every assignment when there are at most ``permutations`` of them, and
compares the coefficient with its permutation distribution; it keeps its size with any number
of forces, and shows plainly that with very few (1 treated + 4 comparison allow 5
assignments, so p >= 0.2) nothing can be detected. ``cluster`` is the cluster-robust t test;
with few forces it over-rejects badly, which the row with no true change shows.

Not simulated: the Poisson TWFE and the wild cluster bootstrap (9,999 draws per replicate is
too slow for a power grid).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator
from scipy import stats

from evaltk.errors import PowerError
from evaltk.power.generate import expected_counts, latent_noise
from evaltk.power.report import CellResult
from evaltk.power.settings import ITSPowerSettings

PER = 100_000.0


class DiDPowerSettings(BaseModel):
    """Frozen settings of a DiD power grid: effect sizes × (treated, comparison) forces."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: str
    outcome_label: str = ""
    first_month: dt.date
    months_before: int = Field(ge=2)
    months_after: int = Field(ge=1)
    units: tuple[tuple[int, int], ...] = Field(description="(treated, comparison) forces.")
    effects: tuple[float, ...]
    baseline: float = Field(gt=0, description="Expected events per force-month at the start.")
    baseline_source: str = ""
    population: float = Field(default=1_000_000.0, gt=0)
    force_rate_sd: float = Field(default=0.2, ge=0, le=1)
    trend: float = 0.03
    seasonal_amplitude: float = 0.08
    seasonal_peak_month: int = 7
    ar_rho: float = 0.5
    ar_sd: float = 0.06
    overdispersion_cv: float = 0.04
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    target_power: float = Field(default=0.8, gt=0, lt=1)
    inference: Literal["randomization", "cluster"] = "randomization"
    permutations: int = Field(default=999, ge=19)
    replicates: int = Field(default=500, ge=10)
    seed: int = Field(default=20181001, ge=0)

    @field_validator("units")
    @classmethod
    def _units(cls, value: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        if not value or any(t < 1 or c < 1 for t, c in value):
            raise PowerError("each unit setting needs at least 1 treated and 1 comparison force")
        return tuple(sorted(set(value)))

    @property
    def cells(self) -> list[tuple[float, tuple[int, int]]]:
        return [(e, u) for u in self.units for e in sorted(set(self.effects))]

    def _series_settings(self) -> ITSPowerSettings:
        # The per-force series share the ITS generator; only its noise settings matter here.
        return ITSPowerSettings(
            outcome=self.outcome,
            first_month=self.first_month,
            months_before=max(self.months_before, 3),
            months_after=(max(self.months_after, 3),),
            registered_months_after=max(self.months_after, 3),
            effects=(1.0,),
            baseline=self.baseline,
            exposure="none",
            trend=self.trend,
            seasonal_amplitude=self.seasonal_amplitude,
            seasonal_peak_month=self.seasonal_peak_month,
            ar_rho=self.ar_rho,
            ar_sd=self.ar_sd,
            overdispersion_cv=self.overdispersion_cv,
            replicates=self.replicates,
        )


def draw_panel(
    settings: DiDPowerSettings, treated: int, comparison: int, effect: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rates per 100,000, shape ``(R, units, months)``, and the treatment indicator
    ``(units, months)``; treated forces first. Seeded by the unit counts only (common random
    numbers across effects)."""
    n_units = treated + comparison
    n_months = settings.months_before + settings.months_after
    key = [settings.seed, 31, settings.months_before, settings.months_after, treated, comparison]
    rng = np.random.default_rng(np.random.SeedSequence(key))
    series = settings._series_settings()
    months = np.datetime64(settings.first_month.strftime("%Y-%m"), "M") + np.arange(n_months)
    expected = expected_counts(series, months)
    sd = settings.force_rate_sd
    level = np.exp(sd * rng.standard_normal((settings.replicates, n_units)) - sd**2 / 2)
    noise = np.stack(
        [latent_noise(rng, settings.replicates, n_months, series) for _ in range(n_units)], axis=1
    )
    d = np.zeros((n_units, n_months))
    d[:treated, settings.months_before :] = 1.0
    mean = expected[None, None, :] * level[:, :, None] * noise * np.where(d > 0, effect, 1.0)
    counts = rng.poisson(mean).astype(float)
    return counts / settings.population * PER, d


def _within(values: np.ndarray) -> np.ndarray:
    """Two-way demeaning of a balanced panel (last two axes: units, months)."""
    return (
        values
        - values.mean(axis=-1, keepdims=True)
        - values.mean(axis=-2, keepdims=True)
        + values.mean(axis=(-2, -1), keepdims=True)
    )


def twfe_batch(y: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-way fixed effects coefficient of ``d``, its clustered (by unit) standard error and
    two-sided p-value, for every replicate of a balanced panel.

    Matches ``PanelOLS(entity_effects=True, time_effects=True).fit(cov_type="clustered",
    cluster_entity=True)`` as :class:`~evaltk.estimators.did.TWFEModel` reports it with
    ``inference="cluster"``: the sandwich ``(D'D)^-1 sum_g (sum_t D_gt e_gt)^2 (D'D)^-1`` on
    the demeaned data, times linearmodels' ``n / (n - units - months)`` for the absorbed
    effects, and a t reference with ``n - units - months`` degrees of freedom.
    """
    n_units, n_months = d.shape
    dd = _within(d)
    yy = _within(y)
    sxx = float(np.sum(dd**2))
    beta = np.einsum("rut,ut->r", yy, dd) / sxx
    resid = yy - beta[:, None, None] * dd[None]
    scores = np.einsum("rut,ut->ru", resid, dd)
    n = n_units * n_months
    df_resid = n - n_units - n_months
    if df_resid <= 0:
        raise PowerError(f"{n_units} forces x {n_months} months leave no residual df")
    se = np.sqrt(np.sum(scores**2, axis=1) * n / df_resid) / sxx
    p = 2 * stats.t.sf(np.abs(beta / se), df_resid)
    return beta, se, p


def assignments(n_units: int, treated: int, limit: int, rng: np.random.Generator) -> np.ndarray:
    """Treated-force sets ``(A, n_units)`` of 0/1, the observed one (first ``treated``) first.

    Every set when there are at most ``limit``; otherwise the observed one and ``limit``
    random draws.
    """
    total = math.comb(n_units, treated)
    rows = []
    if total <= limit:
        for chosen in itertools.combinations(range(n_units), treated):
            row = np.zeros(n_units)
            row[list(chosen)] = 1.0
            rows.append(row)
    else:
        for _ in range(limit):
            row = np.zeros(n_units)
            row[rng.choice(n_units, treated, replace=False)] = 1.0
            rows.append(row)
    observed = np.r_[np.ones(treated), np.zeros(n_units - treated)]
    rows = [observed] + [r for r in rows if not np.array_equal(r, observed)]
    return np.array(rows)


def randomization_p(
    y: np.ndarray, d: np.ndarray, treated: int, limit: int, rng: np.random.Generator
) -> np.ndarray:
    """Permutation p-value of the TWFE coefficient, ``P(|b_a| >= |b_observed|)``, per replicate.

    Each assignment's coefficient is ``sum(D_a'' y'') / sum(D_a''^2)`` on the two-way demeaned
    panel, so every assignment of every replicate is one matrix product.
    """
    n_units, _ = d.shape
    post = d.max(axis=0)  # the months after the common start
    sets = assignments(n_units, treated, limit, rng)
    designs = _within(sets[:, :, None] * post[None, None, :])  # (A, units, months)
    yy = _within(y)
    betas = np.einsum("aut,rut->ra", designs, yy) / np.sum(designs**2, axis=(1, 2))[None, :]
    observed = np.abs(betas[:, :1])
    # A small tolerance keeps ties (symmetric assignments) from depending on rounding.
    return np.mean(np.abs(betas) >= observed * (1 - 1e-12), axis=1)


def simulate_did_cell(
    settings: DiDPowerSettings, effect: float, units: tuple[int, int]
) -> CellResult:
    """Power of the TWFE test at one effect and (treated, comparison) forces."""
    treated, comparison = units
    y, d = draw_panel(settings, treated, comparison, effect)
    beta, _, p = twfe_batch(y, d)
    if settings.inference == "randomization":
        key = [settings.seed, 37, treated, comparison]
        rng = np.random.default_rng(np.random.SeedSequence(key))
        p = randomization_p(y, d, treated, settings.permutations, rng)
        # An exact test rejects when p <= alpha (its p-values are multiples of 1 / A).
        p = np.where(p <= settings.alpha, 0.0, p)
    failed = ~np.isfinite(p)
    baseline_rate = float(np.mean(y[:, :, : settings.months_before]))
    return CellResult(
        effect=effect,
        months_before=settings.months_before,
        months_after=settings.months_after,
        treated_units=treated,
        comparison_units=comparison,
        replicates=settings.replicates,
        rejections=int(np.sum(np.where(failed, False, p < settings.alpha))),
        failed=int(failed.sum()),
        # The linear effect is a difference in the rate; as a ratio to the pre-period rate it
        # reads like the ITS ratios.
        mean_estimate=float(1.0 + np.nanmean(beta) / baseline_rate) if baseline_rate else None,
    )
