r"""The Poisson two-way fixed effects DiD of every replicate of a balanced panel at once.

:class:`~evaltk.estimators.did.TWFEModel` with ``family="poisson"`` fits statsmodels' ``GLM``
on ``[D, unit dummies, period dummies (first left out)]`` with the ``log(exposure)`` offset
and covariance clustered by unit. On a balanced panel the information matrix of that design
has a fixed sparsity (a unit's dummy meets a period's dummy in one cell), so it is built here
from the fitted means directly, ``(R, k, k)`` for ``k = 1 + units + months - 1``, and Newton's
method runs on all replicates together (``tests/power/test_did_models.py`` checks estimates,
standard errors and p-values against ``TWFEModel``).

The exposure is one population per force (constant over the months), as the power simulation
draws it: its log is absorbed by the unit effects and changes no estimate, so it is left out.
Under that model the fit with ``D``'s coefficient fixed at zero (the restricted fit of the
score bootstrap) has the closed form of a two-way table's independence model,
:math:`\tilde\mu_{it} = y_{i\cdot} y_{\cdot t} / y_{\cdot\cdot}`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

#: Newton steps at most, and the change in every parameter below which a replicate has
#: converged (statsmodels' IRLS stops on the deviance; 1e-10 on the parameters is finer).
MAX_STEPS = 50
TOLERANCE = 1e-10


@dataclass(frozen=True)
class PoissonTWFE:
    """Per replicate: ``D``'s coefficient (log rate ratio), its CR1 standard error (clustered
    by unit, as statsmodels' ``cov_type="cluster"``), the two-sided normal p-value, and
    whether Newton's method converged (a unit or month with no events cannot be fitted)."""

    estimate: np.ndarray
    std_error: np.ndarray
    p_value: np.ndarray
    converged: np.ndarray


def restricted_means(y: np.ndarray) -> np.ndarray:
    """Fitted means of the unit + month effects model (``D``'s coefficient zero), ``(R, G, T)``."""
    rows = y.sum(axis=2, keepdims=True)
    cols = y.sum(axis=1, keepdims=True)
    total = y.sum(axis=(1, 2), keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return rows * cols / total


def information(mu: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``X' diag(mu) X`` for ``X = [D, unit dummies, month dummies 1..T-1]``, ``(R, k, k)``."""
    r, g, t = mu.shape
    k = 1 + g + t - 1
    out = np.zeros((r, k, k))
    dm = mu * d[None]
    units, months = slice(1, 1 + g), slice(1 + g, k)
    out[:, 0, 0] = dm.sum(axis=(1, 2))
    out[:, 0, units] = dm.sum(axis=2)
    out[:, 0, months] = dm.sum(axis=1)[:, 1:]
    diag_u = np.arange(1, 1 + g)
    diag_t = np.arange(1 + g, k)
    out[:, diag_u, diag_u] = mu.sum(axis=2)
    out[:, diag_t, diag_t] = mu.sum(axis=1)[:, 1:]
    out[:, units, months] = mu[:, :, 1:]
    upper = np.triu_indices(k, 1)
    out[:, upper[1], upper[0]] = out[:, upper[0], upper[1]]
    return out


def _gradient(resid: np.ndarray, d: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [
            (resid * d[None]).sum(axis=(1, 2))[:, None],
            resid.sum(axis=2),
            resid.sum(axis=1)[:, 1:],
        ],
        axis=1,
    )


def _linear_predictor(params: np.ndarray, d: np.ndarray) -> np.ndarray:
    g = d.shape[0]
    months = np.concatenate([np.zeros((len(params), 1)), params[:, 1 + g :]], axis=1)
    return params[:, :1, None] * d[None] + params[:, 1 : 1 + g, None] + months[:, None, :]


def fit_poisson_twfe(y: np.ndarray, d: np.ndarray) -> PoissonTWFE:
    """Poisson TWFE of ``y`` (``(R, G, T)`` counts) on the 0/1 treatment ``d`` (``(G, T)``).

    Newton's method from the restricted fit (the exact fit with no treatment effect), all
    replicates together; each replicate stops moving once converged.
    """
    r, g, t = y.shape
    mu0 = restricted_means(y)
    ok = np.all(y.sum(axis=2) > 0, axis=1) & np.all(y.sum(axis=1) > 0, axis=1)
    safe = np.where(ok[:, None, None], mu0, 1.0)
    log0 = np.log(safe)
    params = np.zeros((r, 1 + g + t - 1))
    params[:, 1 : 1 + g] = log0[:, :, 0]
    params[:, 1 + g :] = log0[:, 0, 1:] - log0[:, 0, :1]
    y_safe = np.where(ok[:, None, None], y, 1.0)
    done = ~ok
    for _ in range(MAX_STEPS):
        mu = np.exp(_linear_predictor(params, d))
        step = np.linalg.solve(information(mu, d), _gradient(y_safe - mu, d)[:, :, None])[:, :, 0]
        step[done] = 0.0
        params += step
        done |= np.max(np.abs(step), axis=1) < TOLERANCE
        if done.all():
            break
    mu = np.exp(_linear_predictor(params, d))
    converged = done & ok & np.all(np.isfinite(params), axis=1)
    info = information(mu, d)
    e0 = np.zeros(params.shape[1])
    e0[0] = 1.0
    h = np.linalg.solve(info, np.broadcast_to(e0, params.shape)[:, :, None])[:, :, 0]
    # Each unit's score projected on h: sum_t (h_0 d_it + h_unit_i + h_month_t)(y - mu).
    months = np.concatenate([np.zeros((r, 1)), h[:, 1 + g :]], axis=1)
    xh = h[:, :1, None] * d[None] + h[:, 1 : 1 + g, None] + months[:, None, :]
    unit_scores = np.sum(xh * (y_safe - mu), axis=2)
    n, k = g * t, params.shape[1]
    correction = g / (g - 1) * (n - 1) / (n - k)
    se = np.sqrt(correction * np.sum(unit_scores**2, axis=1))
    estimate = params[:, 0]
    p = 2 * stats.norm.sf(np.abs(estimate / se))
    bad = ~converged
    return PoissonTWFE(
        estimate=np.where(bad, np.nan, estimate),
        std_error=np.where(bad, np.nan, se),
        p_value=np.where(bad, np.nan, p),
        converged=converged,
    )


def effective_scores(y: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Per replicate and unit-month, the effective score of ``D``'s coefficient at the
    restricted fit, :math:`\tilde D_{it} (y_{it} - \tilde\mu_{it})` with :math:`\tilde D` the
    residual of ``D`` after the unit and month effects weighted by :math:`\tilde\mu` (what
    :class:`~evaltk.estimators.did.score_bootstrap.PoissonScoreBootstrap` sums by cluster);
    and which replicates could be fitted.
    """
    r, g, _ = y.shape
    ok = np.all(y.sum(axis=2) > 0, axis=1) & np.all(y.sum(axis=1) > 0, axis=1)
    mu = np.where(ok[:, None, None], restricted_means(y), 1.0)
    info = information(mu, d)
    coef = np.linalg.solve(info[:, 1:, 1:], info[:, 1:, :1])[:, :, 0]
    months = np.concatenate([np.zeros((r, 1)), coef[:, g:]], axis=1)
    d_tilde = d[None] - coef[:, :g, None] - months[:, None, :]
    return d_tilde * (np.where(ok[:, None, None], y, 1.0) - mu), ok
