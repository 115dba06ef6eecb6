r"""Power of a synthetic control: one treated force (or region) against its donor pool.

Each replicate draws every force's monthly count from the simulator's generative model
(:mod:`evaltk.power.generate`: trend, season, AR(1) and gamma noise, independently per
force) around that force's own real-world volume and population (the simulator's, for the
protocol's forces), multiplies the treated unit's expected count by the true rate ratio from
the start month (inclusive), and turns counts into the measure's value (the rate per 100,000
for a rate outcome, as the analysis fits it). The test is the analysis's: the outcome-only
synthetic control of :func:`evaltk.estimators.synthetic.adh.fit_sc` (weights on the simplex
fitted to the months before the start, by the same
:func:`~evaltk.estimators.synthetic.adh.simplex_least_squares`) and the placebo in space of
:func:`evaltk.estimators.synthetic.inference.placebo_in_space`: every donor refitted as if
treated, the real treated unit among its donors, and the treated unit's post/pre RMSPE ratio
ranked among all units'. The p-value is rank / units, so it can never be below
``1 / (donors + 1)``; with ``donors + 1 <= 1 / alpha`` nothing can be detected at all.
``tests/power/test_synthetic.py`` checks replicates' estimates and p-values against
``placebo_in_space`` exactly.

The treated unit's months after the start are drawn from their own random stream, so every
effect of a column shares the same months before the start, and so the same donor weights
(common random numbers: the power curve is smooth in the effect).

Not simulated: predictor-weighted fits (each replicate would need the nested search of
predictor weights for every unit, hours for a grid; refused) and synthetic DiD.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from pydantic import ConfigDict, Field, model_validator

from evaltk.errors import PowerError
from evaltk.estimators.synthetic.adh import simplex_least_squares
from evaltk.estimators.synthetic.inference import ratio, rmspe
from evaltk.power.generate import SeriesNoise, expected_counts, latent_noise
from evaltk.power.report import CellResult
from evaltk.power.settings import ITSPowerSettings

PER = 100_000.0
# Part of every random-stream key (never renumber).
_NOISE, _COUNTS, _TREATED_AFTER = 1, 2, 3


class SyntheticPowerSettings(SeriesNoise):
    """Frozen settings of a synthetic-control power grid: effects × months after the start."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: str
    outcome_label: str = ""
    first_month: dt.date
    months_before: int = Field(ge=2)
    months_after: tuple[int, ...] = Field(description="Post-period lengths to compare.")
    registered_months_after: int = Field(ge=1)
    effects: tuple[float, ...] = Field(description="True rate ratios in the treated unit.")
    treated: str = Field(description="The treated unit (forces joined by +).")
    donors: tuple[str, ...]
    baseline: float = Field(gt=0, description="Treated unit's expected events a month.")
    population: float = Field(gt=0, description="Treated unit's population.")
    donor_baselines: tuple[float, ...]
    donor_populations: tuple[float, ...]
    baseline_source: str = ""
    rates: bool = Field(
        default=True, description="Fit the rate per 100,000 (a rate outcome); else the count."
    )
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    target_power: float = Field(default=0.8, gt=0, lt=1)
    replicates: int = Field(default=200, ge=10)
    seed: int = Field(default=20160401, ge=0)

    @model_validator(mode="after")
    def _pool(self) -> SyntheticPowerSettings:
        n = len(self.donors)
        if n < 2:
            raise PowerError("a synthetic control's placebo test needs at least two donors")
        if len(self.donor_baselines) != n or len(self.donor_populations) != n:
            raise PowerError("give one baseline and one population per donor")
        if min(self.donor_baselines) <= 0 or min(self.donor_populations) <= 0:
            raise PowerError("every donor needs a baseline and a population above zero")
        return self

    @property
    def cells(self) -> list[tuple[float, int]]:
        return [(e, m) for m in self.months_after for e in sorted(set(self.effects))]

    @property
    def n_units(self) -> int:
        return len(self.donors) + 1

    @property
    def smallest_p(self) -> float:
        """The smallest p-value the placebo rank test can give: 1 / (donors + 1)."""
        return 1.0 / self.n_units

    def _series(self, baseline: float, months_after: int) -> ITSPowerSettings:
        # Every force's series shares the ITS generator's shape; only its volume differs.
        return ITSPowerSettings(
            outcome=self.outcome,
            first_month=self.first_month,
            months_before=max(self.months_before, 3),
            months_after=(max(months_after, 3),),
            registered_months_after=max(months_after, 3),
            effects=(1.0,),
            baseline=baseline,
            exposure="none",
            trend=self.trend,
            seasonal_amplitude=self.seasonal_amplitude,
            seasonal_peak_month=self.seasonal_peak_month,
            ar_rho=self.ar_rho,
            ar_sd=self.ar_sd,
            overdispersion_cv=self.overdispersion_cv,
            replicates=self.replicates,
        )


