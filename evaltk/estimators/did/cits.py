"""Comparative interrupted time series: a treated series against one or more comparison series."""

from __future__ import annotations

import math
import warnings
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM

from evaltk.errors import EstimationError
from evaltk.estimators.did.cits_gls import CITSGLSFit, fit_cits_gls
from evaltk.estimators.did.options import CITSSpec
from evaltk.estimators.did.panel import DiDPanel, build_panel, month_clock
from evaltk.estimators.did.results import DiDResult, PostTotals, tidy_row
from evaltk.estimators.effect import critical_value, p_value

MIN_MONTHS_EACH_SIDE = 3


class CITSModel:
    r"""Segmented regression of a treated and comparison series with group interactions.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data: one row per series × month (copied, never modified).
    treated : object
        Label of the treated series in the ``series`` column; every other series is a
        comparison.
    start : timestamp-like
        First intervention month, INCLUSIVE (it is a post month), e.g. ``"2016-04"``.
    outcome, series, period : str
        Column names of the outcome, series label and month (month-start timestamps).
    exposure : str, optional
        Population (or other exposure): ``log(exposure)`` offset of the count families.
    spec : CITSSpec, optional
        Family, seasonality, slope change, covariance.

    Notes
    -----
    With months :math:`t` counted from the first, :math:`L_t = 1[t \ge t_0]`,
    :math:`S_t = (t - t_0 + 1) L_t`, :math:`T_j = 1` for the treated series and a series
    intercept :math:`\alpha_j`:

    .. math::

        \log E[y_{jt}] = \log E_{jt} + \alpha_j + \beta_1 t + \beta_2 L_t [+ \beta_3 S_t]
            + \gamma_1 T_j t + \gamma_2 T_j L_t [+ \gamma_3 T_j S_t] + f(m_t)

    with shared seasonal terms :math:`f` (Fourier pairs or month dummies). :math:`\beta_2`
    is the level change the comparison series show at the intervention date (shocks common to
    both), and the effect is the *difference* in level change, :math:`e^{\gamma_2}` (a ratio
    of rate ratios; :math:`\gamma_2` for ``gaussian``), with :math:`e^{\gamma_3}` the difference
    in slope change per month. Fitted by statsmodels ``GLM`` (Poisson; with ``scale="X2"``
    for quasi-Poisson; Gaussian), covariance model-based or Newey-West by series
    (``cov_type="hac-panel"``, Bartlett kernel). Intervals use the normal quantile. With two to
    a handful of series there are too few clusters for cluster-robust or wild bootstrap
    inference; the month-to-month information is what identifies the effect, so inference is
    model-based (or HAC), and ``inference`` says which.

    With ``spec.model="gls"`` the joint GLM still gives the fitted curves, but the effect and
    its inference come from a GLS fit of the difference of the two log rates with Poisson
    sampling, white and AR(1) errors (REML, Satterthwaite t; :mod:`.cits_gls`), because the
    GLM's errors over-reject when months are correlated; ``inference`` is then ``"gls"`` and
    ``df`` the Satterthwaite degrees of freedom of the headline.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        treated: Any,
        start: Any,
        outcome: str = "y",
        series: str = "series",
        period: str = "period",
        exposure: str | None = None,
        spec: CITSSpec | None = None,
    ) -> None:
        self._spec = CITSSpec() if spec is None else spec
        if not isinstance(self._spec, CITSSpec):
            raise EstimationError(f"CITS spec must be a CITSSpec, got {type(spec).__name__}.")
        if series not in getattr(data, "columns", []):
            raise EstimationError(f"CITS data lack the series column {series!r}.")
        labels = pd.unique(data[series])
        if treated not in set(labels.tolist()):
            raise EstimationError(
                f"treated series {treated!r} is not in column {series!r} "
                f"({', '.join(map(str, labels))})."
            )
        if len(labels) < 2:
            raise EstimationError("CITS needs at least one comparison series besides the treated.")
        try:
            self._start = month_clock(start)
        except (TypeError, ValueError):
            raise EstimationError(
                f"CITS start {start!r} is not a month (e.g. '2016-04')."
            ) from None
        starts = {label: (start if label == treated else None) for label in labels}
        self._panel = build_panel(
            data, outcome=outcome, unit=series, period=period, starts=starts, exposure=exposure
        )
        if not self._panel.calendar:
            raise EstimationError("CITS periods must be month-start timestamps.")
        for code, label in enumerate(self._panel.units):
            clock = self._panel.clock[self._panel.unit == code]
            pre, post = int((clock < self._start).sum()), int((clock >= self._start).sum())
            if min(pre, post) < MIN_MONTHS_EACH_SIDE:
                raise EstimationError(
                    f"series {label!r} has {pre} month(s) before and {post} from the start; "
                    f"CITS needs at least {MIN_MONTHS_EACH_SIDE} on each side."
                )
        if self._spec.family != "gaussian" and (self._panel.y < 0).any():
            raise EstimationError("count families need outcomes >= 0.")
        self._treated = treated

    @property
    def spec(self) -> CITSSpec:
        return self._spec

    @property
    def panel(self) -> DiDPanel:
        return self._panel

    def design(self, effect: bool = True) -> pd.DataFrame:
        """The design matrix, one row per series-month (effect terms zeroed if not ``effect``)."""
        p, spec = self._panel, self._spec
        t = p.clock - p.clock.min() + 1
        t0 = self._start - p.clock.min() + 1
        level = (t >= t0).astype(float)
        slope = (t - t0 + 1) * level
        group = (p.start[p.unit] == self._start).astype(float)
        cols: dict[str, np.ndarray] = {}
        for code, label in enumerate(p.units):
            cols[f"series[{label}]"] = (p.unit == code).astype(float)
        cols["time"] = t
        cols["level"] = level
        if spec.slope_change:
            cols["slope"] = slope
        cols["treated_time"] = group * t
        cols["treated_level"] = group * level * float(effect)
        if spec.slope_change:
            cols["treated_slope"] = group * slope * float(effect)
        month = (p.clock % 12 + 1).astype(int)
        if spec.seasonality == "fourier":
            for k in range(1, spec.harmonics + 1):
                cols[f"sin{k}"] = np.sin(2 * np.pi * k * month / 12)
                cols[f"cos{k}"] = np.cos(2 * np.pi * k * month / 12)
        elif spec.seasonality == "month":
            for m in range(2, 13):
                cols[f"month{m}"] = (month == m).astype(float)
        return pd.DataFrame(cols)

    def fit(self) -> DiDResult:
        """Fit the model.

        Returns
        -------
        DiDResult
            ``term`` is ``"treated_level"`` (difference in level change); with
            ``slope_change`` the table also has ``treated_slope``.
        """
        p, spec = self._panel, self._spec
        X = self.design()
        offset = (
            np.log(p.exposure)
            if (p.exposure is not None and spec.family != "gaussian")
            else np.zeros(p.n_obs)
        )
        family = families.Gaussian() if spec.family == "gaussian" else families.Poisson()
        kwargs: dict[str, Any] = {}
        if spec.family == "quasi_poisson":
            kwargs["scale"] = "X2"
        lags = None
        if spec.hac:
            months = p.n_periods
            lags = (
                spec.hac_lags
                if spec.hac_lags is not None
                else max(1, math.floor(4 * (months / 100) ** (2 / 9)))
            )
            kwargs.update(
                cov_type="hac-panel",
                cov_kwds={"groups": p.unit, "maxlags": lags, "use_correction": True},
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = GLM(p.y, X, family=family, offset=offset).fit(**kwargs)
        params, bse = res.params, res.bse
        if not (np.all(np.isfinite(params)) and np.all(np.isfinite(bse))):
            raise EstimationError(
                "CITS fit gave non-finite coefficients; the series may be too "
                "short or sparse (try fewer seasonal terms)."
            )
        link = X.to_numpy() @ params.to_numpy() + offset
        if spec.model == "gls":
            treated_code = list(p.units).index(self._treated)
            mu = None if spec.family == "gaussian" else np.asarray(res.mu)
            gls = fit_cits_gls(p, treated_code, X, mu, spec)
            # The counterfactual takes the GLS estimate of the treated series' own change
            # away from the joint GLM's fitted curve.
            change = np.zeros(p.n_obs)
            for term, gamma in gls.effect.items():
                change += X[term].to_numpy() * gamma
            totals = self._gls_totals(gls, X, link - change)
            return self._result(
                res,
                lags,
                gls.rows,
                "gls",
                gls.text,
                link,
                link - change,
                gls.df,
                gls.details,
                totals,
            )
        z = critical_value(spec.level)
        rows = []
        for term in ("treated_level", "treated_slope") if spec.slope_change else ("treated_level",):
            b, se = float(params[term]), float(bse[term])
            rows.append(
                tidy_row(
                    term,
                    b,
                    b - z * se,
                    b + z * se,
                    p_value(b, se),
                    spec.scale,
                    se,
                )
            )
        for term in ("level", "time"):
            b, se = float(params[term]), float(bse[term])
            rows.append(
                tidy_row(
                    f"comparison_{term}",
                    b,
                    b - z * se,
                    b + z * se,
                    p_value(b, se),
                    spec.scale,
                    se,
                )
            )
        inference = "hac" if spec.hac else "model"
        if spec.hac:
            text = f"Newey-West (HAC) covariance within each series, {lags} lags"
        elif spec.family == "quasi_poisson":
            text = "model-based quasi-Poisson covariance (scaled by the Pearson dispersion)"
        else:
            text = f"model-based {spec.family} covariance"
        text += f"; normal-quantile intervals; {p.n_units} series (too few to cluster)."
        x_cf = self.design(effect=False).to_numpy()
        cf = x_cf @ params.to_numpy() + offset
        totals = self._glm_totals(res, X.to_numpy(), x_cf, cf)
        return self._result(res, lags, rows, inference, text, link, cf, None, None, totals)

    def _treated_post(self) -> np.ndarray:
        p = self._panel
        return (p.start[p.unit] == self._start) & (p.clock >= self._start)

    def _gls_totals(self, gls: CITSGLSFit, X: pd.DataFrame, cf_link: np.ndarray) -> PostTotals:
        """Events averted by the treated series over its post months, with the delta-method
        sd through the GLS effect coefficient(s) and each month's influence on it.

        The counterfactual of a treated post month is the fitted value with the GLS change
        taken away, ``cf_t = fitted_t exp(-gamma_2 L_t [- gamma_3 S_t])`` (``fitted_t -
        gamma_2 L_t ...`` for gaussian), so ``d sum cf / d gamma_2 = -sum cf_t L_t``. The
        influence of month ``t`` is the least-squares score of the whitened difference series,
        ``e*_t x*_t' (X*'X*)^-1 g`` with ``L L' = Sigma``, ``X* = L^-1 X``, ``e* = L^-1 (z - X
        gamma)`` (as :func:`evaltk.verdict.ledger.month_influence` does for an ITS).
        """
        assert gls.difference is not None and gls.x is not None and gls.z is not None
        p, fit = self._panel, gls.difference
        rows = self._treated_post()
        log = self._spec.family != "gaussian"
        cf = np.exp(cf_link[rows]) if log else cf_link[rows]
        gradient = np.zeros(len(fit.params))
        for term, j in (("treated_level", 2), ("treated_slope", 3)):
            if term in gls.effect:
                column = X[term].to_numpy()[rows]
                gradient[j] = -float((cf * column).sum() if log else column.sum())
        sd = float(np.sqrt(gradient @ fit.cov @ gradient))
        df = fit.contrast_df(gradient)
        chol = np.linalg.cholesky(fit.error_cov)
        x_white = np.linalg.solve(chol, gls.x)
        resid_white = np.linalg.solve(chol, gls.z - gls.x @ fit.params)
        bread = np.linalg.pinv(x_white.T @ x_white)
        influence = (x_white * resid_white[:, None]) @ bread @ gradient
        assert gls.clock is not None
        return PostTotals(
            averted=float((cf - p.y[rows]).sum()),
            sd=sd,
            df=df if math.isfinite(df) else None,
            months=int(rows.sum()),
            month_influence=pd.Series(influence, index=[p.period_label(c) for c in gls.clock]),
        )

    def _glm_totals(
        self, res: Any, x: np.ndarray, x_cf: np.ndarray, cf_link: np.ndarray
    ) -> PostTotals:
        """As :meth:`_gls_totals` for the joint GLM: the delta method through every
        coefficient (``g = sum_t cf_t x_cf_t`` over the treated post months, with the GLM's
        covariance), and month influence from the GLM's score contributions ``x_i (y_i -
        mu_i)`` (Poisson working weights ``mu``), both series' rows of a month added up."""
        p = self._panel
        rows = self._treated_post()
        log = self._spec.family != "gaussian"
        cf = np.exp(cf_link[rows]) if log else cf_link[rows]
        gradient = (cf[:, None] * x_cf[rows]).sum(axis=0) if log else x_cf[rows].sum(axis=0)
        cov = np.asarray(res.cov_params())
        mu = np.asarray(res.mu)
        weight = mu if log else np.ones_like(mu)
        bread = np.linalg.pinv((x * weight[:, None]).T @ x)
        influence = (x * (p.y - mu)[:, None]) @ bread @ gradient
        months = pd.Series(influence).groupby(p.clock).sum()
        return PostTotals(
            averted=float((cf - p.y[rows]).sum()),
            sd=float(np.sqrt(gradient @ cov @ gradient)),
            df=None,
            months=int(rows.sum()),
            month_influence=pd.Series(
                months.to_numpy(), index=[p.period_label(c) for c in months.index]
            ),
        )

    def _result(
        self,
        res: Any,
        lags: int | None,
        rows: list[dict[str, Any]],
        inference: str,
        text: str,
        link: np.ndarray,
        cf: np.ndarray,
        df: float | None,
        gls: dict[str, Any] | None,
        totals: PostTotals | None = None,
    ) -> DiDResult:
        """The result of either model: ``rows`` the tidy table (headline first), ``link`` and
        ``cf`` the fitted and counterfactual linear predictors (offset included)."""
        p, spec = self._panel, self._spec
        table = pd.DataFrame(rows)
        head = rows[0]
        inv = (lambda v: v) if spec.family == "gaussian" else np.exp
        treated_rows = p.start[p.unit] == self._start
        plot_data = pd.DataFrame(
            {
                "period": [p.period_label(c) for c in p.clock],
                "series": [p.units[u] for u in p.unit],
                "role": np.where(treated_rows, "treated", "comparison"),
                "observed": p.y,
                "fitted": inv(link),
                "counterfactual": inv(cf),
                "post": p.clock >= self._start,
            }
        )
        details = {
            "start": p.period_label(self._start),
            "treated_series": str(self._treated),
            "comparison_series": [str(u) for u in p.units if u != self._treated],
            "spec": {
                "family": spec.family,
                "seasonality": spec.seasonality,
                "harmonics": spec.harmonics,
                "slope_change": spec.slope_change,
                "hac": spec.hac,
                "hac_lags": lags,
                "model": spec.model,
            },
            "dispersion": float(res.pearson_chi2 / res.df_resid),
            "measure": p.outcome_name,
            "params": {str(k): float(v) for k, v in res.params.items()},
        }
        if gls is not None:
            details["gls"] = gls
        return DiDResult(
            design="cits",
            family=spec.family,
            term="treated_level",
            estimate=head["estimate"],
            ci_low=head["ci_low"],
            ci_high=head["ci_high"],
            p_value=head["p_value"],
            scale=spec.scale,
            inference=inference,
            inference_text=text,
            n_clusters=p.n_units,
            n_obs=p.n_obs,
            n_periods=p.n_periods,
            n_treated=1,
            level=spec.level,
            std_error=head["std_error"],
            _table=table,
            _details=MappingProxyType(details),
            _plot_data=plot_data,
            df=df if df is None or math.isfinite(df) else None,
            totals=totals,
        )
