"""A stepped-wedge trial's ICC, cluster autocorrelation and secular trend from history.

Given the monthly counts of the clusters before the trial (a clusters × months panel), the
log count of each cluster-month is fitted with month fixed effects and a cluster random
intercept (statsmodels ``MixedLM``, REML), the model the trial will be analysed with less
its treatment term. Its cluster variance is :math:`\\tau^2`; its residual variance is the
cluster-month variance :math:`\\gamma^2` plus the Poisson noise of a log count,
:math:`1/m`, so :math:`\\gamma^2` is the residual variance less the mean of :math:`1/\\hat m`
(never below 0). The secular trend is the least-squares slope of the month effects.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltk.errors import PowerError
from evaltk.power.sw_closed import Components

HALF = 0.5


@dataclass(frozen=True)
class HistoryEstimate:
    """What a force's history says about a stepped-wedge trial of its clusters."""

    components: Components
    mean_count: float
    trend: float
    clusters: int
    months: int

    @property
    def icc(self) -> float:
        return self.components.icc(self.mean_count)

    @property
    def cac(self) -> float:
        return self.components.cac

    def describe(self) -> str:
        return (
            f"estimated from {self.clusters} clusters x {self.months} months of history: mean "
            f"{self.mean_count:.1f} events per cluster-month, ICC {self.icc:.3g}, CAC "
            f"{self.cac:.3g}, trend {self.trend:+.4f} a month (log rate)"
        )


def estimate_components(panel: pd.DataFrame) -> HistoryEstimate:
    """Estimate the variance components and trend from historical counts.

    Parameters
    ----------
    panel : pandas.DataFrame
        One row per cluster, one column per month (in time order), event counts.

    Raises
    ------
    PowerError
        With fewer than 3 clusters or 3 months, or counts that are missing or negative.
    """
    counts = panel.to_numpy(dtype=float)
    n_clusters, n_months = counts.shape
    if n_clusters < 3 or n_months < 3:
        raise PowerError(
            f"history has {n_clusters} clusters x {n_months} months; the ICC needs at least "
            "3 of each"
        )
    bad = ~np.isfinite(counts) | (counts < 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise PowerError(
            f"history: cluster {panel.index[row]!r}, month {panel.columns[col]!r} has no "
            "count (or a negative one); give every cluster-month a count of 0 or more"
        )
    import statsmodels.formula.api as smf

    long = pd.DataFrame(
        {
            "z": np.log(counts + HALF).ravel(),
            "cluster": np.repeat(np.arange(n_clusters), n_months),
            "month": np.tile(np.arange(n_months), n_clusters),
        }
    )
    with warnings.catch_warnings():
        # A variance at its boundary (no between-cluster variance) is an answer, not a fault.
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("z ~ 0 + C(month)", long, groups=long["cluster"]).fit(reml=True)
    tau2 = max(float(fit.cov_re.iloc[0, 0]), 0.0)
    fitted = np.exp(np.asarray(fit.fittedvalues, float)) - HALF
    poisson = float(np.mean(1.0 / np.maximum(fitted, HALF)))
    gamma2 = max(float(fit.scale) - poisson, 0.0)
    month_effects = np.asarray(fit.fe_params, float)
    trend = float(np.polyfit(np.arange(n_months), month_effects, 1)[0])
    return HistoryEstimate(
        components=Components(tau2=tau2, gamma2=gamma2),
        mean_count=float(counts.mean()),
        trend=trend,
        clusters=n_clusters,
        months=n_months,
    )
