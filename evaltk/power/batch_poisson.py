r"""The Poisson two-way fixed effects DiD of every replicate of a balanced panel at once.

:class:`~evaltk.estimators.did.TWFEModel` with ``family="poisson"`` fits statsmodels' ``GLM``
on ``[D, unit dummies, period dummies (first left out)]`` with the ``log(exposure)`` offset
and covariance clustered by unit. On a balanced panel the information matrix of that design
has a fixed sparsity (a unit's dummy meets a period's dummy in one cell), so it is built here
from the fitted means directly, ``(R, k, k)`` for ``k = regressors + units + months - 1``,
and Newton's method runs on all replicates together; the regressors are the treatment
indicator (TWFE) or the event-time bins (event study,
:class:`~evaltk.estimators.did.EventStudyModel`); ``tests/power/test_did_models.py`` checks
estimates, standard errors and p-values against both models.

The exposure is one population per force (constant over the months), as the power simulation
draws it: its log is absorbed by the unit effects and changes no estimate, so it is left out.
Under that model the fit with no regressors (where Newton's method starts, and the restricted
fit of the TWFE's score bootstrap) has the closed form of a two-way table's independence model,
:math:`\tilde\mu_{it} = y_{i\cdot} y_{\cdot t} / y_{\cdot\cdot}`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from evaltk.estimators.did.inference import reparametrize

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


def _as_regressors(d: np.ndarray) -> np.ndarray:
    """Regressors as ``(p, G, T)``: one treatment indicator ``(G, T)`` becomes ``p = 1``."""
    return d[None] if d.ndim == 2 else d


def information(mu: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``X' diag(mu) X`` for ``X = [regressors, unit dummies, month dummies 1..T-1]``,
    ``(R, k, k)``; ``X`` holds the regressors, ``(p, G, T)`` (or one ``(G, T)``)."""
    X = _as_regressors(X)
    r, g, t = mu.shape
    p = X.shape[0]
    k = p + g + t - 1
    out = np.zeros((r, k, k))
    xm = mu[:, None] * X[None]  # (R, p, G, T)
    units, months = slice(p, p + g), slice(p + g, k)
    out[:, :p, :p] = np.einsum("rpgt,qgt->rpq", xm, X)
    out[:, :p, units] = xm.sum(axis=3)
    out[:, :p, months] = xm.sum(axis=2)[:, :, 1:]
    diag_u = np.arange(p, p + g)
    diag_t = np.arange(p + g, k)
    out[:, diag_u, diag_u] = mu.sum(axis=2)
    out[:, diag_t, diag_t] = mu.sum(axis=1)[:, 1:]
    out[:, units, months] = mu[:, :, 1:]
    upper = np.triu_indices(k, 1)
    out[:, upper[1], upper[0]] = out[:, upper[0], upper[1]]
    return out


def _gradient(resid: np.ndarray, X: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [np.einsum("rgt,pgt->rp", resid, X), resid.sum(axis=2), resid.sum(axis=1)[:, 1:]],
        axis=1,
    )


def _linear_predictor(params: np.ndarray, X: np.ndarray) -> np.ndarray:
    p, g = X.shape[0], X.shape[1]
    months = np.concatenate([np.zeros((len(params), 1)), params[:, p + g :]], axis=1)
    return (
        np.einsum("rp,pgt->rgt", params[:, :p], X) + params[:, p : p + g, None] + months[:, None, :]
    )


