"""Power of a difference-in-differences design: treated and comparison forces.

Each replicate is a balanced force × month panel drawn from the simulator's generative model
(:mod:`evaltk.power.generate`: trend, season, AR(1) and gamma noise, independently per force),
with a force-level rate multiplier (the simulator's ``force_rate_sd``) and the true rate ratio
in treated forces from the common start month. The estimator is the registered DiD's two-way
fixed effects model as :class:`evaltk.estimators.did.TWFEModel` fits it: the linear one
batched through the within transformation, which on a balanced panel gives linearmodels'
``PanelOLS`` coefficient, clustered covariance and reference distribution
(``tests/power/test_did.py`` and ``test_did_models.py`` check replicates against
``TWFEModel``).

The model and test are those the protocol's design would use (``family``, and ``inference``
as the analysis resolves ``auto``: the wild cluster bootstrap below 50 forces, see
:func:`~evaltk.estimators.did.inference.auto_method`):

- ``family``: ``linear`` (the rate per 100,000) or ``poisson`` (counts with the population
  as exposure, the Poisson TWFE of :mod:`evaltk.power.batch_poisson`, batched Newton).
- ``wild_bootstrap``: the analysis's restricted wild cluster bootstrap (linear) or score
  bootstrap (Poisson), with the weights the analysis draws from the protocol's seed, shared by
  every replicate (:mod:`evaltk.power.did_inference`).
- ``randomization``: the analysis's permutations of which forces are treated (all distinct
  ones when there are at most ``permutations``), exact with any number of forces, and plainly
  unable to detect anything with very few (1 treated + 4 comparison allow 5 assignments, so
  p >= 0.2).
- ``cluster``: the cluster-robust test; with few forces it over-rejects badly, which the row
  with no true change shows.

Every test rejects when ``p < alpha``, as the verdict reads it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Literal

import numpy as np
from pydantic import ConfigDict, Field, field_validator
from scipy import stats

from evaltk.errors import PowerError
from evaltk.estimators.did.inference import auto_method
from evaltk.estimators.did.options import FEW_CLUSTERS, InferenceSpec
from evaltk.power.batch_poisson import fit_poisson_twfe
from evaltk.power.did_inference import (
    BootstrapPlan,
    event_regressors,
    linear_cluster,
    post_average,
    randomization_p,
    score_bootstrap_p,
    treatment_starts,
    wcr_p,
    within,
)
from evaltk.power.generate import SeriesNoise, expected_counts, latent_noise
from evaltk.power.report import CellResult
from evaltk.power.settings import ITSPowerSettings

PER = 100_000.0


class DiDPowerSettings(SeriesNoise):
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
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    target_power: float = Field(default=0.8, gt=0, lt=1)
    family: Literal["linear", "poisson"] = Field(
        default="linear",
        description="linear: TWFE on the rate per 100,000; poisson: Poisson TWFE on counts.",
    )
    inference: Literal["auto", "randomization", "cluster", "wild_bootstrap"] = Field(
        default="randomization",
        description="The analysis's design.inference.method; auto as the analysis resolves it "
        "(the wild cluster bootstrap below 50 forces).",
    )
    estimator: Literal["twfe", "two_by_two"] = Field(
        default="twfe", description="design.did.estimator (two_by_two is powered by the TWFE)."
    )
    event_study: tuple[int, int, int] | None = Field(
        default=None,
        description="(leads, lags, width) of an event study, whose headline is the mean of "
        "its post-adoption bins; None for the TWFE coefficient.",
    )
    permutations: int = Field(default=999, ge=19)
    draws: int = Field(default=9_999, ge=99, description="Wild bootstrap draws.")
    weights: Literal["auto", "rademacher", "webb"] = "auto"
    bootstrap_by: Literal["auto", "unit", "unit_block"] = "auto"
    replicates: int = Field(default=500, ge=10)
    seed: int = Field(
        default=20181001,
        ge=0,
        description="Seed of the simulation, and of the bootstrap weights and permutations "
        "(the analysis seeds those with the protocol's seed).",
    )

    @field_validator("units")
    @classmethod
    def _units(cls, value: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        if not value or any(t < 1 or c < 1 for t, c in value):
            raise PowerError("each unit setting needs at least 1 treated and 1 comparison force")
        return tuple(sorted(set(value)))

    @property
    def cells(self) -> list[tuple[float, tuple[int, int]]]:
        return [(e, u) for u in self.units for e in sorted(set(self.effects))]

    def method(self, n_units: int) -> tuple[str, str]:
        """The test the analysis would use with ``n_units`` forces, and why."""
        return auto_method(self.inference, n_units, FEW_CLUSTERS)

    def inference_spec(self, n_units: int) -> InferenceSpec:
        """The analysis's inference options (``ci`` off: power needs p-values only)."""
        return InferenceSpec(
            method=self.method(n_units)[0],  # type: ignore[arg-type]
            draws=self.draws,
            weights=self.weights,
            permutations=self.permutations,
            seed=self.seed,
            ci=False,
            bootstrap_by=self.bootstrap_by,
        )

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


