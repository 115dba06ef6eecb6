"""Effects derived from fitted ITS coefficients and their covariance (delta method).

The covariance matrix comes from statsmodels (model-based, quasi-likelihood or HAC) or from
:mod:`evaltk.estimators.its.covariance` (AR(1) working correlation); this module only
propagates it through smooth functions of the coefficients.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from evaltk.estimators.effect import Effect, critical_value, json_float, p_value
from evaltk.estimators.its.options import Scale


@dataclass(frozen=True)
class CumulativeEffect:
    """Events averted over the post-intervention months (washout excluded).

    Attributes
    ----------
    months : int
        Number of post-intervention months summed.
    observed, fitted, counterfactual : float
        Sums of the observed values, the fitted values and the counterfactual predictions.
    averted : float
        ``counterfactual - fitted``: events that would have happened without the
        intervention but did not (negative means extra events), read off the same model as
        the effect. (For Poisson-family GLMs the fitted post-period total equals the observed
        one, so this is also counterfactual minus observed.)
    averted_ci_low, averted_ci_high : float
        The interval implied by the effect: for a log link the interval of the ratio of
        totals ``S_f / S_c`` (same coefficients, covariance and critical value as
        :func:`relative_effect`, which equals the level change when there is no slope change)
        mapped onto the counterfactual total, ``S_c (1 - ratio)``; for the identity link the
        delta-method interval of ``S_c - S_f``. It therefore agrees in sign and significance
        with the effect's interval.
    averted_model : float
        ``counterfactual - fitted`` (the same as ``averted``).
    averted_model_ci_low, averted_model_ci_high, averted_model_p_value : float
        Delta-method interval (symmetric on the count scale) and Wald p-value for
        ``averted_model``.
    level : float
        Confidence level.
    """

    months: int
    observed: float
    fitted: float
    counterfactual: float
    averted: float
    averted_ci_low: float
    averted_ci_high: float
    averted_model: float
    averted_model_ci_low: float
    averted_model_ci_high: float
    averted_model_p_value: float
    level: float

    @property
    def ci(self) -> tuple[float, float]:
        """Interval for ``averted``."""
        return (self.averted_ci_low, self.averted_ci_high)

    def to_dict(self) -> dict[str, Any]:
        return {k: json_float(v) for k, v in asdict(self).items()}


def coefficient_effect(
    term: str,
    coef: float,
    se: float,
    level: float,
    scale: Scale,
    multiplier: float = 1.0,
    df: float | None = None,
) -> Effect:
    """Effect of ``multiplier * coef``: ``exp`` of it on the ratio scale, itself otherwise."""
    z = critical_value(level, df)
    b, s = multiplier * coef, abs(multiplier) * se
    low, high = b - z * s, b + z * s
    p = p_value(b, s, df)
    if scale == "ratio":
        b, low, high = np.exp(b), np.exp(low), np.exp(high)
    return Effect(term, float(b), float(low), float(high), p, scale, float(s), level, df)


def linear_predictor_band(
    x: np.ndarray,
    params: np.ndarray,
    cov: np.ndarray,
    offset: np.ndarray,
    level: float,
    log: bool,
    df: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and pointwise interval from the linear predictor ``x @ params + offset``.

    The interval is ``eta +/- z * sqrt(diag(x V x'))``, mapped through ``exp`` for a log link.
    """
    eta = x @ params + offset
    se = np.sqrt(np.einsum("ij,jk,ik->i", x, cov, x))
    z = critical_value(level, df)
    low, high = eta - z * se, eta + z * se
    if log:
        return np.exp(eta), np.exp(low), np.exp(high)
    return eta, low, high


