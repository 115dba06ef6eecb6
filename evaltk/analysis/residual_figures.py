"""The residual and autocorrelation figure of an interrupted time series outcome.

A Ljung-Box p-value and a Durbin-Watson statistic summarise the residuals in one number each;
a statistician reviewing the model wants to see them: the residuals month by month (a pattern
left by the model, a step at the start, an outlier) and their autocorrelation function (which
lags are correlated, against the approximate 95 % band of white noise). The plot is drawn
from the residuals the diagnostics were computed on (:attr:`ITSResult.residuals`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.dates import date2num

from evaltk.estimate.fit import OutcomeFit

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Lags shown in the autocorrelation plot: two years of months, or fewer for a short series.
MAX_ACF_LAGS = 24


def residual_figure(fit: OutcomeFit) -> Figure | None:
    """Residuals by month and their autocorrelation function; None when the fit has none.

    Only an interrupted time series has one series of residuals to show (the comparison
    designs' diagnostics are their pre-trend tests).
    """
    residuals = getattr(fit.result, "residuals", None)
    if fit.design != "its" or not isinstance(residuals, pd.DataFrame) or len(residuals) < 4:
        return None
    from matplotlib.figure import Figure
    from statsmodels.graphics.tsaplots import plot_acf

    start = getattr(fit.result, "start", None)
    kind = "Pearson residual" if fit.scale == "ratio" else "residual"
    fig = Figure(figsize=(8, 6), layout="constrained")
    top, bottom = fig.subplots(2, 1)
    top.axhline(0, color="0.3", lw=0.8)
    top.plot(residuals["period"], residuals["residual"], "o-", ms=3, lw=0.8, color="C0")
    if start is not None:
        top.axvline(date2num(start), color="0.4", lw=1, ls=":", label=f"start ({start:%Y-%m})")
        top.legend(loc="best", fontsize="small", frameon=False)
    top.set_xlabel("month (fitted months; washout left out)")
    top.set_ylabel(f"{kind}\n(observed − fitted, scaled)" if fit.scale == "ratio" else kind)
    top.set_title(f"{fit.outcome.label}: residuals by month")
    lags = min(MAX_ACF_LAGS, len(residuals) // 2 - 1)
    plot_acf(residuals["residual"].to_numpy(), ax=bottom, lags=lags, zero=False, alpha=0.05)
    bottom.set_title("Autocorrelation of the residuals (band: approximate 95 % limits if none)")
    bottom.set_xlabel("lag (months)")
    bottom.set_ylabel("autocorrelation (−1 to 1)")
    return fig