def draw_counts(
    settings: DiDPowerSettings, treated: int, comparison: int, effect: float
) -> tuple[np.ndarray, np.ndarray]:
    """Counts, shape ``(R, units, months)``, and the treatment indicator ``(units, months)``;
    treated forces first. Seeded by the unit counts only (common random numbers across
    effects); every force has the population ``settings.population``."""
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
    return rng.poisson(mean).astype(float), d


def draw_panel(
    settings: DiDPowerSettings, treated: int, comparison: int, effect: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rates per 100,000, shape ``(R, units, months)``, and the treatment indicator (see
    :func:`draw_counts`)."""
    counts, d = draw_counts(settings, treated, comparison, effect)
    return counts / settings.population * PER, d


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
    dd = within(d)
    yy = within(y)
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


def replicate_tests(
    settings: DiDPowerSettings, counts: np.ndarray, d: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each replicate's estimate (a difference in the rate, or a log rate ratio; an event
    study's mean of its post-adoption bins) and the p-value of the test the analysis would
    use."""
    n_units, n_months = d.shape
    method, _ = settings.method(n_units)
    spec = settings.inference_spec(n_units)
    treated = int(d[:, -1].sum())
    starts = treatment_starts(treated, n_units - treated, settings.months_before)
    rates = counts / settings.population * PER
    y = rates if settings.family == "linear" else counts
    regressors: Callable[[np.ndarray], np.ndarray] | None = None
    weights: np.ndarray | None = None
    if settings.event_study is not None:
        leads, lags, width = settings.event_study

        def regressors(row: np.ndarray) -> np.ndarray:
            return event_regressors(row, n_months, leads, lags, width)

        weights = post_average(leads, lags)
        regs = regressors(starts)
        if not regs.reshape(len(regs), -1).any(axis=1).all():
            raise PowerError(
                f"event study: {n_months} months with the start after {settings.months_before} "
                f"leave an event-time bin empty; the analysis would refuse it (fewer leads or "
                "lags, or a wider bin width)"
            )
    else:
        regs = d[None]
    w = np.eye(len(regs))[0] if weights is None else weights
    if settings.family == "linear":
        if settings.event_study is None:
            estimate, _, p = twfe_batch(rates, d)
        else:
            estimate, _, p = linear_cluster(rates, regs, w)
    else:
        fit = fit_poisson_twfe(counts, regs, w)
        estimate, p = fit.estimate, fit.p_value
    if method == "wild_bootstrap":
        plan = BootstrapPlan(spec, settings.first_month, n_units, n_months)
        test = wcr_p if settings.family == "linear" else score_bootstrap_p
        p = test(y, regs, plan, w)
    elif method == "randomization":
        p = randomization_p(y, starts, spec, settings.family, regressors, weights)
    return estimate, p


def simulate_did_cell(
    settings: DiDPowerSettings, effect: float, units: tuple[int, int]
) -> CellResult:
    """Power of the registered DiD test at one effect and (treated, comparison) forces."""
    treated, comparison = units
    counts, d = draw_counts(settings, treated, comparison, effect)
    estimate, p = replicate_tests(settings, counts, d)
    failed = ~np.isfinite(p)
    mean: float | None = None
    if settings.family == "poisson":
        finite = estimate[np.isfinite(estimate)]
        mean = float(np.mean(np.exp(finite))) if finite.size else None
    else:
        baseline_rate = float(np.mean(counts[:, :, : settings.months_before]))
        baseline_rate *= PER / settings.population
        # The linear effect is a difference in the rate; as a ratio to the pre-period rate it
        # reads like the ITS ratios.
        mean = float(1.0 + np.nanmean(estimate) / baseline_rate) if baseline_rate else None
    return CellResult(
        effect=effect,
        months_before=settings.months_before,
        months_after=settings.months_after,
        treated_units=treated,
        comparison_units=comparison,
        replicates=settings.replicates,
        rejections=int(np.sum(np.where(failed, False, p < settings.alpha))),
        failed=int(failed.sum()),
        mean_estimate=mean,
    )
