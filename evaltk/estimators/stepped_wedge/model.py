r"""The stepped-wedge models and their randomisation test, on a complete cluster x period grid.

Data are ``Y`` (events), ``E`` (exposure: person-months, denominator episodes, or months for a
count) as ``(C, T)`` arrays over clusters and design periods, and each cluster's step. Cluster
``c`` has the scheme in period ``t`` when ``period[t] >= step[c]`` (:func:`treatment`).

* :func:`fit_log_rate` — Hussey & Hughes' linear mixed model of the log rate
  :math:`\log(Y/E)_{ct} = \mu + \beta_t + \theta D_{ct} + a_c + e_{ct}` with
  :math:`a_c \sim N(0, \tau^2)`, :math:`e \sim N(0, \sigma^2)`, by REML (statsmodels
  ``MixedLM``). Every cluster-period needs events.
* :func:`fit_poisson` — a Poisson GLM with cluster and period fixed effects, offset
  :math:`\log E`, errors clustered by cluster. statsmodels has no frequentist Poisson GLMM
  (its ``PoissonBayesMixedGLM`` is variational Bayes); with cluster fixed effects the
  treatment effect is identified within clusters, as in the GLMM, and cluster-robust errors
  stand in for the random effect's correlation (ARCHITECTURE.md).

:func:`randomisation_test` is the primary inference: the observed schedule against the
schedules the trial's randomisation scheme could have drawn
(:func:`evaltk.estimators.stepped_wedge.scheme.reference_schedules`). Its statistic is the
model's own estimator of :math:`\theta`, computed for every schedule at once:

* log rate: generalised least squares with the variance components of the REML fit without
  the treatment (a function of the data alone, so the statistic is one function under every
  schedule and the test is exact; with the treated fit's components it would be the REML
  estimate itself, and it differs from it only through them). With a random intercept, GLS
  on a complete grid is least squares after quasi-demeaning each cluster's series by
  :math:`\lambda = 1 - \sqrt{\sigma^2 / (\sigma^2 + T\tau^2)}` and removing each period's mean
  over clusters, so :math:`\hat\theta_p = \sum \tilde d_p \tilde z / \sum \tilde d_p^2`:
  linear in the log rates, and the interval is inverted under a constant effect with the
  weights held fixed.
* Poisson: the one-step (score) estimator from the fit without treatment,
  :math:`U_p / I_p` with :math:`U_p = \sum D_p (Y - \hat\mu_0)` and :math:`I_p` the weighted
  sum of squares of :math:`D_p` after weighted two-way demeaning. Under the sharp null
  "the scheme multiplies every treated cluster-period's rate by :math:`e^\delta`", the data
  divided by that factor are refitted for each :math:`\delta` the interval search tries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimators.did.randomization import RandomizationTest, p_value
from evaltk.estimators.did.wild_bootstrap import invert
from evaltk.estimators.effect import critical_value, p_values
from evaltk.estimators.stepped_wedge.scheme import ReferenceSchedules

#: Sweeps of weighted two-way demeaning (converges geometrically on a complete grid).
_SWEEPS = 200
_SWEEP_TOL = 1e-12


def treatment(steps: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """``D[..., c, t] = 1`` when cluster ``c`` has the scheme in period ``t``; ``steps`` may
    be one schedule ``(C,)`` or many ``(R, C)``."""
    steps = np.asarray(steps)
    return (np.asarray(periods)[None, :] >= steps[..., :, None]).astype(float)


@dataclass(frozen=True)
class SWData:
    """One outcome on the complete cluster x period grid."""

    clusters: tuple[str, ...]
    periods: np.ndarray  # (T,) design period index: 1 = the first step's period, <= 0 baseline
    y: np.ndarray  # (C, T) events
    exposure: np.ndarray  # (C, T)
    steps: np.ndarray  # (C,) each cluster's step

    @property
    def d(self) -> np.ndarray:
        return treatment(self.steps, self.periods)

    def long(self) -> pd.DataFrame:
        c, t = np.meshgrid(
            np.arange(len(self.clusters)), np.arange(len(self.periods)), indexing="ij"
        )
        return pd.DataFrame(
            {
                "cluster": np.asarray(self.clusters)[c.ravel()],
                "period": self.periods[t.ravel()],
                "y": self.y.ravel(),
                "exposure": self.exposure.ravel(),
                "treated": self.d.ravel(),
            }
        )


def sw_data(frame: pd.DataFrame, steps: dict[str, int]) -> SWData:
    """:class:`SWData` from long rows ``cluster, period, y, exposure`` (one per cluster and
    period) and each cluster's step; a missing cluster-period is an error."""
    clusters = tuple(steps)  # the caller's order: that of the scheme's schedules
    periods = np.sort(frame["period"].unique()).astype(int)
    wide_y = frame.pivot_table(index="cluster", columns="period", values="y", aggfunc="sum")
    wide_e = frame.pivot_table(index="cluster", columns="period", values="exposure", aggfunc="sum")
    wide_y = wide_y.reindex(index=list(clusters), columns=periods)
    wide_e = wide_e.reindex(index=list(clusters), columns=periods)
    gaps = wide_y.isna() | wide_e.isna() | ~(wide_e > 0)
    if gaps.to_numpy().any():
        c, t = next((c, t) for c in gaps.index for t in gaps.columns if bool(gaps.loc[c, t]))
        raise EstimationError(
            f"cluster {c} has no data (or no exposure) in design period {t}: the stepped-wedge "
            "analysis needs every cluster in every period"
        )
    return SWData(
        clusters,
        periods,
        wide_y.to_numpy(dtype=float),
        wide_e.to_numpy(dtype=float),
        np.array([steps[c] for c in clusters], dtype=int),
    )