def _blocks(mu: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The blocks of :func:`information`: regressors and units ``(R, m, m)``, their cross with
    the months ``(R, m, T - 1)``, and the months' diagonal ``(R, T - 1)``."""
    p, g = X.shape[0], mu.shape[1]
    m = p + g
    xm = mu[:, None] * X[None]  # (R, p, G, T)
    a = np.zeros((len(mu), m, m))
    a[:, :p, :p] = np.einsum("rpgt,qgt->rpq", xm, X)
    a[:, :p, p:] = xm.sum(axis=3)
    a[:, p:, :p] = np.swapaxes(a[:, :p, p:], 1, 2)
    units = np.arange(p, m)
    a[:, units, units] = mu.sum(axis=2)
    b = np.concatenate([xm.sum(axis=2)[:, :, 1:], mu[:, :, 1:]], axis=1)
    return a, b, mu.sum(axis=1)[:, 1:]


def _newton_step(mu: np.ndarray, X: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """``information^-1 gradient`` per replicate, the month effects eliminated first: their
    block of the information is diagonal, so only the regressors and units need a dense solve
    (the Schur complement), a fraction of the work of solving the whole system."""
    a, b, diag = _blocks(mu, X)
    m = a.shape[1]
    g1, g2 = gradient[:, :m], gradient[:, m:]
    scaled = b / diag[:, None, :]
    schur = a - np.einsum("rit,rjt->rij", scaled, b)
    x1 = np.linalg.solve(schur, (g1 - np.einsum("rit,rt->ri", scaled, g2))[:, :, None])[:, :, 0]
    x2 = (g2 - np.einsum("rit,ri->rt", b, x1)) / diag
    return np.concatenate([x1, x2], axis=1)


def _fittable(y: np.ndarray) -> np.ndarray:
    # Every unit and every month needs some events, or its effect is minus infinity (the
    # analysis refuses such data: check_poisson).
    return np.all(y.sum(axis=2) > 0, axis=1) & np.all(y.sum(axis=1) > 0, axis=1)


def newton(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson MLE of ``[regressors, unit effects, month effects]`` for every replicate:
    parameters ``(R, k)``, fitted means ``(R, G, T)`` and whether each converged.

    Newton's method from the fit without regressors (exact, in closed form), all replicates
    together; each replicate stops moving once converged.
    """
    X = _as_regressors(X)
    r, g, t = y.shape
    p = X.shape[0]
    ok = _fittable(y)
    log0 = np.log(np.where(ok[:, None, None], restricted_means(y), 1.0))
    params = np.zeros((r, p + g + t - 1))
    params[:, p : p + g] = log0[:, :, 0]
    params[:, p + g :] = log0[:, 0, 1:] - log0[:, 0, :1]
    y_safe = np.where(ok[:, None, None], y, 1.0)
    done = ~ok
    for _ in range(MAX_STEPS):
        mu = np.exp(_linear_predictor(params, X))
        step = _newton_step(mu, X, _gradient(y_safe - mu, X))
        step[done] = 0.0
        params += step
        done |= np.max(np.abs(step), axis=1) < TOLERANCE
        if done.all():
            break
    mu = np.exp(_linear_predictor(params, X))
    return params, mu, done & ok & np.all(np.isfinite(params), axis=1)


def fit_poisson_twfe(
    y: np.ndarray, d: np.ndarray, weights: np.ndarray | None = None
) -> PoissonTWFE:
    """Poisson TWFE of ``y`` (``(R, G, T)`` counts) on the regressors ``d`` (one 0/1
    treatment ``(G, T)``, or ``(p, G, T)`` such as event-time bins); the estimate is
    ``weights @ coefficients`` (default the first), with its CR1 standard error."""
    X = _as_regressors(d)
    _, g, t = y.shape
    p = X.shape[0]
    w = np.eye(p)[0] if weights is None else np.asarray(weights, dtype=float)
    params, mu, converged = newton(y, X)
    info = information(mu, X)
    e = np.zeros(params.shape[1])
    e[:p] = w
    h = np.linalg.solve(info, np.broadcast_to(e, params.shape)[:, :, None])[:, :, 0]
    # Each unit's score projected on h: sum_t (h_reg . x_it + h_unit_i + h_month_t)(y - mu).
    xh = _linear_predictor(h, X)
    unit_scores = np.sum(xh * (np.where(converged[:, None, None], y, mu) - mu), axis=2)
    n, k = g * t, params.shape[1]
    correction = g / (g - 1) * (n - 1) / (n - k)
    se = np.sqrt(correction * np.sum(unit_scores**2, axis=1))
    estimate = params[:, :p] @ w
    p_value = 2 * stats.norm.sf(np.abs(estimate / se))
    bad = ~converged
    return PoissonTWFE(
        estimate=np.where(bad, np.nan, estimate),
        std_error=np.where(bad, np.nan, se),
        p_value=np.where(bad, np.nan, p_value),
        converged=converged,
    )


def effective_scores(
    y: np.ndarray, d: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Per replicate and unit-month, the effective score of ``weights @ coefficients`` at the
    fit restricted to zero, :math:`\tilde D_{it} (y_{it} - \tilde\mu_{it})`: what
    :class:`~evaltk.estimators.did.score_bootstrap.PoissonScoreBootstrap` sums by cluster
    after :func:`~evaltk.estimators.did.inference.reparametrize` (column ``D`` then has the
    combination as its coefficient, the other regressors adjusted); :math:`\tilde D` is the
    residual of ``D`` after the other regressors and the unit and month effects, weighted by
    :math:`\tilde\mu`. Also which replicates could be fitted.
    """
    X = _as_regressors(d)
    p, g, t = X.shape
    w = np.eye(p)[0] if weights is None else np.asarray(weights, dtype=float)
    flat, j = reparametrize(X.reshape(p, g * t).T, w)
    moved = flat.T.reshape(p, g, t)
    D, others = moved[j], np.delete(moved, j, axis=0)
    _, mu, ok = newton(y, others)
    mu = np.where(ok[:, None, None], mu, 1.0)
    info = information(mu, np.concatenate([D[None], others]))
    coef = np.linalg.solve(info[:, 1:, 1:], info[:, 1:, :1])[:, :, 0]
    q = others.shape[0]
    months = np.concatenate([np.zeros((len(y), 1)), coef[:, q + g :]], axis=1)
    fitted = (
        np.einsum("rq,qgt->rgt", coef[:, :q], others)
        + coef[:, q : q + g, None]
        + months[:, None, :]
    )
    d_tilde = D[None] - fitted
    return d_tilde * (np.where(ok[:, None, None], y, 1.0) - mu), ok
