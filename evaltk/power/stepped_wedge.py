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

The analysis model is the log-rate Gaussian mixed model: the log rate of each cluster-period,
``log((y + 0.5) / m_i)``, on period fixed effects and the treatment, with a cluster random
intercept, REML, Wald z test (:mod:`evaltk.power.sw_fit`). The closed form
(:mod:`evaltk.power.sw_closed`) is the GLS variance of the same model with the residual variance
of each cluster-period, :math:`\\gamma^2 + 1/m_{ij}`; with ``family="gaussian"`` the simulation
draws the log rates from exactly that model, so that the two must agree within Monte Carlo
error (``tests/power/test_stepped_wedge.py``).

:func:`sw_power_analysis` returns, for every number of clusters and steps of the grid, the
power by both routes at each effect, and the minimum detectable effect by the closed form.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evaltk.errors import PowerError
from evaltk.power.sw_closed import (
    components,
    detectable,
    gls_variance,
    log_rate_variance,
    schedule,
    z_power,
)
from evaltk.power.sw_fit import fit_stepped_wedge

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
    mean_count: float = Field(gt=0, description="Expected events per cluster-period.")
    cluster_counts: tuple[float, ...] | None = None
    icc: float = Field(ge=0, lt=1, description="Between-cluster share of a log rate's variance.")
    cac: float = Field(default=1.0, ge=0, le=1, description="Cluster autocorrelation.")
    trend: float = Field(default=0.0, gt=-0.5, lt=0.5, description="Log-rate change a period.")
    effects: tuple[float, ...] = Field(description="True rate ratios (0.9 = 10 % fewer).")
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
        return self

    @property
    def layouts(self) -> list[tuple[int, int]]:
        return [(c, s) for c in self.clusters for s in self.steps]

    @property
    def cells(self) -> list[tuple[float, tuple[int, int]]]:
        return [(e, layout) for layout in self.layouts for e in self.effects]


def _schedule(settings: SteppedWedgePowerSettings, clusters: int, steps: int) -> np.ndarray:
    return schedule(
        clusters,
        steps,
        periods_per_step=settings.periods_per_step,
        baseline=settings.baseline_periods,
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
    """Simulated log rates ``(replicates, clusters, periods)`` and the schedule.

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
        return np.log(expected / size) + cluster + cell + log_ratio + noise, x
    mean = expected * np.exp(cluster + cell + log_ratio)
    counts = rng.poisson(mean)
    return np.log((counts + HALF) / size), x


class SWCell(BaseModel):
    """Power at one effect, number of clusters and steps: simulated and closed form."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    effect: float
    clusters: int
    steps: int
    periods: int
    replicates: int
    rejections: int
    power: float
    mc_se: float
    closed_form: float = Field(description="Power by the closed form (known components).")
    mean_estimate: float = Field(description="Mean estimated rate ratio, exp(mean log).")


def simulate_sw_cell(
    settings: SteppedWedgePowerSettings, effect: float, layout: tuple[int, int]
) -> SWCell:
    """Simulate, fit and test the replicates of one (effect, clusters, steps) cell."""
    clusters, steps = layout
    z, x = draw_log_rates(settings, clusters, steps, effect)
    fits = fit_stepped_wedge(z, x)
    rejections = int(np.sum(fits.p_value < settings.alpha))
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
        mc_se=round(float(np.sqrt(power * (1 - power) / settings.replicates)), 6),
        closed_form=round(float(z_power(np.log(effect), variance, settings.alpha)), 6),
        mean_estimate=round(float(np.exp(np.mean(fits.estimate))), 6),
    )


class SWDetectable(BaseModel):
    """The smallest rate ratio detected with the target power (closed form), both ways."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    clusters: int
    steps: int
    periods: int
    target: float
    reduction: float = Field(description="Rate ratio below 1 (a fall) detected at the target.")
    increase: float = Field(description="Rate ratio above 1 (a rise) detected at the target.")


def detectable_effects(settings: SteppedWedgePowerSettings) -> list[SWDetectable]:
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
        out.append(
            SWDetectable(
                clusters=clusters,
                steps=steps,
                periods=periods,
                target=settings.target_power,
                reduction=found[-1.0],
                increase=found[1.0],
            )
        )
    return out


class SWPowerReport(BaseModel):
    """A stepped-wedge power analysis: the grid by both routes and the detectable effects."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    design: Literal["stepped_wedge"] = "stepped_wedge"
    estimator: str
    settings: dict[str, Any]
    cells: list[SWCell]
    detectable: list[SWDetectable]
    notes: list[str]

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"

    def curve(self) -> pd.DataFrame:
        """One row per cell: effect, clusters, steps, simulated power ± MC SE, closed form."""
        return pd.DataFrame([c.model_dump() for c in self.cells])

    def detectable_table(self) -> pd.DataFrame:
        """Minimum detectable reduction (rate ratio) by clusters (rows) and steps (columns)."""
        frame = pd.DataFrame([d.model_dump() for d in self.detectable])
        return frame.pivot(index="clusters", columns="steps", values="reduction")


ESTIMATOR = (
    "log-rate Gaussian mixed model of cluster-period rates: period fixed effects, treatment, "
    "cluster random intercept, REML; two-sided Wald z test of the treatment at alpha = {alpha:g}"
)


def sw_power_analysis(settings: SteppedWedgePowerSettings, *, workers: int = 1) -> SWPowerReport:
    """Power over the grid of ``settings`` by simulation and by the closed form.

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
    return SWPowerReport(
        estimator=ESTIMATOR.format(alpha=settings.alpha),
        settings=settings.model_dump(mode="json"),
        cells=cells,
        detectable=detectable_effects(settings),
        notes=[
            f"Variance components on the log-rate scale: between clusters tau^2 = "
            f"{parts.tau2:.4g}, cluster-period gamma^2 = {parts.gamma2:.4g} (ICC "
            f"{settings.icc:g} at {settings.mean_count:g} events per cluster-period, CAC "
            f"{settings.cac:g}); source: {settings.source}.",
            "Closed form: GLS variance of the same model with these components known "
            "(Hussey & Hughes 2007 when every cluster-period has the same count); the "
            "simulation estimates them by REML in every replicate.",
            "Monte Carlo SE = sqrt(p (1 - p) / replicates).",
            "The z test does not allow for estimating the variance components; with few "
            "clusters its size can exceed alpha (see the no-change cells).",
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
