"""One cell of the power grid: simulate every replicate at one effect and length, fit, test.

A cell is a pure function of the settings and its coordinates, seeded from them alone, so the
grid gives the same table whichever backend runs the cells and in whatever order.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimators.its import ITSModel, ITSSpec, default_hac_lags, design_matrix
from evaltk.estimators.its.auto import auto_model
from evaltk.power.batch_glm import BatchFit, fit_ols, fit_poisson
from evaltk.power.batch_gls import gls_level_tests
from evaltk.power.generate import calendar, draw_counts, exposure
from evaltk.power.report import CellResult
from evaltk.power.settings import ITSPowerSettings

# Part of every random-stream key (never renumber): the latent noise and the Poisson draws.
_NOISE, _COUNTS = 1, 2


def its_spec(settings: ITSPowerSettings) -> ITSSpec:
    return ITSSpec(
        family=settings.family,
        seasonality=settings.seasonality,
        harmonics=settings.harmonics,
        slope_change=settings.slope_change,
        hac=settings.hac,
        hac_lags=settings.hac_lags,
        ar1=settings.ar1,
        model=settings.model,
        washout_months=settings.washout_months,
        level=1 - settings.alpha,
    )


def _streams(settings: ITSPowerSettings, months_after: int) -> tuple[np.random.Generator, ...]:
    # Keyed by the months only: every effect of a column shares its latent series.
    key = [settings.seed, settings.months_before, settings.washout_months, months_after]
    return tuple(
        np.random.default_rng(np.random.SeedSequence([*key, purpose]))
        for purpose in (_NOISE, _COUNTS)
    )


def _slow_fits(
    y: np.ndarray, periods: pd.DatetimeIndex, start: pd.Timestamp, spec: ITSSpec, pop: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Negative binomial has no batched fit here: statsmodels, one replicate at a time."""
    estimates, p_values = np.full(len(y), np.nan), np.full(len(y), np.nan)
    for r, counts in enumerate(y):
        frame = pd.DataFrame({"period": periods, "y": counts})
        if not np.all(pop == 1.0):
            frame["exposure"] = pop
        try:
            result = ITSModel(frame, start=start, spec=spec).fit()
        except EstimationError:
            continue
        estimates[r] = np.log(result.effect.estimate)
        p_values[r] = result.effect.p_value
    return estimates, p_values


def simulate_cell(settings: ITSPowerSettings, effect: float, months_after: int) -> CellResult:
    """Simulate, fit and test the replicates of one (effect, months after) cell.

    Returns
    -------
    CellResult
        ``rejections`` counts replicates whose two-sided level-change test has
        ``p < alpha``; ``mean_estimate`` is the mean estimated ratio (difference for gaussian).
    """
    months = calendar(settings, months_after)
    periods = pd.DatetimeIndex(months.astype("datetime64[ns]"))
    start = periods[settings.months_before]
    spec = its_spec(settings)
    rng_noise, rng_counts = _streams(settings, months_after)
    y = draw_counts(settings, months_after, effect, rng_noise, rng_counts)
    pop = exposure(settings, len(months))

    x_all = design_matrix(periods, start, spec)
    if not settings.trend_term:
        x_all = x_all.drop(columns="time")
    column = list(x_all.columns).index("level")
    keep = np.ones(len(months), dtype=bool)
    keep[settings.months_before : settings.months_before + settings.washout_months] = False
    x, y_fit = x_all.to_numpy()[keep], y[:, keep]
    # Calendar months of the fitted rows: the AR(1) correlation spans a washout gap.
    time = x_all["time"].to_numpy()[keep] if "time" in x_all else np.flatnonzero(keep) + 1.0
    offset = np.log(pop[keep]) if settings.exposure == "population" else None
    # Which replicates the analysis would fit by GLS: all (gls), none (glm), or by its rule.
    by_gls = np.array(
        [
            settings.model == "gls"
            or (
                settings.model == "auto"
                and auto_model(row, x.shape[1], settings.family)[0] == "gls"
            )
            for row in y_fit
        ],
        dtype=bool,
    )
    estimates, p = np.full(len(y), np.nan), np.full(len(y), np.nan)
    if (~by_gls).any():
        glm_spec = spec if settings.model == "glm" else _glm_of(spec)
        glm_estimates, glm_p = _glm_tests(settings, glm_spec, y, y_fit, x, time, offset, column)
        if settings.family == "negative_binomial":
            glm_estimates, glm_p = _slow_fits(y, periods, start, glm_spec, pop)
        estimates[~by_gls], p[~by_gls] = glm_estimates[~by_gls], glm_p[~by_gls]
    if by_gls.any():
        gls_estimates, gls_p = gls_level_tests(
            y_fit[by_gls],
            x,
            offset,
            time,
            column,
            log_scale=settings.family != "gaussian",
        )
        estimates[by_gls], p[by_gls] = gls_estimates, gls_p
    failed = ~np.isfinite(p)
    finite = estimates[np.isfinite(estimates)]
    mean = None
    if finite.size:
        mean = float(np.mean(finite if settings.family == "gaussian" else np.exp(finite)))
    return CellResult(
        effect=effect,
        months_before=settings.months_before,
        months_after=months_after,
        replicates=settings.replicates,
        rejections=int(np.sum(np.where(failed, False, p < settings.alpha))),
        failed=int(failed.sum()),
        mean_estimate=mean,
        gls_fits=None if settings.model == "glm" else int(by_gls.sum()),
    )


def _glm_of(spec: ITSSpec) -> ITSSpec:
    """The GLM that ``model: auto`` falls back to (the registered family and errors)."""
    return dataclasses.replace(spec, model="glm")


def _glm_tests(
    settings: ITSPowerSettings,
    spec: ITSSpec,
    y: np.ndarray,
    y_fit: np.ndarray,
    x: np.ndarray,
    time: np.ndarray,
    offset: np.ndarray | None,
    column: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The segmented GLM's level-change estimates and p-values, all replicates at once."""
    if settings.family == "negative_binomial":
        return np.full(len(y), np.nan), np.full(len(y), np.nan)  # fitted one at a time instead
    lags = None
    if spec.hac:
        lags = spec.hac_lags if spec.hac_lags is not None else default_hac_lags(len(time))
    ar1_time = time if spec.ar1 else None
    fit: BatchFit
    if settings.family == "gaussian":
        fit = fit_ols(y_fit, x, hac_lags=lags, ar1_time=ar1_time)
    else:
        fit = fit_poisson(
            y_fit,
            x,
            offset,
            quasi=settings.family == "quasi_poisson",
            hac_lags=lags,
            ar1_time=ar1_time,
        )
    estimates, _, p = fit.wald(column)
    return np.where(fit.converged, estimates, np.nan), p
