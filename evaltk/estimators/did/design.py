"""Responses, fixed-effect designs and the library fits shared by the DiD estimators.

Linear fixed-effects models are fitted by linearmodels (``PanelOLS``, unit and period effects,
covariance clustered by unit); Poisson ones by statsmodels (``GLM`` with unit and period
dummies, ``log(exposure)`` offset, covariance clustered by unit). This module builds their
inputs and the equivalent explicit matrices the wild bootstrap works on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM

from evaltk.errors import EstimationError
from evaltk.estimators.did.panel import DiDPanel
from evaltk.estimators.effect import critical_value, p_value


@dataclass(frozen=True)
class Coefficients:
    """Named coefficients with a covariance and the reference distribution of their tests.

    ``df`` is the t degrees of freedom (None: normal), as the fitting library uses.
    """

    names: tuple[str, ...]
    params: np.ndarray
    cov: np.ndarray
    df: float | None

    def combination(self, weights: np.ndarray, level: float) -> dict[str, float]:
        """Estimate, standard error, interval and p-value of ``weights @ params``."""
        w = np.asarray(weights, dtype=float)
        est = float(w @ self.params)
        se = float(np.sqrt(max(float(w @ self.cov @ w), 0.0)))
        q = critical_value(level, self.df)
        p = p_value(est, se, self.df)
        return {
            "estimate": est,
            "std_error": se,
            "ci_low": est - q * se,
            "ci_high": est + q * se,
            "p_value": p,
            "statistic": est / se if se > 0 else float("nan"),
        }

    def wald(self, rows: np.ndarray, n_clusters: int) -> dict[str, float]:
        """Joint test ``rows @ params = 0``: ``F = W / q`` against ``F(q, G - 1)``.

        The ``G - 1`` denominator degrees of freedom are Stata's for cluster-robust tests
        (``test`` after ``vce(cluster)``); it is still too liberal with few clusters.
        """
        R = np.atleast_2d(rows)
        q = R.shape[0]
        b = R @ self.params
        cov = R @ self.cov @ R.T
        if q >= n_clusters or np.linalg.matrix_rank(cov) < q:
            raise EstimationError(
                f"a joint test of {q} coefficients needs more than {q} clusters (have "
                f"{n_clusters}): use fewer leads (or wider bins)."
            )
        wald = float(b @ np.linalg.solve(cov, b))
        f = wald / q
        return {
            "statistic": f,
            "df_num": float(q),
            "df_denom": float(n_clusters - 1),
            "p_value": float(stats.f.sf(f, q, n_clusters - 1)),
            "wald": wald,
        }


def linear_response(panel: DiDPanel, per: float) -> np.ndarray:
    """The linear model's response: the outcome, or ``outcome / exposure * per`` (a rate)."""
    if panel.exposure is None:
        return panel.y.copy()
    return panel.y / panel.exposure * per


def log_offset(panel: DiDPanel) -> np.ndarray:
    """``log(exposure)``, or zeros without an exposure."""
    if panel.exposure is None:
        return np.zeros(panel.n_obs)
    return np.log(panel.exposure)


def time_dummies(panel: DiDPanel) -> np.ndarray:
    """``(N, T - 1)`` period indicators, the first period left out."""
    out = np.zeros((panel.n_obs, panel.n_periods - 1))
    rows = panel.time > 0
    out[np.flatnonzero(rows), panel.time[rows] - 1] = 1.0
    return out


def unit_dummies(panel: DiDPanel) -> np.ndarray:
    """``(N, G)`` unit indicators."""
    out = np.zeros((panel.n_obs, panel.n_units))
    out[np.arange(panel.n_obs), panel.unit] = 1.0
    return out


def within_unit(panel: DiDPanel, values: np.ndarray) -> np.ndarray:
    """Deviations from unit means (the projection off unit fixed effects, any balance)."""
    values = np.asarray(values, dtype=float)
    counts = np.bincount(panel.unit, minlength=panel.n_units).astype(float)
    if values.ndim == 1:
        means = np.bincount(panel.unit, weights=values, minlength=panel.n_units) / counts
        return values - means[panel.unit]
    sums = np.zeros((panel.n_units, values.shape[1]))
    np.add.at(sums, panel.unit, values)
    return values - (sums / counts[:, None])[panel.unit]


