"""Power of a comparative interrupted time series: the treated series against the comparison.

Each replicate draws the treated forces' summed monthly series and the comparison forces'
summed series independently from the simulator's generative model
(:mod:`evaltk.power.generate`), the true rate ratio in the treated series from the start. The
model is the registered :class:`~evaltk.estimators.did.CITSModel`: the joint segmented GLM of
both series (series intercepts, shared trend, level change and seasonality, the treated
series' own trend and level change), batched by :func:`evaltk.power.batch_glm.fit_poisson`
(``model: glm``); or (``model: gls``) the GLS fit of the difference of the two log rates with
Poisson sampling variance from that GLM, white and AR(1) errors, REML, Satterthwaite t
(:func:`evaltk.estimators.its.gls.fit_gls_ar1`, as :mod:`evaltk.estimators.did.cits_gls`
calls it), one replicate at a time. ``tests/power/test_designs.py`` checks replicates against
``CITSModel``.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from evaltk.errors import EstimationError, PowerError
from evaltk.estimators.effect import p_value
from evaltk.estimators.its.gls import fit_gls_ar1
from evaltk.power.batch_glm import fit_ols, fit_poisson
from evaltk.power.generate import calendar, draw_counts, exposure
from evaltk.power.report import CellResult
from evaltk.power.settings import ITSPowerSettings

# Random-stream purposes of the comparison series (the treated series uses 1 and 2).
_COMPARISON_NOISE, _COMPARISON_COUNTS = 3, 4


class CITSPowerSettings(ITSPowerSettings):
    """An ITS grid whose treated series is compared with a comparison series.

    The inherited fields describe the treated series (its baseline, population, noise) and
    the model (``family``, ``seasonality``, ``harmonics``, ``slope_change``, ``model``);
    ``comparison_baseline`` and ``comparison_population`` the comparison series, drawn with
    the same trend, season and noise settings.
    """

    comparison_baseline: float = Field(gt=0)
    comparison_population: float = Field(default=1_000_000.0, gt=0)

    def comparison(self) -> ITSPowerSettings:
        values = self.model_dump(exclude={"comparison_baseline", "comparison_population"})
        values.update(baseline=self.comparison_baseline, population=self.comparison_population)
        return ITSPowerSettings(**values)


def _streams(settings: ITSPowerSettings, months_after: int, purposes: tuple[int, int]) -> tuple:
    key = [settings.seed, settings.months_before, settings.washout_months, months_after]
    return tuple(np.random.default_rng(np.random.SeedSequence([*key, p])) for p in purposes)


def joint_design(settings: CITSPowerSettings, months_after: int) -> tuple[np.ndarray, list[str]]:
    """:meth:`CITSModel.design` for the two series (comparison rows, then treated rows), the
    washout months left out; and its column names."""
    months = calendar(settings, months_after)
    n = len(months)
    t = np.arange(1, n + 1, dtype=float)
    t0 = settings.months_before + 1
    level = (t >= t0).astype(float)
    slope = (t - t0 + 1) * level
    month = months.astype(np.int64) % 12 + 1
    keep = np.ones(n, dtype=bool)
    keep[settings.months_before : settings.months_before + settings.washout_months] = False
    cols: dict[str, np.ndarray] = {}
    for code in (0, 1):
        cols[f"series{code}"] = np.r_[np.full(n, code == 0), np.full(n, code == 1)].astype(float)
    group = np.r_[np.zeros(n), np.ones(n)]
    cols["time"] = np.r_[t, t]
    cols["level"] = np.r_[level, level]
    if settings.slope_change:
        cols["slope"] = np.r_[slope, slope]
    cols["treated_time"] = group * cols["time"]
    cols["treated_level"] = group * cols["level"]
    if settings.slope_change:
        cols["treated_slope"] = group * cols["slope"]
    if settings.seasonality == "fourier":
        for k in range(1, settings.harmonics + 1):
            cols[f"sin{k}"] = np.tile(np.sin(2 * np.pi * k * month / 12), 2)
            cols[f"cos{k}"] = np.tile(np.cos(2 * np.pi * k * month / 12), 2)
    elif settings.seasonality == "month":
        for m in range(2, 13):
            cols[f"month{m}"] = np.r_[month == m, month == m].astype(float)
    x = np.column_stack([np.asarray(v, float) for v in cols.values()])
    rows = np.r_[keep, keep]
    return x[rows], list(cols)


def simulate_cits_cell(settings: CITSPowerSettings, effect: float, months_after: int) -> CellResult:
    """Simulate, fit and test the replicates of one (effect, months after) cell."""
    if settings.hac:
        raise PowerError(
            "cits with hac: the panel Newey-West covariance is not simulated; power the "
            "model-based or gls inference instead"
        )
    comparison = settings.comparison()
    treated_y = draw_counts(
        settings, months_after, effect, *_streams(settings, months_after, (1, 2))
    )
    comparison_y = draw_counts(
        comparison, months_after, 1.0, *_streams(settings, months_after, (3, 4))
    )
    n = treated_y.shape[1]
    keep = np.ones(n, dtype=bool)
    keep[settings.months_before : settings.months_before + settings.washout_months] = False
    pop_t = exposure(settings, n)
    pop_c = exposure(comparison, n)
    x, names = joint_design(settings, months_after)
    column = names.index("treated_level")
    y = np.hstack([comparison_y[:, keep], treated_y[:, keep]])
    rates = settings.exposure == "population"
    offset = np.log(np.r_[pop_c[keep], pop_t[keep]]) if rates else None
    gaussian = settings.family == "gaussian"
    if gaussian:
        # The measure's value: the rate per 100,000 (or the count without an exposure).
        scale = np.r_[pop_c[keep], pop_t[keep]] / 1e5 if rates else np.ones(y.shape[1])
        y = y / scale
        fit = fit_ols(y, x)
    else:
        fit = fit_poisson(y, x, offset, quasi=settings.family == "quasi_poisson")
    estimates, _, p = fit.wald(column)
    if settings.model == "gls":
        estimates, p = _gls_tests(settings, y, x, fit.params, offset, keep, gaussian)
    failed = ~np.isfinite(p)
    finite = estimates[np.isfinite(estimates)]
    mean = None
    if finite.size:
        mean = float(np.mean(finite if gaussian else np.exp(finite)))
    return CellResult(
        effect=effect,
        months_before=settings.months_before,
        months_after=months_after,
        replicates=settings.replicates,
        rejections=int(np.sum(np.where(failed, False, p < settings.alpha))),
        failed=int(failed.sum()),
        mean_estimate=mean,
        gls_fits=int((~failed).sum()) if settings.model == "gls" else None,
    )


def _gls_tests(
    settings: CITSPowerSettings,
    y: np.ndarray,
    x: np.ndarray,
    params: np.ndarray,
    offset: np.ndarray | None,
    keep: np.ndarray,
    gaussian: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The difference series by GLS with AR(1) errors, one replicate at a time."""
    half = y.shape[1] // 2
    time = np.flatnonzero(keep) + 1.0
    level = (time >= settings.months_before + 1).astype(float)
    own = [np.ones(half), time, level]
    if settings.slope_change:
        own.append((time - settings.months_before) * level)
    x_diff = np.column_stack(own)
    off = np.zeros(2 * half) if offset is None else offset
    mu = np.exp(params @ x.T + off)
    contrast = np.zeros(x_diff.shape[1])
    contrast[2] = 1.0
    estimates, p = np.full(len(y), np.nan), np.full(len(y), np.nan)
    for r in range(len(y)):
        y_c, y_t = y[r, :half], y[r, half:]
        if gaussian:
            z, known = y_t - y_c, np.zeros(half)
        else:
            if not (np.all(y_c > 0) and np.all(y_t > 0)):
                continue  # as the analysis: a month with no count has no log rate
            z = np.log(y_t) - off[half:] - (np.log(y_c) - off[:half])
            known = 1.0 / mu[r, half:] + 1.0 / mu[r, :half]
        try:
            fit = fit_gls_ar1(z, x_diff, time, known)
        except EstimationError:
            continue
        estimates[r] = fit.params[2]
        p[r] = p_value(
            float(fit.params[2]), float(np.sqrt(fit.cov[2, 2])), fit.contrast_df(contrast)
        )
    return estimates, p
