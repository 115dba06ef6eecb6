"""An interrupted time series' post-period totals for the whole-system ledger.

The ledger reads every outcome's change over the post months (counterfactual minus observed)
with its standard error and each fitted month's influence on the counterfactual total, which
correlates the outcomes (see :mod:`evaltk.verdict.ledger`). The comparative ITS gets them from
its estimator (:class:`~evaltk.estimators.did.results.PostTotals`); an ITS from its model here:
for bread ``B = (sum_t w_t x_t x_t')^-1``, score ``s_t = x_t (y_t - mu_t) / v_t`` (for the GLS
model, least-squares scores of the whitened months) and gradient ``g`` of the post-period
counterfactual total, the influence of month ``t`` is ``s_t' B g``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaltk.estimate.total_change import TotalChange, effect_total
from evaltk.estimators.did.results import PostTotals
from evaltk.estimators.effect import Effect, critical_value
from evaltk.estimators.its import ITSModel, ITSResult


def its_post_totals(model: ITSModel, result: ITSResult) -> PostTotals:
    """Events (or minutes) averted over the post months, their standard error (from the
    model's interval of the total, at the level and reference it was built with) and the
    month influences."""
    cumulative = result.cumulative
    df = result.effect.df
    z = critical_value(result.spec.level, df)  # the quantile the model built its interval with
    sd = (cumulative.averted_ci_high - cumulative.averted_ci_low) / (2 * z)
    return PostTotals(
        averted=float(cumulative.averted),
        sd=float(sd),
        df=df,
        months=int(cumulative.months),
        month_influence=month_influence(model, result),
    )


def month_influence(model: ITSModel, result: ITSResult) -> pd.Series:
    """Influence of each fitted month on the outcome's post-period counterfactual total."""
    family = result.spec.family
    design = model.design
    rows = design.in_fit
    x = design.exog.to_numpy()[rows]
    y = design.y[rows]
    params = result.params.to_numpy()
    offset = design.offset[rows] if design.offset is not None else 0.0
    eta = x @ params + offset
    post = design.post_sum
    x_cf = design.exog_counterfactual.to_numpy()[post]
    eta_cf = x_cf @ params + (design.offset[post] if design.offset is not None else 0.0)
    error_cov = result.error_covariance
    if error_cov is not None:
        return _whitened_month_influence(x, y, eta, x_cf, eta_cf, error_cov, family, design)
    if family == "gaussian":
        mu, weight, variance = eta, np.ones_like(eta), np.ones_like(eta)
        gradient = x_cf.sum(axis=0)
    else:
        mu = np.exp(eta)
        alpha = result.diagnostics.get("alpha") or 0.0
        variance = 1.0 + alpha * mu  # NB2 working variance / mu; 1 for Poisson
        weight = mu / variance
        gradient = (np.exp(eta_cf)[:, None] * x_cf).sum(axis=0)
    bread = np.linalg.pinv((x * weight[:, None]).T @ x)
    scores = x * ((y - mu) / variance)[:, None]
    return pd.Series(scores @ bread @ gradient, index=design.periods[rows])


def _whitened_month_influence(
    x: np.ndarray,
    y: np.ndarray,
    eta: np.ndarray,
    x_cf: np.ndarray,
    eta_cf: np.ndarray,
    error_cov: np.ndarray,
    family: str,
    design: Any,
) -> pd.Series:
    """Month influence for the GLS model: its estimating function is that of least squares
    on data whitened by the Cholesky factor ``L`` of the error covariance (``L L' = Sigma``),
    so the influence of (whitened) month ``t`` is ``e*_t x*_t' (X*' X*)^-1 g``."""
    chol = np.linalg.cholesky(error_cov)
    response = y if family == "gaussian" else np.log(y)
    x_white = np.linalg.solve(chol, x)
    resid_white = np.linalg.solve(chol, response - eta)
    if family == "gaussian":
        gradient = x_cf.sum(axis=0)
    else:
        gradient = (np.exp(eta_cf)[:, None] * x_cf).sum(axis=0)
    bread = np.linalg.pinv(x_white.T @ x_white)
    influence = (x_white * resid_white[:, None]) @ bread @ gradient
    return pd.Series(influence, index=design.periods[design.in_fit])


def its_total_change(model: ITSModel, result: ITSResult) -> TotalChange | None:
    """The ITS's change over the post months as implied by its effect: for a log link the
    ratio of post-period totals (fitted over counterfactual, the relative effect, equal to the
    level change when there is no slope change) on the fitted total; for the identity
    link the difference of the totals itself (``amount`` 1)."""
    cumulative = result.cumulative
    if result.spec.family != "gaussian":
        relative = result.relative_effect
        ratio = Effect(
            term="post_period_ratio",
            estimate=1.0 + relative.estimate,
            ci_low=1.0 + relative.ci_low,
            ci_high=1.0 + relative.ci_high,
            p_value=relative.p_value,
            scale="ratio",
            std_error=relative.std_error,
            level=relative.level,
            df=relative.df,
        )
        # The model's post-period total with the scheme (fitted, = counterfactual x ratio).
        fitted = cumulative.counterfactual * ratio.estimate
        return effect_total(ratio, fitted, cumulative.months, month_influence(model, result))
    difference = Effect(
        term="post_period_difference",
        estimate=-cumulative.averted_model,
        ci_low=-cumulative.averted_model_ci_high,
        ci_high=-cumulative.averted_model_ci_low,
        p_value=cumulative.averted_model_p_value,
        scale="difference",
        std_error=float("nan"),
        level=cumulative.level,
        df=result.effect.df,
    )
    return effect_total(difference, 1.0, cumulative.months, month_influence(model, result))