def wild_design(
    panel: DiDPanel, y: np.ndarray, regressors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(y, X)`` of the two-way model with unit effects partialled out, for the bootstrap.

    Unit effects are nested in the clusters, so partialling them out leaves every wild
    bootstrap statistic unchanged; period effects are not, so they stay as columns (after the
    regressors, whose positions are kept).
    """
    X = np.column_stack([np.atleast_2d(regressors.T).T, time_dummies(panel)])
    return within_unit(panel, y), within_unit(panel, X)


def fit_linear(
    panel: DiDPanel, y: np.ndarray, regressors: pd.DataFrame
) -> tuple[Any, Coefficients]:
    """Two-way fixed effects by linearmodels' ``PanelOLS``, covariance clustered by unit.

    Returns the linearmodels result and the regressors' coefficients.
    """
    # Imported here: linearmodels takes a tenth of a second or more to load, and only the
    # linear TWFE and event-study fits use it (not the demo's designs).
    from linearmodels import PanelOLS

    index = pd.MultiIndex.from_arrays(
        [panel.unit, panel.clock.astype(np.int64)], names=["unit", "period"]
    )
    exog = regressors.set_axis(index)
    try:
        res = PanelOLS(
            pd.Series(y, index=index, name="y"), exog, entity_effects=True, time_effects=True
        ).fit(cov_type="clustered", cluster_entity=True)
    except Exception as error:  # linearmodels raises its own types for absorbed regressors
        raise EstimationError(
            f"the two-way fixed effects fit failed ({error}); a regressor may be absorbed by the "
            "unit or period effects (e.g. every unit adopts in the same period)."
        ) from None
    names = tuple(regressors.columns)
    params = res.params.loc[list(names)].to_numpy(dtype=float)
    cov = res.cov.loc[list(names), list(names)].to_numpy(dtype=float)
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(cov))):
        raise EstimationError("the two-way fixed effects fit gave non-finite coefficients.")
    return res, Coefficients(names, params, cov, float(res.df_resid))


def poisson_design(panel: DiDPanel, regressors: np.ndarray) -> np.ndarray:
    """``[regressors, unit dummies, period dummies (first left out)]`` for the Poisson fit."""
    return np.column_stack(
        [np.atleast_2d(regressors.T).T, unit_dummies(panel), time_dummies(panel)]
    )


def check_poisson(panel: DiDPanel) -> None:
    """Counts must be non-negative, and every unit and period needs some events."""
    if (panel.y < 0).any():
        raise EstimationError(
            f"a Poisson model needs counts >= 0; {panel.outcome_name} has negatives."
        )
    for codes, n, what, label in (
        (panel.unit, panel.n_units, "unit", lambda i: panel.units[i]),
        (
            panel.time,
            panel.n_periods,
            "period",
            lambda i: panel.period_label(float(panel.clocks[i])),
        ),
    ):
        totals = np.bincount(codes, weights=panel.y, minlength=n)
        if (totals <= 0).any():
            first = int(np.argmax(totals <= 0))
            raise EstimationError(
                f"{what} {label(first)} has no events of {panel.outcome_name}; its fixed effect "
                "is minus infinity. Drop it, or use family='linear'."
            )


def fit_poisson(
    panel: DiDPanel,
    exog: np.ndarray,
    names: tuple[str, ...],
    offset: np.ndarray | None = None,
    start_params: np.ndarray | None = None,
    cluster: bool = True,
) -> tuple[Any, Coefficients]:
    """Poisson GLM by statsmodels with covariance clustered by unit (CR1, normal reference).

    ``exog`` is :func:`poisson_design`'s matrix; ``names`` label its first columns.
    """
    check_poisson(panel)
    offset = log_offset(panel) if offset is None else offset
    kwargs: dict[str, Any] = (
        {"cov_type": "cluster", "cov_kwds": {"groups": panel.unit}} if cluster else {}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = GLM(panel.y, exog, family=families.Poisson(), offset=offset).fit(
            start_params=start_params, maxiter=200, **kwargs
        )
    k = len(names)
    params = np.asarray(res.params, dtype=float)
    if not getattr(res, "converged", True) or not np.all(np.isfinite(params)):
        raise EstimationError(
            "the Poisson fixed effects fit did not converge; check for units or periods with "
            "almost no events, or use family='linear'."
        )
    cov = np.asarray(res.cov_params(), dtype=float)[:k, :k] if cluster else np.full((k, k), np.nan)
    return res, Coefficients(names, params[:k], cov, None)


class TwoWayProjector:
    """Residuals off unit and period effects, for re-estimating under many assignments.

    One QR factorisation of the dummies, then ``M v = v - Q (Q' v)`` for any columns ``v``;
    exact for unbalanced panels too.
    """

    def __init__(self, panel: DiDPanel) -> None:
        dummies = np.column_stack([unit_dummies(panel), time_dummies(panel)])
        self._q, _ = np.linalg.qr(dummies)

    def residual(self, values: np.ndarray) -> np.ndarray:
        return values - self._q @ (self._q.T @ values)
