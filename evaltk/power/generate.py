"""Draw many monthly count series at once from the project simulator's generative model.

This is the force × month backbone of :func:`evaltk.simulate.backbone.build_backbone` for one
series, vectorised over replicates: for replicate :math:`r` and month :math:`t`,

.. math::

    \\mu_{rt} = B \\, \\frac{P_t}{P_0} \\, (1+g)^{t/12}
        \\bigl(1 + a\\cos(2\\pi (m(t) - m^*)/12)\\bigr) \\, e^{x_{rt} - \\sigma^2/2} \\, G_{rt}
        \\, R^{D_t},  \\qquad y_{rt} \\sim \\text{Poisson}(\\mu_{rt})

with baseline :math:`B`, population :math:`P_t` (when the outcome is a rate), per-capita
trend :math:`g`, seasonal amplitude :math:`a` peaking in month :math:`m^*`, stationary AR(1)
noise :math:`x` with marginal sd :math:`\\sigma` and coefficient :math:`\\rho`, a mean-one
gamma multiplier :math:`G` with coefficient of variation ``overdispersion_cv``, and the true
rate ratio :math:`R` in post months (:math:`D_t = 1` from the start month, inclusive). The
simulator draws episodes and thins them per outcome; a Poisson count thinned binomially is
Poisson, so drawing the outcome count directly has the same distribution.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from evaltk.power.settings import ITSPowerSettings


class SeriesNoise(BaseModel):
    """The simulator's trend, season and noise, as the DiD, staggered and synthetic-control
    power settings take them (their defaults are the simulator's; ITS's settings say more)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trend: float = 0.03
    seasonal_amplitude: float = 0.08
    seasonal_peak_month: int = 7
    ar_rho: float = 0.5
    ar_sd: float = 0.06
    overdispersion_cv: float = 0.04


def calendar(settings: ITSPowerSettings, months_after: int) -> np.ndarray:
    """The months of one cell (``datetime64[M]``): before, washout, then after."""
    n = settings.months_before + settings.washout_months + months_after
    return np.datetime64(settings.first_month.strftime("%Y-%m"), "M") + np.arange(n)


def exposure(settings: ITSPowerSettings, n_months: int) -> np.ndarray:
    """Population by month (grows smoothly), or ones without an exposure."""
    if settings.exposure == "none":
        return np.ones(n_months)
    t = np.arange(n_months)
    return settings.population * (1.0 + settings.population_growth) ** (t / 12.0)


def expected_counts(settings: ITSPowerSettings, months: np.ndarray) -> np.ndarray:
    """The noise-free expected count per month without the scheme (trend, season, growth)."""
    t = np.arange(len(months))
    calendar_month = months.astype(np.int64) % 12 + 1
    season = 1.0 + settings.seasonal_amplitude * np.cos(
        2 * np.pi * (calendar_month - settings.seasonal_peak_month) / 12.0
    )
    growth = exposure(settings, len(months)) / exposure(settings, 1)[0]
    return settings.baseline * growth * (1.0 + settings.trend) ** (t / 12.0) * season


def latent_noise(
    rng: np.random.Generator, replicates: int, n_months: int, settings: ITSPowerSettings
) -> np.ndarray:
    """Mean-one multiplicative noise, shape ``(replicates, n_months)``: AR(1) log-normal × gamma."""
    rho, sd = settings.ar_rho, settings.ar_sd
    shocks = rng.standard_normal((replicates, n_months))
    x = np.empty_like(shocks)
    x[:, 0] = sd * shocks[:, 0]  # the stationary distribution, as the simulator starts
    innovation = sd * np.sqrt(1.0 - rho**2)
    for t in range(1, n_months):
        x[:, t] = rho * x[:, t - 1] + innovation * shocks[:, t]
    cv = settings.overdispersion_cv
    gamma = rng.gamma(1 / cv**2, cv**2, (replicates, n_months)) if cv > 0 else 1.0
    return np.exp(x - sd**2 / 2) * gamma


def draw_counts(
    settings: ITSPowerSettings,
    months_after: int,
    effect: float,
    rng_noise: np.random.Generator,
    rng_counts: np.random.Generator,
) -> np.ndarray:
    """Counts of shape ``(replicates, n_months)`` for one cell of the grid.

    The latent noise comes from ``rng_noise`` and the Poisson draws from ``rng_counts``; the
    caller seeds both by the months only, so that every effect size of a column shares the
    same latent series (common random numbers make the power curve smooth in the effect).
    """
    months = calendar(settings, months_after)
    post = np.arange(len(months)) >= settings.months_before
    mean = expected_counts(settings, months) * np.where(post, effect, 1.0)
    noise = latent_noise(rng_noise, settings.replicates, len(months), settings)
    return rng_counts.poisson(mean[None, :] * noise).astype(float)
