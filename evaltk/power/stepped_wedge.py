"""Power of a stepped-wedge cluster-randomised trial: the closed form and the simulation.

Clusters (basic command units, local authorities or forces) start the scheme in a randomised
order, a group at each step. Each cluster-period (month) has an expected count of events
:math:`m_{ij} = m_i e^{g j}` with a secular trend :math:`g` per period; the count is

.. math::

    y_{ij} \\sim \\text{Poisson}\\bigl(m_{ij} \\exp(a_i + c_{ij} + \\log(R) X_{ij})\\bigr), \\qquad
    a_i \\sim N(0, \\tau^2),\\; c_{ij} \\sim N(0, \\gamma^2)

with the true rate ratio :math:`R` in treated cluster-periods. :math:`\\tau^2` and
:math:`\\gamma^2` come from the ICC and the cluster autocorrelation
(:func:`evaltk.power.sw_closed.components`), or from a force's own history
(:func:`evaltk.power.sw_history.estimate_components`).

Each replicate is tested as the trial will be analysed: randomisation inference over the
schedules the registered scheme could draw (the same reference set the analysis re-draws from
the protocol's seed), with the registered model's statistic, the GLS log rate ratio of the
log-rate model or the one-step Poisson statistic (:mod:`evaltk.power.sw_randomisation`, every
replicate and schedule at once). That is the power reported. Beside it, the log-rate Gaussian
mixed model's Wald z test: the log rate of each cluster-period, ``log((y + 0.5) / m_i)``, on
period fixed effects and the treatment, with a cluster random intercept, REML
(:mod:`evaltk.power.sw_fit`); with few clusters it over-rejects. The closed form
(:mod:`evaltk.power.sw_closed`) is the GLS variance of the same model with the residual variance
of each cluster-period, :math:`\\gamma^2 + 1/m_{ij}`; with ``family="gaussian"`` the simulation
draws the log rates from exactly that model, so that the two must agree within Monte Carlo
error (``tests/power/test_stepped_wedge.py``).

:func:`sw_power_analysis` returns, for every number of clusters and steps of the grid, the
power by the three routes at each effect, and the minimum detectable effect by the closed form
and by the randomisation test's simulated curve.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evaltk.errors import PowerError
from evaltk.estimators.stepped_wedge.scheme import Scheme, reference_schedules
from evaltk.power.sw_closed import (
    components,
    detectable,
    gls_variance,
    log_rate_variance,
    schedule,
    z_power,
)
from evaltk.power.sw_fit import fit_stepped_wedge
from evaltk.power.sw_randomisation import log_rate_ri, poisson_ri
from evaltk.power.sw_report import SWCell, SWDetectable, SWPowerReport

#: Added to every count before its log (a month with no events keeps a finite log rate).
HALF = 0.5


class SteppedWedgePowerSettings(BaseModel):
    """Frozen settings of a stepped-wedge power grid: effects × (clusters, steps).

    ``cluster_counts`` gives each cluster's expected events per period at the start (one value
    per cluster, in any order; only with a single number of clusters); otherwise every cluster
    expects ``mean_count``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    clusters: tuple[int, ...] = Field(description="Numbers of clusters to compare.")
    steps: tuple[int, ...] = Field(description="Numbers of steps to compare.")
    periods_per_step: int = Field(default=1, ge=1)
    baseline_periods: int = Field(default=1, ge=1, description="Periods before the first step.")
    after_periods: int = Field(
        default=0, ge=0, description="Periods after the last step's own, every cluster treated."
    )
    mean_count: float = Field(gt=0, description="Expected events per cluster-period.")
    cluster_counts: tuple[float, ...] | None = None
    icc: float = Field(ge=0, lt=1, description="Between-cluster share of a log rate's variance.")
    cac: float = Field(default=1.0, ge=0, le=1, description="Cluster autocorrelation.")
    trend: float = Field(default=0.0, gt=-0.5, lt=0.5, description="Log-rate change a period.")
    effects: tuple[float, ...] = Field(description="True rate ratios (0.9 = 10 % fewer).")
    schedule: tuple[int, ...] | None = Field(
        default=None,
        description="Each cluster's step (1-based), in the order of cluster_counts: the "
        "trial's drawn schedule; otherwise clusters start in row order, as evenly as possible.",
    )
    test_model: Literal["log_rate", "poisson"] = Field(
        default="log_rate",
        description="The registered model whose statistic the randomisation test uses.",
    )
    permutations: int = Field(
        default=999, ge=99, description="Reference schedules (as registered)."
    )
    together: tuple[tuple[int, ...], ...] = Field(
        default=(), description="Clusters (row indices) that must start together."
    )
    balance: tuple[tuple[float, ...], ...] | None = Field(
        default=None, description="Per cluster, the variables restricted randomisation balances."
    )
    max_imbalance: float | None = None
    candidates: int = Field(default=10_000, ge=1)
    family: Literal["poisson", "gaussian"] = Field(
        default="poisson",
        description="poisson: counts, analysed as log rates; gaussian: log rates drawn from "
        "the closed form's own model (to check the simulation against it).",
    )
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    target_power: float = Field(default=0.8, gt=0, lt=1)
    replicates: int = Field(default=500, ge=10)
    seed: int = Field(default=20181001, ge=0)
    source: str = Field(default="given", description="Where ICC, CAC and counts came from.")

    @field_validator("effects")
    @classmethod
    def _effects(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(not (0 < e < 10) for e in value):
            raise PowerError("effects are rate ratios between 0 and 10, e.g. 0.9 for 10 % fewer")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _grid(self) -> SteppedWedgePowerSettings:
        for clusters in self.clusters:
            for steps in self.steps:
                if steps < 1 or clusters < steps:
                    raise PowerError(
                        f"{clusters} clusters over {steps} steps: each step needs a cluster"
                    )
        if self.cluster_counts is not None:
            if len(self.clusters) != 1 or len(self.cluster_counts) != self.clusters[0]:
                raise PowerError(
                    "cluster_counts needs one expected count per cluster and a single number "
                    "of clusters"
                )
            if any(c <= 0 for c in self.cluster_counts):
                raise PowerError("every cluster's expected count must be above 0")
        if self.schedule is not None and (
            len(self.clusters) != 1
            or len(self.steps) != 1
            or len(self.schedule) != self.clusters[0]
            or not all(1 <= k <= self.steps[0] for k in self.schedule)
        ):
            raise PowerError(
                "schedule needs one step (1 to steps) per cluster and a single "
                "number of clusters and of steps"
            )
        if (self.together or self.balance is not None) and len(self.layouts) != 1:
            raise PowerError("together and balance need a single number of clusters and steps")
        if self.family == "gaussian" and self.test_model == "poisson":
            raise PowerError("family gaussian draws log rates: the poisson test needs counts")
        return self

    @property
    def layouts(self) -> list[tuple[int, int]]:
        return [(c, s) for c in self.clusters for s in self.steps]

    @property
    def cells(self) -> list[tuple[float, tuple[int, int]]]:
        return [(e, layout) for layout in self.layouts for e in self.effects]


def _schedule(settings: SteppedWedgePowerSettings, clusters: int, steps: int) -> np.ndarray:
    if settings.schedule is not None:
        return treatment_of(settings, np.asarray(settings.schedule)[None], steps)[0]
    return schedule(
        clusters,
        steps,
        periods_per_step=settings.periods_per_step,
        baseline=settings.baseline_periods,
        after=settings.after_periods,
    )


def expected_counts(settings: SteppedWedgePowerSettings, x: np.ndarray) -> np.ndarray:
    """Expected events per cluster-period without the scheme, clusters × periods."""
    n_clusters, n_periods = x.shape
    if settings.cluster_counts is not None:
        size = np.asarray(settings.cluster_counts, float)
    else:
        size = np.full(n_clusters, settings.mean_count)
    return size[:, None] * np.exp(settings.trend * np.arange(n_periods))[None, :]


def closed_form_variance(
    settings: SteppedWedgePowerSettings, clusters: int, steps: int, effect: float
) -> float:
    """Var of the log rate ratio's estimate by the closed form (GLS with known components).

    The counts under the alternative (treated cells times ``effect``) set the Poisson part.
    With equal counts and no trend this is Hussey & Hughes' formula exactly.
    """
    x = _schedule(settings, clusters, steps)
    parts = components(settings.icc, settings.cac, settings.mean_count)
    expected = expected_counts(settings, x) * np.where(x > 0, effect, 1.0)
    if settings.family == "gaussian":
        expected = expected_counts(settings, x)
    return gls_variance(x, log_rate_variance(expected, parts.gamma2), parts.tau2)


def draw_log_rates(
    settings: SteppedWedgePowerSettings, clusters: int, steps: int, effect: float
) -> tuple[np.ndarray, np.ndarray]:
    """Simulated log rates ``(replicates, clusters, periods)`` and the schedule
    (:func:`draw_replicates` without the counts)."""
    z, _, x = draw_replicates(settings, clusters, steps, effect)
    return z, x


def draw_replicates(
    settings: SteppedWedgePowerSettings, clusters: int, steps: int, effect: float
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Simulated log rates and counts ``(replicates, clusters, periods)`` (no counts with
    ``family="gaussian"``) and the schedule.

    Seeded by the layout only, so that every effect of a layout shares its random effects and
    noise (common random numbers: the power curve is smooth in the effect).
    """
    x = _schedule(settings, clusters, steps)
    key = [settings.seed, 41, clusters, steps, settings.periods_per_step]
    rng = np.random.default_rng(np.random.SeedSequence(key))
    parts = components(settings.icc, settings.cac, settings.mean_count)
    shape = (settings.replicates, *x.shape)
    cluster = np.sqrt(parts.tau2) * rng.standard_normal((settings.replicates, clusters, 1))
    cell = np.sqrt(parts.gamma2) * rng.standard_normal(shape)
    expected = expected_counts(settings, x)
    log_ratio = np.log(effect) * x
    size = expected[:, :1]
    if settings.family == "gaussian":
        noise = rng.standard_normal(shape) / np.sqrt(expected)
        return np.log(expected / size) + cluster + cell + log_ratio + noise, None, x
    mean = expected * np.exp(cluster + cell + log_ratio)
    counts = rng.poisson(mean).astype(float)
    return np.log((counts + HALF) / size), counts, x


def treatment_of(
    settings: SteppedWedgePowerSettings, schedules: np.ndarray, n_steps: int
) -> np.ndarray:
    """Treatment indicators ``(S, clusters, periods)`` of ``schedules`` (S, clusters), each
    cluster's step: step ``k`` starts ``(k - 1) * periods_per_step`` periods after the
    baseline, as :func:`evaltk.power.sw_closed.schedule` lays the periods out."""
    periods = settings.baseline_periods + n_steps * settings.periods_per_step
    periods += settings.after_periods
    starts = settings.baseline_periods + (np.asarray(schedules) - 1) * settings.periods_per_step
    return (np.arange(periods)[None, None, :] >= starts[..., None]).astype(float)


def reference_treatments(
    settings: SteppedWedgePowerSettings, clusters: int, steps: int
) -> tuple[np.ndarray, bool]:
    """The treatment indicators of the schedules the registered randomisation test compares
    with (:func:`evaltk.estimators.stepped_wedge.reference_schedules` of the scheme, with the
    protocol's seed, as the analysis draws them), and whether they are all of the scheme's."""
    balance = None if settings.balance is None else np.asarray(settings.balance, float)
    scheme = Scheme(
        steps, clusters, settings.together, balance, settings.max_imbalance, settings.candidates
    )
    reference = reference_schedules(scheme, settings.seed, settings.permutations)
    if len(reference.schedules) == 0:
        raise PowerError("no schedule meets the balance criterion of design.trial.restricted")
    return treatment_of(settings, reference.schedules, steps), reference.enumerated


def _mc_se(power: float, replicates: int) -> float:
    return round(float(np.sqrt(power * (1 - power) / replicates)), 6)


def simulate_sw_cell(
    settings: SteppedWedgePowerSettings, effect: float, layout: tuple[int, int]
) -> SWCell:
    """Simulate the replicates of one (effect, clusters, steps) cell and test each by the
    registered randomisation test and by the Wald z test."""
    clusters, steps = layout
    z, counts, x = draw_replicates(settings, clusters, steps, effect)
    d_ref, enumerated = reference_treatments(settings, clusters, steps)
    if settings.test_model == "poisson":
        assert counts is not None  # the validator rules out family gaussian with poisson
        test = poisson_ri(counts, x, d_ref, enumerated)
    else:
        test = log_rate_ri(z, x, d_ref, enumerated)
    rejections = int(np.sum(test.p_value <= settings.alpha + 1e-12))
    fits = fit_stepped_wedge(z, x)
    z_power_sim = float(np.mean(fits.p_value < settings.alpha))
    power = rejections / settings.replicates
    variance = closed_form_variance(settings, clusters, steps, effect)
    return SWCell(
        effect=effect,
        clusters=clusters,
        steps=steps,
        periods=x.shape[1],
        replicates=settings.replicates,
        rejections=rejections,
        power=round(power, 6),
        mc_se=_mc_se(power, settings.replicates),
        z_test_power=round(z_power_sim, 6),
        z_test_mc_se=_mc_se(z_power_sim, settings.replicates),
        closed_form=round(float(z_power(np.log(effect), variance, settings.alpha)), 6),
        mean_estimate=round(float(np.exp(np.mean(fits.estimate))), 6),
    )


def crossing(cells: list[SWCell], target: float, below: bool) -> float | None:
    """The rate ratio at which the randomisation test's simulated power reaches ``target``,
    going away from 1 (down when ``below``): interpolated on the log ratio between the last
    effect under the target and the first at or above it."""
    side = sorted(
        (c for c in cells if (c.effect < 1) == below and c.effect != 1),
        key=lambda c: abs(np.log(c.effect)),
    )
    previous = (0.0, _null_power(cells))
    for cell in side:
        size = abs(float(np.log(cell.effect)))
        if cell.power >= target:
            (s0, p0), (s1, p1) = previous, (size, cell.power)
            found = s1 if p1 == p0 else s0 + (target - p0) * (s1 - s0) / (p1 - p0)
            return round(float(np.exp(-found if below else found)), 4)
        previous = (size, cell.power)
    return None


def _null_power(cells: list[SWCell]) -> float:
    """The power at no change: the no-change cell's, else 0 (a crossing below the smallest
    effect of the grid is then interpolated from no power at all)."""
    null = [c.power for c in cells if c.effect == 1]
    return null[0] if null else 0.0


def detectable_effects(
    settings: SteppedWedgePowerSettings, cells: list[SWCell] | None = None
) -> list[SWDetectable]:
    """The minimum detectable rate ratios of every (clusters, steps) layout of the grid.

    The Poisson part of the variance depends on the effect; it is solved for by a few fixed
    point steps from the no-change variance (it moves the ratio in the fourth digit).
    """
    out = []
    for clusters, steps in settings.layouts:
        periods = _schedule(settings, clusters, steps).shape[1]
        found = {}
        for sign in (-1.0, 1.0):
            size = 0.0
            for _ in range(6):
                variance = closed_form_variance(settings, clusters, steps, float(np.exp(size)))
                size = sign * detectable(variance, settings.alpha, settings.target_power)
            found[sign] = round(float(np.exp(size)), 4)
        mine = [c for c in cells or [] if (c.clusters, c.steps) == (clusters, steps)]
        out.append(
            SWDetectable(
                clusters=clusters,
                steps=steps,
                periods=periods,
                target=settings.target_power,
                reduction=found[-1.0],
                increase=found[1.0],
                registered_reduction=crossing(mine, settings.target_power, True),
                registered_increase=crossing(mine, settings.target_power, False),
            )
        )
    return out


ESTIMATOR = (
    "randomisation test over the registered scheme's schedules ({permutations}), statistic the "
    "{statistic} (as the analysis computes it), two-sided at alpha = {alpha:g}; beside it the "
    "Wald z test of the log-rate Gaussian mixed model (period fixed effects, treatment, cluster "
    "random intercept, REML) and the closed form"
)

STATISTICS = {
    "log_rate": "GLS log rate ratio with the variance components of the REML fit without treatment",
    "poisson": "one-step Poisson (score) log rate ratio of the fit with cluster and period "
    "effects and no treatment",
}


def sw_power_analysis(settings: SteppedWedgePowerSettings, *, workers: int = 1) -> SWPowerReport:
    """Power over the grid of ``settings`` by simulation (the randomisation test and the z
    test) and by the closed form.

    Cells are pure functions of the settings and their coordinates, so the report is the same
    on one worker or many (joblib).
    """
    if workers == 1:
        cells = [simulate_sw_cell(settings, e, layout) for e, layout in settings.cells]
    else:
        from joblib import Parallel, delayed

        cells = Parallel(n_jobs=workers, backend="loky")(
            delayed(simulate_sw_cell)(settings, e, layout) for e, layout in settings.cells
        )
    parts = components(settings.icc, settings.cac, settings.mean_count)
    scheme = "simple randomisation"
    if settings.together:
        scheme += ", clusters starting together"
    if settings.balance is not None:
        scheme = f"restricted randomisation (imbalance at most {settings.max_imbalance:g})" + (
            ", clusters starting together" if settings.together else ""
        )
    return SWPowerReport(
        estimator=ESTIMATOR.format(
            permutations=f"{settings.permutations} re-drawn, or all when fewer",
            statistic=STATISTICS[settings.test_model],
            alpha=settings.alpha,
        ),
        settings=settings.model_dump(mode="json"),
        cells=cells,
        detectable=detectable_effects(settings, cells),
        notes=[
            f"Primary: power of the registered test, randomisation inference over the "
            f"schedules the scheme ({scheme}) could draw, with the {settings.test_model} "
            "model's statistic, exactly as the analysis computes it for each simulated trial "
            "(evaltk.power.sw_randomisation); the observed schedule is "
            + (
                "the settings' schedule (the source says whether the trial's own draw)."
                if settings.schedule is not None
                else "clusters starting in row order, as evenly over the steps as possible."
            ),
            f"Variance components on the log-rate scale: between clusters tau^2 = "
            f"{parts.tau2:.4g}, cluster-period gamma^2 = {parts.gamma2:.4g} (ICC "
            f"{settings.icc:g} at {settings.mean_count:g} events per cluster-period, CAC "
            f"{settings.cac:g}); source: {settings.source}.",
            "Closed form: GLS variance of the log-rate model with these components known "
            "(Hussey & Hughes 2007 when every cluster-period has the same count), Wald z test; "
            "z test: the same model fitted by REML in every replicate. Neither is the "
            "registered inference: the z test does not allow for estimating the variance "
            "components and with few clusters its size can exceed alpha (see the no-change "
            "cells).",
            "Monte Carlo SE = sqrt(p (1 - p) / replicates). Minimum detectable effects: by the "
            "closed form, and (registered_*) where the randomisation test's simulated power "
            "reaches the target between two effects of the grid.",
        ],
    )


def settings_from_history(history: Any, **values: Any) -> SteppedWedgePowerSettings:
    """Settings whose ICC, CAC, trend and counts come from a force's history
    (:func:`evaltk.power.sw_history.estimate_components`) unless ``values`` give them."""
    defaults = {
        "mean_count": history.mean_count,
        "icc": history.icc,
        "cac": history.cac,
        "trend": history.trend,
        "source": history.describe(),
    }
    return SteppedWedgePowerSettings(**{**defaults, **values})