def cumulative_effect(
    x: np.ndarray,
    x_cf: np.ndarray,
    params: np.ndarray,
    cov: np.ndarray,
    offset: np.ndarray,
    observed: np.ndarray,
    level: float,
    log: bool,
    df: float | None = None,
) -> CumulativeEffect:
    """Sums over the rows given (the post months after washout) with delta-method intervals.

    Notes
    -----
    With ``mu_t = g^{-1}(x_t b + o_t)`` and ``c_t`` the same with the effect terms zeroed,
    ``S_c = sum c_t`` and ``S_f = sum mu_t``. The gradients are ``d S_c / d b = sum c_t x^c_t``
    (log link; ``sum x^c_t`` for identity) and likewise for ``S_f``. Then
    ``Var(S_c) = g_c' V g_c`` and ``Var(S_c - S_f) = (g_c - g_f)' V (g_c - g_f)``, with ``V``
    the parameter covariance. Intervals are symmetric normal on the count scale.
    """
    fitted, grad_f = _sum_and_gradient(x, params, offset, log)
    counter, grad_c = _sum_and_gradient(x_cf, params, offset, log)
    z = critical_value(level, df)
    diff_grad = grad_c - grad_f
    se_d = _quad_se(diff_grad, cov)
    obs = float(observed.sum())
    averted_model = counter - fitted
    if log and fitted > 0 and counter > 0:
        theta = np.log(fitted) - np.log(counter)
        se_theta = _quad_se(grad_f / fitted - grad_c / counter, cov)
        low = -counter * np.expm1(theta + z * se_theta)
        high = -counter * np.expm1(theta - z * se_theta)
    else:
        low, high = averted_model - z * se_d, averted_model + z * se_d
    return CumulativeEffect(
        months=int(x.shape[0]),
        observed=obs,
        fitted=fitted,
        counterfactual=counter,
        averted=averted_model,
        averted_ci_low=float(low),
        averted_ci_high=float(high),
        averted_model=averted_model,
        averted_model_ci_low=averted_model - z * se_d,
        averted_model_ci_high=averted_model + z * se_d,
        averted_model_p_value=p_value(averted_model, se_d, df),
        level=level,
    )


def relative_effect(
    x: np.ndarray,
    x_cf: np.ndarray,
    params: np.ndarray,
    cov: np.ndarray,
    offset: np.ndarray,
    level: float,
    log: bool,
    df: float | None = None,
) -> Effect:
    """``S_f / S_c - 1`` over the rows given, with a delta-method interval.

    Notes
    -----
    For a log link the interval is built for ``log(S_f) - log(S_c)``, whose gradient is
    ``g_f / S_f - g_c / S_c``, and mapped back through ``exp(.) - 1`` (it stays above -1).
    For the identity link it is built for ``S_f / S_c`` directly, gradient
    ``g_f / S_c - S_f g_c / S_c**2``. The p-value tests ``S_f = S_c``.
    """
    fitted, grad_f = _sum_and_gradient(x, params, offset, log)
    counter, grad_c = _sum_and_gradient(x_cf, params, offset, log)
    z = critical_value(level, df)
    nan = float("nan")
    if log:
        theta = np.log(fitted) - np.log(counter)
        se = _quad_se(grad_f / fitted - grad_c / counter, cov)
        low, high = theta - z * se, theta + z * se
        return Effect(
            "relative_effect",
            float(np.expm1(theta)),
            float(np.expm1(low)),
            float(np.expm1(high)),
            p_value(theta, se, df),
            "relative",
            se,
            level,
            df,
        )
    if counter <= 0:
        return Effect("relative_effect", nan, nan, nan, nan, "relative", nan, level, df)
    ratio = fitted / counter
    se = _quad_se(grad_f / counter - fitted * grad_c / counter**2, cov)
    return Effect(
        "relative_effect",
        ratio - 1.0,
        ratio - 1.0 - z * se,
        ratio - 1.0 + z * se,
        p_value(ratio - 1.0, se, df),
        "relative",
        se,
        level,
        df,
    )


def _sum_and_gradient(
    x: np.ndarray, params: np.ndarray, offset: np.ndarray, log: bool
) -> tuple[float, np.ndarray]:
    eta = x @ params + offset
    if log:
        mu = np.exp(eta)
        return float(mu.sum()), mu @ x
    return float(eta.sum()), x.sum(axis=0)


def _quad_se(grad: np.ndarray, cov: np.ndarray) -> float:
    return float(np.sqrt(max(float(grad @ cov @ grad), 0.0)))
