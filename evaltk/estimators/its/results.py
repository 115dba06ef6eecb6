"""The read-only result of an ITS fit: renders itself as text, tidy table, HTML, JSON, plot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaltk.estimators.effect import Effect, critical_value, json_float
from evaltk.estimators.its.effects import CumulativeEffect
from evaltk.estimators.its.options import ITSSpec
from evaltk.estimators.render import Fact, RendersItself, Section, format_level, format_number
from evaltk.estimators.result import effect_row, tidy_frame

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Columns of :meth:`ITSResult.to_frame` (the older, narrower table; :meth:`ITSResult.tidy`
#: has every result's columns).
TIDY_COLUMNS = ("term", "estimate", "ci_low", "ci_high", "p_value", "scale")


@dataclass(frozen=True, eq=False, repr=False)
class ITSResult(RendersItself):
    """Result of :meth:`ITSModel.fit`. Nothing in it changes after it is made.

    Labelled pandas objects (``params``, ``bse``, ``pvalues``, ``cov_params``,
    ``counterfactual``) are returned as copies, so editing them does not alter the result.

    Attributes
    ----------
    spec : ITSSpec
        The options the model was fitted with.
    start : pandas.Timestamp
        First intervention month (INCLUSIVE: it is a post-intervention month).
    effect : Effect
        Change in level at the intervention: rate ratio ``exp(b2)`` for count families,
        difference ``b2`` for gaussian. With ``slope_change`` it is the step at the
        intervention month relative to the pre-trend extrapolated to the month before.
    slope_effect : Effect or None
        Change in slope per month (``exp(b3)`` or ``b3``); None without ``slope_change``.
    trend_per_year : Effect
        Underlying (pre-intervention) trend over 12 months: ``exp(12 b1)`` or ``12 b1``.
    cumulative : CumulativeEffect
        Events averted over the post-intervention months after the washout.
    relative_effect : Effect
        ``sum(fitted) / sum(counterfactual) - 1`` over the same months.
    dispersion : float
        Pearson chi-square over residual degrees of freedom (a diagnostic for ``poisson``; the
        scale of the covariance for ``quasi_poisson``).
    """

    spec: ITSSpec
    start: pd.Timestamp
    effect: Effect
    slope_effect: Effect | None
    trend_per_year: Effect
    cumulative: CumulativeEffect
    relative_effect: Effect
    dispersion: float
    _params: pd.Series = field(repr=False)
    _bse: pd.Series = field(repr=False)
    _pvalues: pd.Series = field(repr=False)
    _cov: pd.DataFrame = field(repr=False)
    _frame: pd.DataFrame = field(repr=False)
    _diagnostics: Mapping[str, Any] = field(repr=False)
    #: Error covariance of the fitted months (model 'gls' only), for the ledger's correlations.
    _error_cov: np.ndarray | None = field(default=None, repr=False)
    #: Residuals of the fitted months in time order (Pearson for a GLM), as the Ljung-Box and
    #: Durbin-Watson diagnostics read them.
    _residuals: pd.DataFrame | None = field(default=None, repr=False)

    # -- labelled pandas views ---------------------------------------------------------------
    @property
    def params(self) -> pd.Series:
        """Coefficients on the link scale (log for counts), indexed by term."""
        return self._params.copy()

    @property
    def bse(self) -> pd.Series:
        """Standard errors of ``params`` under the chosen covariance."""
        return self._bse.copy()

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided Wald p-values of ``params`` (normal reference)."""
        return self._pvalues.copy()

    @property
    def cov_params(self) -> pd.DataFrame:
        """Covariance of ``params``: model-based, quasi-likelihood or HAC (from statsmodels), or
        the AR(1) working-correlation sandwich with ``spec.ar1``."""
        return self._cov.copy()

    @property
    def counterfactual(self) -> pd.DataFrame:
        """One row per month: ``period, observed, fitted, counterfactual, cf_low, cf_high, post,
        in_fit``. ``cf_low``/``cf_high`` are pointwise intervals at ``spec.level``;
        ``post`` is True from the intervention month on; ``in_fit`` is False in the washout."""
        return self._frame.copy()

    @property
    def residuals(self) -> pd.DataFrame:
        """``period, residual`` for every fitted month (washout left out), in time order: the
        Pearson residuals of a GLM (raw residuals of a Gaussian or GLS model), the series the
        Ljung-Box test and the Durbin-Watson statistic in :attr:`diagnostics` are taken over."""
        if self._residuals is None:
            return pd.DataFrame({"period": pd.Series(dtype="datetime64[ns]"), "residual": []})
        return self._residuals.copy()

    @property
    def error_covariance(self) -> np.ndarray | None:
        """Error covariance of the fitted months for model ``gls`` (a copy); None for a GLM."""
        return None if self._error_cov is None else self._error_cov.copy()

    @property
    def diagnostics(self) -> dict[str, Any]:
        """Dispersion, Ljung-Box, Durbin-Watson, month counts, AIC, covariance used.

        ``cov_type`` is ``nonrobust``, ``HAC`` or ``AR1``; with ``AR1``, ``ar1_rho`` is the
        bias-corrected, bounded working correlation used and ``ar1_rho_hat`` the raw lag-1
        autocorrelation of the Pearson residuals (both None otherwise)."""
        return dict(self._diagnostics)

    @property
    def scale(self) -> str:
        return self.spec.scale

    @property
    def n_pre(self) -> int:
        return int(self._diagnostics["n_pre"])

    @property
    def n_post(self) -> int:
        return int(self._diagnostics["n_post"])

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        """Normal-quantile intervals for ``params`` on the link scale (Student's t with the
        Satterthwaite degrees of freedom for model ``gls``).

        Parameters
        ----------
        level : float, optional
            Confidence level; defaults to ``spec.level``.

        Returns
        -------
        pandas.DataFrame
            Columns ``lower`` and ``upper``, indexed by term (as R ``Epi::ci.lin``).
        """
        level = self.spec.level if level is None else level
        if not 0 < level < 1:
            raise ValueError(f"level must be strictly between 0 and 1, got {level!r}.")
        z = critical_value(level, self.effect.df)
        return pd.DataFrame(
            {"lower": self._params - z * self._bse, "upper": self._params + z * self._bse}
        )

    # -- rendering -----------------------------------------------------------------------------
    def effects(self) -> list[Effect]:
        """The effects in reporting order (level, slope, trend, relative)."""
        out = [self.effect]
        if self.slope_effect is not None:
            out.append(self.slope_effect)
        out += [self.trend_per_year, self.relative_effect]
        return out

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per effect, columns ``term, estimate, ci_low, ci_high, p_value,
        scale``. Events averted appear as ``averted`` (counterfactual minus fitted, with the
        interval implied by the effect) and ``averted_model`` (the same contrast with its
        symmetric delta-method interval and Wald p-value), both on the ``difference`` scale."""
        rows = [{c: getattr(e, c) for c in TIDY_COLUMNS} for e in self.effects()]
        cum = self.cumulative
        rows.append(
            {
                "term": "averted",
                "estimate": cum.averted,
                "ci_low": cum.averted_ci_low,
                "ci_high": cum.averted_ci_high,
                "p_value": np.nan,
                "scale": "difference",
            }
        )
        rows.append(
            {
                "term": "averted_model",
                "estimate": cum.averted_model,
                "ci_low": cum.averted_model_ci_low,
                "ci_high": cum.averted_model_ci_high,
                "p_value": cum.averted_model_p_value,
                "scale": "difference",
            }
        )
        return pd.DataFrame(rows, columns=list(TIDY_COLUMNS))

    @property
    def headline(self) -> Effect:
        """The level change (:attr:`effect`), the headline of an ITS."""
        return self.effect

    def tidy(self) -> pd.DataFrame:
        """Every result's tidy table (:data:`evaltk.estimators.result.TIDY_COLUMNS`): the
        effects, then ``averted`` and ``averted_model`` (as :meth:`to_frame`; their standard
        error is not kept, so it is NaN)."""
        rows = [effect_row(e) for e in self.effects()]
        cum, e = self.cumulative, self.effect
        for term, estimate, low, high, p in (
            ("averted", cum.averted, cum.averted_ci_low, cum.averted_ci_high, np.nan),
            (
                "averted_model",
                cum.averted_model,
                cum.averted_model_ci_low,
                cum.averted_model_ci_high,
                cum.averted_model_p_value,
            ),
        ):
            rows.append(
                {
                    "term": term,
                    "estimate": estimate,
                    "std_error": np.nan,
                    "ci_low": low,
                    "ci_high": high,
                    "p_value": p,
                    "df": e.df,
                    "level": cum.level,
                    "scale": "difference",
                }
            )
        return tidy_frame(rows)

    def _title(self) -> str:
        model = "regression by GLS" if self.spec.model == "gls" else "GLM"
        return f"Interrupted time series (segmented {model})"

    def _facts(self) -> list[Fact]:
        d = self._diagnostics
        quantile = "t quantile" if self.effect.df is not None else "normal quantile"
        return [
            ("family", self.spec.family),
            ("seasonality", self._seasonality_text()),
            ("slope change", "yes" if self.spec.slope_change else "no"),
            ("covariance", self._covariance_text()),
            ("intervals", f"{format_level(self.spec.level)}, {quantile}"),
            ("intervention", f"{self.start:%Y-%m} (inclusive)"),
            ("months before", d["n_pre"]),
            ("after", d["n_post"]),
            ("washout", d["n_washout"]),
        ]

    def _sections(self) -> list[Section]:
        d = self._diagnostics
        shown = (
            "dispersion",
            "ljung_box_stat",
            "ljung_box_p",
            "ljung_box_lags",
            "durbin_watson",
            "aic",
            "alpha",
            "ar1_rho_hat",
        )
        diagnostics = "\n".join(
            f"  {k}: {format_number(d[k]) if isinstance(d[k], float) else d[k]}"
            for k in shown
            if d.get(k) is not None
        )
        cum = self.cumulative
        averted = (
            f"Over {cum.months} post months: observed {cum.observed:.1f}, counterfactual "
            f"{cum.counterfactual:.1f}; averted {cum.averted:.1f} "
            f"({format_level(self.spec.level)} CI {cum.averted_ci_low:.1f} to "
            f"{cum.averted_ci_high:.1f})."
        )
        return [
            ("Coefficients (link scale)", self._coef_table().reset_index(names="term")),
            ("Diagnostics", diagnostics),
            ("", averted),
        ]

    def __repr__(self) -> str:
        e = self.effect
        return (
            f"ITSResult(family={self.spec.family!r}, start={self.start:%Y-%m}, "
            f"level_change={e.estimate:.4g} [{e.ci_low:.4g}, {e.ci_high:.4g}], scale={e.scale!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (plain floats, None for undefined values, ISO dates).

        The top-level ``estimate, ci_low, ci_high, p_value, scale`` are the level change, the
        headline effect an outcome entry of ``results.json`` reports.
        """
        e = self.effect
        frame = self._frame
        return {
            "estimator": "its",
            "spec": {k: json_float(v) for k, v in asdict(self.spec).items()},
            "start": self.start.date().isoformat(),
            "estimate": json_float(e.estimate),
            "ci_low": json_float(e.ci_low),
            "ci_high": json_float(e.ci_high),
            "p_value": json_float(e.p_value),
            "scale": e.scale,
            "level": self.spec.level,
            "n_units": 1,
            "n_periods": len(frame),
            "level_change": e.to_dict(),
            "slope_change": None if self.slope_effect is None else self.slope_effect.to_dict(),
            "trend_per_year": self.trend_per_year.to_dict(),
            "relative_effect": self.relative_effect.to_dict(),
            "cumulative": self.cumulative.to_dict(),
            "dispersion": json_float(self.dispersion),
            "params": [
                {
                    "term": str(name),
                    "estimate": json_float(self._params[name]),
                    "std_error": json_float(self._bse[name]),
                    "p_value": json_float(self._pvalues[name]),
                }
                for name in self._params.index
            ],
            "diagnostics": {k: _json_value(v) for k, v in self._diagnostics.items()},
            "counterfactual": [
                {
                    "period": p.date().isoformat(),
                    **{c: _json_value(frame[c].iloc[i]) for c in frame.columns if c != "period"},
                }
                for i, p in enumerate(frame["period"])
            ],
        }

    # -- plotting --------------------------------------------------------------------------
    def get_plot_data(self) -> pd.DataFrame:
        """The frame :meth:`plot` draws: ``counterfactual`` plus a ``washout`` flag."""
        data = self._frame.copy()
        data["washout"] = data["post"] & ~data["in_fit"]
        return data

    def plot(self, ax: Axes | None = None, title: str | None = None) -> tuple[Figure, Axes]:
        """Observed points, fitted line, counterfactual (dashed, with band), intervention line.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is made (without pyplot's global state) otherwise.
        title : str, optional
            Axes title.

        Returns
        -------
        (matplotlib.figure.Figure, matplotlib.axes.Axes)
        """
        from evaltk.estimators.its.plot import plot_its

        return plot_its(self.get_plot_data(), self.start, self.spec, ax=ax, title=title)

    # -- helpers -----------------------------------------------------------------------------
    def _coef_table(self) -> pd.DataFrame:
        ci = self.conf_int()
        return pd.DataFrame(
            {
                "coef": self._params,
                "std_err": self._bse,
                "p_value": self._pvalues,
                "lower": ci["lower"],
                "upper": ci["upper"],
            }
        )

    def _covariance_text(self) -> str:
        d = self._diagnostics
        if self.spec.hac:
            return f"{d['cov_type']} (maxlags={d['hac_lags']})"
        if self.spec.ar1:
            return f"AR(1) working correlation (rho={d['ar1_rho']:.3f})"
        if self.spec.model == "gls":
            return (
                f"GLS, AR(1) + white errors by REML (rho={d['ar1_rho']:.3f}), "
                f"Satterthwaite t({d['gls_df']:.1f})"
            )
        return str(d["cov_type"])

    def _seasonality_text(self) -> str:
        if self.spec.seasonality == "fourier":
            return f"fourier (K={self.spec.harmonics})"
        return self.spec.seasonality


def _json_value(value: Any) -> Any:
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return json_float(value)