@dataclass(frozen=True)
class SWFit:
    """The registered model's estimate of the log rate ratio (``estimate``), its model-based
    (log rate) or cluster-robust (Poisson) standard error and Wald p-value, and what the
    randomisation test needs."""

    model: str  # "log_rate" or "poisson"
    estimate: float
    std_error: float
    p_value: float
    tau2: float | None  # between-cluster variance of the log rate (log_rate)
    sigma2: float | None  # residual variance (log_rate)
    n_clusters: int
    n_periods: int

    @property
    def icc(self) -> float | None:
        """Intra-cluster correlation of the log rate, tau^2 / (tau^2 + sigma^2)."""
        if self.tau2 is None or self.sigma2 is None or self.tau2 + self.sigma2 <= 0:
            return None
        return self.tau2 / (self.tau2 + self.sigma2)

    def interval(self, level: float) -> tuple[float, float]:
        z = critical_value(level)
        return self.estimate - z * self.std_error, self.estimate + z * self.std_error


def _reml(data: SWData, treated: bool) -> tuple[float, float, float, float]:
    """REML fit of the log rate on period effects (and the treatment indicator when
    ``treated``) with a cluster random intercept: (estimate, SE, tau^2, sigma^2); the first
    two NaN without treatment."""
    import warnings

    from statsmodels.regression.mixed_linear_model import MixedLM
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    if np.any(data.y <= 0):
        raise EstimationError(
            "the log-rate model needs events in every cluster-period; use model poisson"
        )
    z = np.log(data.y / data.exposure).ravel()
    n_c, n_t = data.y.shape
    x = np.kron(np.ones((n_c, 1)), np.eye(n_t))
    if treated:
        x = np.column_stack([x, data.d.ravel()])
    groups = np.repeat(np.arange(n_c), n_t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = MixedLM(z, x, groups=groups).fit(reml=True)
    tau2, sigma2 = float(np.asarray(fit.cov_re).ravel()[0]), float(fit.scale)
    if not treated:
        return float("nan"), float("nan"), tau2, sigma2
    return float(fit.fe_params[-1]), float(fit.bse_fe[-1]), tau2, sigma2


def fit_log_rate(data: SWData) -> SWFit:
    """REML fit of the log-rate linear mixed model (cluster random intercept, period fixed
    effects, treatment indicator)."""
    estimate, se, tau2, sigma2 = _reml(data, treated=True)
    n_c, n_t = data.y.shape
    return SWFit(
        "log_rate",
        estimate,
        se,
        float(p_values(np.array([estimate]), np.array([se]))[0]),
        tau2,
        sigma2,
        n_c,
        n_t,
    )


def _poisson_null(data: SWData, y: np.ndarray) -> np.ndarray:
    """Fitted means of the Poisson model with cluster and period effects and no treatment:
    on a complete grid, iterative proportional fitting of the row and column totals."""
    rows = np.ones(y.shape[0])
    cols = y.sum(axis=0) / np.maximum(data.exposure.sum(axis=0), 1e-300)
    for _ in range(_SWEEPS):
        rows = y.sum(axis=1) / np.maximum((data.exposure * cols[None, :]).sum(axis=1), 1e-300)
        new = y.sum(axis=0) / np.maximum((data.exposure * rows[:, None]).sum(axis=0), 1e-300)
        if np.max(np.abs(new - cols)) <= _SWEEP_TOL * max(1.0, float(np.max(np.abs(cols)))):
            cols = new
            break
        cols = new
    return data.exposure * rows[:, None] * cols[None, :]


def fit_poisson(data: SWData) -> SWFit:
    """Poisson GLM with cluster and period fixed effects, offset log exposure, and standard
    errors clustered by cluster (CR1)."""
    # The modules themselves, not statsmodels.api, which imports all of statsmodels (0.4 s).
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    n_c, n_t = data.y.shape
    clusters = np.kron(np.eye(n_c), np.ones((n_t, 1)))
    periods = np.kron(np.ones((n_c, 1)), np.eye(n_t))[:, 1:]
    x = np.column_stack([clusters, periods, data.d.ravel()])
    groups = np.repeat(np.arange(n_c), n_t)
    model = GLM(data.y.ravel(), x, family=families.Poisson(), offset=np.log(data.exposure.ravel()))
    try:
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
    except (ValueError, np.linalg.LinAlgError) as error:
        raise EstimationError(f"the Poisson model could not be fitted ({error})") from None
    estimate, se = float(fit.params[-1]), float(fit.bse[-1])
    if not (np.isfinite(estimate) and np.isfinite(se)):
        raise EstimationError("the Poisson model gave no finite treatment effect")
    return SWFit(
        "poisson",
        estimate,
        se,
        float(p_values(np.array([estimate]), np.array([se]))[0]),
        None,
        None,
        n_c,
        n_t,
    )


def fit_model(data: SWData, model: str) -> SWFit:
    """``log_rate`` or ``poisson`` (see the module docstring)."""
    return fit_log_rate(data) if model == "log_rate" else fit_poisson(data)


# --------------------------------------------------------------------------- the statistics


def _gls_weights(d: np.ndarray, lam: float) -> np.ndarray:
    """``d~``: each schedule's treatment indicator quasi-demeaned by cluster and then
    demeaned by period across clusters; ``d`` is ``(R, C, T)``."""
    quasi = d - lam * d.mean(axis=2, keepdims=True)
    return quasi - quasi.mean(axis=1, keepdims=True)


def _log_rate_statistic(
    data: SWData, components: tuple[float, float], schedules: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """The GLS estimator under each schedule as a linear map of the quasi-demeaned log rates:
    weights ``(R, C, T)``, denominators ``(R,)``, and the quasi-demeaning factor, for the
    variance components ``(tau^2, sigma^2)``."""
    n_t = data.y.shape[1]
    tau2, sigma2 = max(components[0], 0.0), max(components[1], 1e-300)
    lam = float(1.0 - np.sqrt(sigma2 / (sigma2 + n_t * tau2)))
    d = treatment(schedules, data.periods)
    tilde = _gls_weights(d, lam)
    return tilde, np.einsum("rct,rct->r", tilde, tilde), lam


def _quasi(values: np.ndarray, lam: float) -> np.ndarray:
    return values - lam * values.mean(axis=-1, keepdims=True)


def _weighted_demean(d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``d`` minus its weighted projection on cluster and period effects (alternating)."""
    out = d.copy()
    wsum_c = w.sum(axis=1)[None, :, None]
    wsum_t = w.sum(axis=0)[None, None, :]
    for _ in range(_SWEEPS):
        out -= (out * w[None]).sum(axis=2, keepdims=True) / wsum_c
        shift = (out * w[None]).sum(axis=1, keepdims=True) / wsum_t
        out -= shift
        if np.max(np.abs(shift)) < 1e-10:
            break
    return out


def _score_statistic(data: SWData, y: np.ndarray, d: np.ndarray) -> np.ndarray:
    """One-step Poisson estimate of the treatment effect under each schedule ``d (R, C, T)``."""
    mu = _poisson_null(data, y)
    resid = y - mu
    score = np.einsum("rct,ct->r", d, resid)
    tilde = _weighted_demean(d, mu)
    information = np.einsum("rct,ct->r", tilde**2, mu)
    return np.asarray(score / np.where(information > 0, information, np.nan))


def randomisation_test(
    data: SWData,
    fit: SWFit,
    reference: ReferenceSchedules,
    level: float | None,
) -> RandomizationTest:
    """Randomisation p-value of "no effect in any cluster-period", and the interval of
    constant effects (log rate ratio) it does not reject at ``level``.

    Parameters
    ----------
    data : SWData
        The outcome and the observed schedule.
    fit : SWFit
        The registered model's fit to it (its variance components set the GLS weights).
    reference : ReferenceSchedules
        The schedules the scheme could have drawn.
    level : float, optional
        Interval level; None skips the interval.
    """
    observed = data.steps[None, :]
    if fit.model == "log_rate":
        # Variance components of the fit WITHOUT treatment: a function of the data alone, so
        # that the statistic is the same function under every schedule (exactness).
        null = _reml(data, treated=False)[2:]
        w_obs, den_obs, lam = _log_rate_statistic(data, null, observed)
        w, den, _ = _log_rate_statistic(data, null, reference.schedules)
        z = _quasi(np.log(data.y / data.exposure), lam)
        d_obs = _quasi(data.d, lam)
        # theta_p(delta) = w_p . (z - delta d_obs) / den_p, all quasi-demeaned
        a_obs = float(np.einsum("ct,ct->", w_obs[0], z) / den_obs[0])
        a = np.einsum("rct,ct->r", w, z) / den
        b = np.einsum("rct,ct->r", w, d_obs) / den

        def p_at(delta: float) -> float:
            return p_value(a_obs - delta, a - delta * b, reference.enumerated)

        statistic, rel_tol = a_obs, 1e-7
    else:
        d_obs = data.d
        d_ref = treatment(reference.schedules, data.periods)
        d_both = np.concatenate([d_obs[None], d_ref])

        def p_at(delta: float) -> float:
            adjusted = data.y * np.exp(-delta * d_obs)
            values = _score_statistic(data, adjusted, d_both)
            return p_value(values[0], values[1:], reference.enumerated)

        statistic = float(_score_statistic(data, data.y, d_obs[None])[0])
        rel_tol = 1e-4
    low = high = float("nan")
    if level is not None:
        low, high = invert(
            p_at, fit.estimate, fit.std_error, 1.0 - level, rel_tol=rel_tol, max_distance=10.0
        )
    return RandomizationTest(
        statistic,
        p_at(0.0),
        low,
        high,
        int(reference.schedules.shape[0]),
        reference.n_distinct,
        reference.enumerated,
        reference.seed,
        "GLS log rate ratio" if fit.model == "log_rate" else "one-step Poisson log rate ratio",
    )
