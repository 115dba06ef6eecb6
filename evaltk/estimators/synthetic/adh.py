"""The synthetic control of Abadie, Diamond & Hainmueller (2010), with predictor weights.

Donor weights ``W`` on the simplex minimise the distance between the treated unit's
predictors and the donors' weighted predictors, ``(X1 - X0 W)' V (X1 - X0 W)``, where each
predictor is first divided by its standard deviation across all units and ``V`` is a
diagonal of non-negative predictor weights summing to one. ``V`` itself is chosen to
minimise the mean squared prediction error of the outcome over the pre periods (the nested
optimisation of the paper and of R/Stata ``Synth``). Without predictors the weights
minimise that pre-period error directly.

The inner problem (``W`` given ``V``) is solved exactly by non-negative least squares with
the adding-up constraint imposed as a heavily weighted extra row; the outer problem (``V``)
is not convex, so Nelder-Mead on ``log V`` is started from equal weights, from each
predictor in turn dominating, and from seeded random points, and the best optimum is kept.
pysyncon 1.7.0 implements the same model, but its outer search (Nelder-Mead or BFGS from one
start, with an SLSQP inner solve) stops at pre-period errors of 3.86 to 33.9 on Proposition
99 and does not reproduce the published weights, which sit at 3.08; see ARCHITECTURE.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize, nnls

from evaltk.estimators.synthetic.data import SyntheticData

Array = NDArray[np.float64]


@dataclass(frozen=True)
class SCOptions:
    """How the predictor weights are searched for.

    Attributes
    ----------
    random_starts : int
        Seeded random starting points of the outer search, beyond equal weights and one
        start per predictor.
    seed : int
        Seed of those starts (the fit is deterministic).
    max_iter : int
        Nelder-Mead iterations per start.
    """

    random_starts: int = 8
    seed: int = 2010
    max_iter: int = 4000


@dataclass(frozen=True)
class SCFit:
    """An ADH synthetic control on one data set.

    Attributes
    ----------
    estimate : float
        Mean gap (treated minus synthetic) over the post periods.
    weights : numpy.ndarray
        Donor weights (sum to one).
    v : numpy.ndarray or None
        Predictor weights (sum to one), None without predictors.
    gaps : numpy.ndarray
        Treated minus synthetic, every period.
    pre_mspe : float
        Mean squared gap over the pre periods (what ``V`` minimises).
    """

    estimate: float
    weights: Array
    v: Array | None
    gaps: Array
    pre_mspe: float


def simplex_least_squares(a: Array, b: Array) -> Array:
    """``argmin ||a w - b||`` over ``w >= 0, sum(w) = 1``, by NNLS with the adding-up
    constraint as an extra row weighted far above the data (so it holds to rounding)."""
    big = 1e4 * (1.0 + float(np.abs(a).max()))
    a_aug = np.vstack([a, np.full(a.shape[1], big)])
    b_aug = np.concatenate([b, [big]])
    w, _ = nnls(a_aug, b_aug, maxiter=50 * a.shape[1])
    return np.asarray(w / w.sum(), dtype=float)


def scaled_predictors(x: Array) -> Array:
    """Each predictor divided by its standard deviation across all units (as ``Synth``)."""
    sd = x.std(axis=1, ddof=1, keepdims=True)
    return x / np.where(sd > 0, sd, 1.0)


def fit_sc(data: SyntheticData, options: SCOptions | None = None) -> SCFit:
    """The ADH synthetic control of ``data`` (its predictors if it has any)."""
    options = options or SCOptions()
    n0, t0 = data.n_donors, data.n_pre
    z0, z1 = data.y[:n0, :t0].T, data.y[n0, :t0]
    v: Array | None = None
    if data.x is None:
        w = simplex_least_squares(z0, z1)
    else:
        v, w = _nested(scaled_predictors(data.x), z0, z1, options)
    gaps = data.y[n0] - w @ data.y[:n0]
    return SCFit(
        estimate=float(gaps[t0:].mean()),
        weights=w,
        v=v,
        gaps=gaps,
        pre_mspe=float(np.mean(gaps[:t0] ** 2)),
    )


def _nested(x: Array, z0: Array, z1: Array, options: SCOptions) -> tuple[Array, Array]:
    # Outer search over V (log scale, so it stays positive), inner exact solve for W.
    x0, x1 = x[:, :-1], x[:, -1]
    k = x.shape[0]

    def weights(theta: Array) -> tuple[Array, Array]:
        v = np.exp(theta - theta.max())
        v = v / v.sum()
        root = np.sqrt(v)
        return v, simplex_least_squares(root[:, None] * x0, root * x1)

    def loss(theta: Array) -> float:
        _, w = weights(theta)
        return float(np.mean((z1 - z0 @ w) ** 2))

    rng = np.random.default_rng(options.seed)
    starts = [np.zeros(k), *(4.0 * np.eye(k)), *rng.normal(0.0, 2.0, (options.random_starts, k))]
    best_theta, best_loss = starts[0], loss(starts[0])
    for start in starts:
        found = minimize(
            loss,
            start,
            method="Nelder-Mead",
            options={"maxiter": options.max_iter, "xatol": 1e-6, "fatol": 1e-10},
        )
        if found.fun < best_loss - 1e-12:
            best_theta, best_loss = found.x, float(found.fun)
    return weights(np.asarray(best_theta, dtype=float))
