"""The ITS model: data and spec in, nothing fitted until :meth:`ITSModel.fit`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.discrete.discrete_model import NegativeBinomial
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.stats.stattools import durbin_watson

from evaltk.errors import EstimationError
from evaltk.estimators.effect import Effect, p_value
from evaltk.estimators.its import effects as fx
from evaltk.estimators.its.auto import ModelChoice, resolve_model
from evaltk.estimators.its.covariance import (
    ar1_covariance,
    bias_corrected_rho,
    lag1_autocorrelation,
)
from evaltk.estimators.its.design import ITSDesign, build_design
from evaltk.estimators.its.gls import fit_gls_ar1
from evaltk.estimators.its.options import ITSSpec, default_hac_lags
from evaltk.estimators.its.results import ITSResult

MAX_LJUNG_BOX_LAGS = 12


class ITSModel:
    r"""Segmented (interrupted time series) regression for one monthly series.

    Parameters
    ----------
    series : pandas.DataFrame
        Columns ``period`` (month-start timestamps, one row per consecutive month), ``y`` (the
        outcome; counts for the count families) and optionally ``exposure`` (e.g. population,
        entered as a ``log`` offset). The frame is copied, never modified.
    start : timestamp-like
        First month of the intervention, e.g. ``pd.Timestamp("2005-01-01")``. The month is
        INCLUSIVE: observations at exactly ``start`` are post-intervention.
    spec : ITSSpec, optional
        Model options; ``ITSSpec()`` (quasi-Poisson, two Fourier pairs, level change only,
        model-based covariance) by default.
    allow_gaps : bool, optional
        Accept missing months (a share whose denominator was zero that month has no
        observation). ``time`` keeps counting calendar months across a gap.

    Raises
    ------
    EstimationError
        If the series cannot support the model (see
        :func:`~evaltk.estimators.its.design.build_design`); checked here, so a bad series fails
        before any fitting.

    Notes
    -----
    For counts, with :math:`t = 1..n` months since the first, :math:`L_t = 1[t \ge t_0]` and
    :math:`S_t = (t - t_0 + 1) L_t` for intervention month :math:`t_0`,

    .. math::

        \log E[y_t] = \log(\text{exposure}_t) + \beta_0 + \beta_1 t + \beta_2 L_t
            [+ \beta_3 S_t] + \sum_{k=1}^{K} \big(\gamma_k \sin(2\pi k m_t/12)
            + \delta_k \cos(2\pi k m_t/12)\big)

    with :math:`m_t` the calendar month (or 11 month indicators instead of the Fourier sum).
    ``gaussian`` uses the identity link and no offset. The level change is
    :math:`\exp(\beta_2)`, the slope change per month :math:`\exp(\beta_3)` and the underlying
    trend per year :math:`\exp(12\beta_1)` (the coefficients themselves for gaussian).

    Months in ``[start, start + washout_months)`` are dropped from the fit and from the
    post-period sums but keep their ``time`` number. The counterfactual is the prediction
    with :math:`L_t = S_t = 0`; its pointwise interval is
    :math:`g^{-1}(\eta_t \pm z\,\mathrm{se}(\eta_t))` with
    :math:`\mathrm{se}(\eta_t)^2 = x_t' V x_t`.

    Fitting and covariance are statsmodels': ``GLM`` (Poisson; Poisson with
    ``scale='X2'`` for quasi-Poisson; Gaussian) or the discrete ``NegativeBinomial`` (NB2,
    ``alpha`` jointly by maximum likelihood: BFGS on ``log(alpha)``, then Newton steps). With
    ``hac=True`` the covariance is statsmodels' Newey-West ``cov_type='HAC'`` (Bartlett kernel,
    small-sample factor ``n / (n - k)`` as Stata's ``newey``) with ``hac_lags`` or
    :func:`~evaltk.estimators.its.options.default_hac_lags`; HAC ignores the washout gap and
    treats the fitted months as adjacent. With ``ar1=True`` the coefficients are the same and
    the covariance is :func:`~evaltk.estimators.its.covariance.ar1_covariance`:
    :math:`\phi B X_w' R X_w B` with an AR(1) working correlation
    :math:`R_{ts} = \rho^{|t-s|}` over calendar months (so it does respect the washout gap),
    :math:`\rho` the bias-corrected lag-1 autocorrelation of the Pearson residuals; it is
    used for every effect, band, sum and p-value. Intervals use the normal quantile, as R's
    ``Epi::ci.lin``.

    Events averted over the post months after the washout are
    :math:`\sum_t (c_t - y_t)` and, from the model alone, :math:`\sum_t (c_t - \mu_t)`, with
    delta-method intervals on the sums of :math:`g^{-1}` of the linear predictors using the
    parameter covariance (see :func:`~evaltk.estimators.its.effects.cumulative_effect`); the
    relative effect is :math:`\sum \mu_t / \sum c_t - 1`.

    Diagnostics use Pearson residuals of the fitted months: dispersion
    :math:`\sum r_t^2 / (n - p)` (``p`` counts NB's ``alpha``), the Ljung-Box test at
    ``min(12, n // 4)`` lags (no degrees-of-freedom adjustment) and the Durbin-Watson statistic.
    """

    def __init__(
        self,
        series: pd.DataFrame,
        start: Any,
        spec: ITSSpec | None = None,
        *,
        allow_gaps: bool = False,
    ) -> None:
        self._spec = ITSSpec() if spec is None else spec
        if not isinstance(self._spec, ITSSpec):
            raise EstimationError(f"ITS spec must be an ITSSpec, got {type(spec).__name__}.")
        self._design = build_design(series, start, self._spec, allow_gaps=allow_gaps)
        # model "auto" is decided here, from the series' counts and length, once.
        self._choice = resolve_model(self._design, self._spec)
        self._spec = self._choice.spec

    @property
    def model_choice(self) -> ModelChoice:
        """The model fitted (``gls`` or ``glm``) and why (``auto``, or as registered)."""
        return self._choice

    @property
    def spec(self) -> ITSSpec:
        return self._spec

    @property
    def design(self) -> ITSDesign:
        """The validated series and its design matrix (all months, washout included)."""
        return self._design

    @property
    def exog(self) -> pd.DataFrame:
        """Design matrix for every month, indexed by period (a copy)."""
        return self._design.exog.copy()

    def fit(self) -> ITSResult:
        """Fit the model and derive every effect.

        Returns
        -------
        ITSResult

        Raises
        ------
        EstimationError
            If the optimiser does not converge or the covariance is not finite.
        """
        spec, d = self._spec, self._design
        rows = d.in_fit
        offset_all = d.offset if d.offset is not None else np.zeros(len(d.y))
        names = list(d.exog.columns)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est = (
                _gls_estimates(spec, d, offset_all)
                if spec.model == "gls"
                else (_glm_estimates(spec, d, offset_all))
            )
        params, cov, bse = est.params, est.cov, np.sqrt(np.diag(est.cov))
        if not (np.all(np.isfinite(params)) and np.all(np.isfinite(cov))):
            raise EstimationError(
                "ITS fit produced non-finite coefficients or covariance; the series may be too "
                "short or too sparse for this model (try fewer seasonal terms or no slope change)."
            )
        log = spec.family != "gaussian"
        # Predictions: the mean of the series (for gls on the log scale, with the lognormal
        # correction for the extra variation, which est.prediction_offset carries).
        pred_offset = offset_all + est.prediction_offset
        x_all = d.exog.to_numpy()
        fitted_all = x_all @ params + pred_offset
        if log:
            fitted_all = np.exp(fitted_all)
        df = est.df

        x_cf = d.exog_counterfactual.to_numpy()
        cf, cf_low, cf_high = fx.linear_predictor_band(
            x_cf, params, cov, pred_offset, spec.level, log, df
        )
        s = d.post_sum
        cumulative = fx.cumulative_effect(
            x_all[s], x_cf[s], params, cov, pred_offset[s], d.y[s], spec.level, log, df
        )
        relative = fx.relative_effect(
            x_all[s], x_cf[s], params, cov, pred_offset[s], spec.level, log, df
        )
        ix = {name: i for i, name in enumerate(names)}

        def effect_of(term: str, column: str, multiplier: float = 1.0) -> Effect:
            i = ix[column]
            return fx.coefficient_effect(
                term, params[i], bse[i], spec.level, spec.scale, multiplier, df=df
            )

        level_effect = effect_of("level_change", "level")
        slope_effect = effect_of("slope_change", "slope") if spec.slope_change else None
        trend = effect_of("trend_per_year", "time", 12.0)
        pvalues = np.array([p_value(b, se, df) for b, se in zip(params, bse, strict=True)])

        pearson = est.pearson
        n_fit = int(rows.sum())
        lb_lags = max(1, min(MAX_LJUNG_BOX_LAGS, n_fit // 4))
        lb = acorr_ljungbox(pearson, lags=[lb_lags], return_df=True)
        diagnostics: dict[str, Any] = {
            "dispersion": est.dispersion,
            "ljung_box_stat": float(lb["lb_stat"].iloc[0]),
            "ljung_box_p": float(lb["lb_pvalue"].iloc[0]),
            "ljung_box_lags": lb_lags,
            "durbin_watson": float(durbin_watson(pearson)),
            "n_obs": len(d.y),
            "n_fit": n_fit,
            "n_pre": d.n_pre,
            "n_post": d.n_post,
            "n_washout": d.n_washout,
            "df_resid": est.df_resid,
            "aic": est.aic,
            "alpha": est.alpha,
            "cov_type": est.cov_type,
            "hac_lags": est.hac_lags,
            "ar1_rho": est.rho,
            "ar1_rho_hat": est.rho_hat,
            "converged": True,
            "warnings": sorted({str(w.message) for w in caught}),
            **est.extra,
        }

        index = pd.Index(names, name="parameter")
        frame = pd.DataFrame(
            {
                "period": d.periods,
                "observed": d.y,
                "fitted": fitted_all,
                "counterfactual": cf,
                "cf_low": cf_low,
                "cf_high": cf_high,
                "post": d.post,
                "in_fit": d.in_fit,
            }
        ).reset_index(drop=True)
        return ITSResult(
            spec=spec,
            start=d.start,
            effect=level_effect,
            slope_effect=slope_effect,
            trend_per_year=trend,
            cumulative=cumulative,
            relative_effect=relative,
            dispersion=est.dispersion,
            _params=pd.Series(params, index=index, name="params"),
            _bse=pd.Series(bse, index=index, name="std_error"),
            _pvalues=pd.Series(pvalues, index=index, name="p_value"),
            _cov=pd.DataFrame(cov, index=index, columns=index),
            _frame=frame,
            _diagnostics=MappingProxyType(diagnostics),
            _error_cov=est.error_cov,
            _residuals=pd.DataFrame(
                {"period": np.asarray(d.periods)[rows], "residual": np.asarray(pearson)}
            ),
        )


@dataclass(frozen=True)
class _Estimates:
    """What one way of fitting gives the shared effect derivation in :meth:`ITSModel.fit`."""

    params: np.ndarray
    cov: np.ndarray
    pearson: np.ndarray
    dispersion: float
    df_resid: int
    cov_type: str
    df: float | None = None  # t reference for tests and intervals (None: normal)
    prediction_offset: float = 0.0
    aic: float | None = None
    alpha: float | None = None
    hac_lags: int | None = None
    rho: float | None = None
    rho_hat: float | None = None
    error_cov: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _glm_estimates(spec: ITSSpec, d: ITSDesign, offset_all: np.ndarray) -> _Estimates:
    """The segmented GLM (statsmodels) and its model-based, HAC or AR(1) covariance."""
    rows = d.in_fit
    exog = d.exog.loc[rows]
    y = d.y[rows]
    offset = offset_all[rows]
    k = exog.shape[1]
    cov_type, cov_kwds = "nonrobust", None
    hac_lags = None
    if spec.hac:
        hac_lags = spec.hac_lags if spec.hac_lags is not None else default_hac_lags(len(y))
        cov_type, cov_kwds = "HAC", {"maxlags": hac_lags, "use_correction": True}
    fitted_model = _fit(spec, y, exog, offset, cov_type, cov_kwds)
    params = np.asarray(fitted_model.params)[:k]
    cov = np.asarray(fitted_model.cov_params())[:k, :k]
    eta = exog.to_numpy() @ params + offset
    mu = np.exp(eta) if spec.family != "gaussian" else eta
    alpha = float(fitted_model.params[-1]) if spec.family == "negative_binomial" else None
    pearson = _pearson_residuals(spec, y, mu, alpha)
    df_resid = len(y) - k - (1 if alpha is not None else 0)
    dispersion = float(np.sum(pearson**2) / df_resid)
    rho_hat = rho = None
    if spec.ar1:
        cov_type = "AR1"
        time = exog["time"].to_numpy()
        rho_hat = lag1_autocorrelation(pearson, time)
        rho = bias_corrected_rho(rho_hat, len(y))
        phi = dispersion if spec.family in ("quasi_poisson", "gaussian") else 1.0
        cov = ar1_covariance(exog.to_numpy(), _working_weights(spec, mu, alpha), time, phi, rho)
    return _Estimates(
        params=params,
        cov=cov,
        pearson=pearson,
        dispersion=dispersion,
        df_resid=df_resid,
        cov_type=cov_type,
        aic=None if spec.family == "quasi_poisson" else float(fitted_model.aic),
        alpha=alpha,
        hac_lags=hac_lags,
        rho=rho,
        rho_hat=rho_hat,
    )


def _gls_estimates(spec: ITSSpec, d: ITSDesign, offset_all: np.ndarray) -> _Estimates:
    """GLS of the log rate with Poisson + white + AR(1) errors by REML (see :mod:`.gls`)."""
    rows = d.in_fit
    exog = d.exog.loc[rows]
    x = exog.to_numpy()
    y = d.y[rows]
    offset = offset_all[rows]
    k = x.shape[1]
    if spec.family == "gaussian":
        z, known = y, np.zeros(len(y))
        mu = x @ np.linalg.lstsq(x, y, rcond=None)[0]
        pearson = y - mu
        dispersion = float(pearson @ pearson / (len(y) - k))
    else:
        zero = ~(y > 0)
        if zero.any():
            months = ", ".join(str(p.date())[:7] for p in d.periods[rows][zero][:5])
            raise EstimationError(
                f"ITS model 'gls' takes the log of each month's count, and {int(zero.sum())} "
                f"fitted month(s) have none ({months}); use model 'glm' (with ar1) for a "
                "sparse series."
            )
        # The Poisson GLM with the same design gives the known sampling variance 1/mu of
        # each log count, and the Pearson dispersion reported as a diagnostic.
        poisson = GLM(y, x, family=families.Poisson(), offset=offset).fit()
        mu = np.asarray(poisson.mu)
        z, known = np.log(y) - offset, 1.0 / mu
        pearson = (y - mu) / np.sqrt(mu)
        dispersion = float(pearson @ pearson / (len(y) - k))
    time = exog["time"].to_numpy().astype(float)
    fit = fit_gls_ar1(z, x, time, known)
    contrast = np.zeros(k)
    contrast[list(exog.columns).index("level")] = 1.0
    df = fit.contrast_df(contrast)
    extra_variance = fit.s2_white + fit.s2_ar
    return _Estimates(
        params=fit.params,
        cov=fit.cov,
        pearson=pearson,
        dispersion=dispersion,
        df_resid=len(y) - k - 3,
        cov_type="GLS-AR1-REML",
        df=df,
        # E[exp(e)] = exp(var / 2) for the extra (non-sampling) variation of the log rate.
        prediction_offset=0.0 if spec.family == "gaussian" else extra_variance / 2.0,
        rho=fit.rho,
        error_cov=fit.error_cov,
        extra={
            "gls_df": df,
            "gls_s2_white": fit.s2_white,
            "gls_s2_ar": fit.s2_ar,
            "gls_reml_loglik": fit.reml_loglik,
        },
    )


def _fit(
    spec: ITSSpec,
    y: np.ndarray,
    exog: pd.DataFrame,
    offset: np.ndarray,
    cov_type: str,
    cov_kwds: dict[str, Any] | None,
) -> Any:
    robust: dict[str, Any] = {"cov_type": cov_type}
    if cov_kwds:
        robust["cov_kwds"] = cov_kwds
    x = exog.to_numpy()
    if spec.family == "negative_binomial":
        model = NegativeBinomial(y, x, loglike_method="nb2", offset=offset)
        # Newton from Poisson start values can step alpha below zero when the overdispersion
        # is small; BFGS works on log(alpha) and is robust, Newton then polishes the optimum.
        res = model.fit(method="bfgs", maxiter=1000, disp=False, **robust)
        converged = bool(res.mle_retvals.get("converged", False))
        polished = model.fit(
            start_params=res.params, method="newton", maxiter=100, disp=False, **robust
        )
        if polished.mle_retvals.get("converged", False) and np.all(np.isfinite(polished.params)):
            res, converged = polished, True
    else:
        family = families.Gaussian() if spec.family == "gaussian" else families.Poisson()
        model = GLM(y, x, family=family, offset=offset)
        scale = "X2" if spec.family == "quasi_poisson" else None
        res = model.fit(scale=scale, **robust)
        converged = bool(getattr(res, "converged", True))
    if not converged:
        raise EstimationError(
            f"ITS {spec.family} fit did not converge; try family='quasi_poisson', fewer "
            "seasonal terms, or check the series for long runs of zeros."
        )
    return res


def _working_weights(spec: ITSSpec, mu: np.ndarray, alpha: float | None) -> np.ndarray:
    """GLM working weights: 1 (identity link), ``mu`` (Poisson log), ``mu / (1 + alpha mu)``."""
    if spec.family == "gaussian":
        return np.ones_like(mu)
    return mu if alpha is None else mu / (1.0 + alpha * mu)


def _pearson_residuals(
    spec: ITSSpec, y: np.ndarray, mu: np.ndarray, alpha: float | None
) -> np.ndarray:
    resid = y - mu
    if spec.family == "gaussian":
        return resid
    variance = mu if alpha is None else mu + alpha * mu**2
    return resid / np.sqrt(variance)