def draw_units(settings: SyntheticPowerSettings, months_after: int, effect: float) -> np.ndarray:
    """The fitted values (rate per 100,000, or count), ``(R, donors + 1, months)``: donors
    first, the treated unit last (the row order of
    :class:`~evaltk.estimators.synthetic.data.SyntheticData`)."""
    n_months = settings.months_before + months_after
    key = [settings.seed, 41, settings.months_before, months_after]
    rng_noise, rng_counts, rng_after = (
        np.random.default_rng(np.random.SeedSequence([*key, purpose]))
        for purpose in (_NOISE, _COUNTS, _TREATED_AFTER)
    )
    months = np.datetime64(settings.first_month.strftime("%Y-%m"), "M") + np.arange(n_months)
    baselines = (*settings.donor_baselines, settings.baseline)
    populations = np.array([*settings.donor_populations, settings.population])
    expected = np.stack(
        [expected_counts(settings._series(b, months_after), months) for b in baselines]
    )
    series = settings._series(settings.baseline, months_after)
    noise = np.stack(
        [latent_noise(rng_noise, settings.replicates, n_months, series) for _ in baselines],
        axis=1,
    )
    mean = expected[None] * noise
    counts = rng_counts.poisson(mean).astype(float)
    before = settings.months_before
    counts[:, -1, before:] = rng_after.poisson(mean[:, -1, before:] * effect)
    if settings.rates:
        return counts / populations[None, :, None] * PER
    return counts


def placebo_tests(y: np.ndarray, n_pre: int) -> tuple[np.ndarray, np.ndarray]:
    """Each replicate's synthetic-control estimate (treated minus synthetic, mean over the
    months from the start) and placebo-in-space p-value.

    For ``y`` of shape ``(R, units, months)`` (donors, then the treated unit), exactly what
    ``placebo_in_space(data, fit_sc, fit_sc(data))`` gives on each replicate: the treated
    unit fitted on the donors, each donor ``j`` on the other donors then the treated unit
    (the column order of ``SyntheticData.as_treated``), every fit on the months before the
    start alone.
    """
    n_reps, n_units, _ = y.shape
    n0 = n_units - 1
    estimates, p = np.empty(n_reps), np.empty(n_reps)
    for r in range(n_reps):
        ratios = np.empty(n_units)
        for unit in (n0, *range(n0)):
            pool = [i for i in range(n0) if i != unit] + ([n0] if unit != n0 else [])
            w = simplex_least_squares(y[r, pool, :n_pre].T, y[r, unit, :n_pre])
            gaps = y[r, unit] - w @ y[r, pool]
            if unit == n0:
                estimates[r] = float(gaps[n_pre:].mean())
                ratios[0] = ratio(*rmspe(gaps, n_pre))
            else:
                ratios[1 + unit] = ratio(*rmspe(gaps, n_pre))
        p[r] = (1 + int(np.sum(ratios[1:] >= ratios[0]))) / n_units
    return estimates, p


def simulate_synthetic_cell(
    settings: SyntheticPowerSettings, effect: float, months_after: int
) -> CellResult:
    """Power of the placebo rank test at one effect and post-period length."""
    y = draw_units(settings, months_after, effect)
    estimates, p = placebo_tests(y, settings.months_before)
    pre = float(np.mean(y[:, -1, : settings.months_before]))
    return CellResult(
        effect=effect,
        months_before=settings.months_before,
        months_after=months_after,
        replicates=settings.replicates,
        # As the verdict reads it: significant when p < alpha.
        rejections=int(np.sum(p < settings.alpha)),
        failed=0,
        # The estimate is a difference in the measure; as a ratio to the treated unit's
        # pre-period mean it reads like the rate ratios of the grid.
        mean_estimate=float(1.0 + np.mean(estimates) / pre) if pre else None,
    )
