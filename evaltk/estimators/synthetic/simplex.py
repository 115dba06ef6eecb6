"""Weights on the simplex by Frank-Wolfe: the regularised least squares of synthetic DiD.

Arkhangelsky et al. (2021) fit both the unit weights (omega) and the time weights (lambda) as

    min over x in the simplex of  ||A_c x - b_c||^2 / n + zeta^2 ||x||^2

where ``A_c`` and ``b_c`` are ``A`` and ``b`` with their column means removed when an
intercept is allowed (the weights then match the target up to a constant shift, as a
difference-in-differences does) and ``n`` is the number of rows. The R package ``synthdid``
solves it by Frank-Wolfe steps with an exact line search, first for a few iterations, then
again from the "sparsified" solution (weights below a quarter of the largest set to zero).
The same steps are taken here so that the point estimates agree with that package to the
digits it is published with; a generic quadratic-programme solver would reach a slightly
different point of the same (flat) optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


@dataclass(frozen=True)
class SimplexFit:
    """Weights on the simplex and the objective at each Frank-Wolfe iteration."""

    weights: Array
    objective: Array

    @property
    def iterations(self) -> int:
        return int(self.objective.size)


def sparsify(weights: Array) -> Array:
    """Weights at or below a quarter of the largest set to zero, the rest rescaled to sum to
    one (``synthdid``'s default between its two runs)."""
    out = np.where(weights <= weights.max() / 4.0, 0.0, weights)
    return out / out.sum()


def normalise(weights: Array) -> Array:
    """Weights rescaled to sum to one; uniform when they sum to zero (a start, never a fit)."""
    total = weights.sum()
    if total == 0:
        return np.full(weights.size, 1.0 / weights.size)
    return weights / total


def frank_wolfe(
    a: Array,
    b: Array,
    zeta: float,
    *,
    intercept: bool,
    start: Array | None = None,
    min_decrease: float,
    max_iter: int,
) -> SimplexFit:
    """Minimise ``||A x - b||^2 / n + zeta^2 ||x||^2`` over the simplex by Frank-Wolfe.

    Parameters
    ----------
    a : array (n, k)
        One column per weight.
    b : array (n,)
        The target.
    zeta : float
        Ridge penalty (on the scale of the outcome).
    intercept : bool
        Remove column means first (weights match ``b`` up to a constant).
    start : array (k,), optional
        Starting weights; uniform by default.
    min_decrease : float
        Stop when the objective falls by less than ``min_decrease ** 2`` in one step.
    max_iter : int
        At most this many steps.

    Returns
    -------
    SimplexFit
    """
    y = np.column_stack([a, b]).astype(float)
    if intercept:
        y = y - y.mean(axis=0)
    a_c, b_c = y[:, :-1], y[:, -1]
    n, k = a_c.shape
    x = np.full(k, 1.0 / k) if start is None else np.asarray(start, dtype=float).copy()
    eta = n * zeta**2
    # Everything through the Gram matrix G = A'A and scalars updated along the step, so that
    # one step costs a few length-k operations whatever n: a step moves x towards the vertex
    # e_i, x' = (1 - s) x + s e_i, hence G x' = (1 - s) G x + s G_i, and x'x, x'Gx and c'x
    # follow in closed form.
    gram, cross, bb = a_c.T @ a_c, a_c.T @ b_c, float(b_c @ b_c)
    diag = np.diag(gram).copy()
    gx = gram @ x
    xx, xgx, cx = float(x @ x), float(x @ gx), float(cross @ x)
    values: list[float] = []
    while len(values) < max_iter and (len(values) < 2 or values[-2] - values[-1] > min_decrease**2):
        half_grad = gx - cross + eta * x
        i = int(np.argmin(half_grad))
        xi = float(x[i])
        if xi != 1.0:
            # Direction d = e_i - x: |A d|^2 = G_ii - 2 (Gx)_i + x'Gx, |d|^2 = 1 - 2 x_i + x'x,
            # and the gradient along d is half_grad_i - half_grad . x.
            gxi = float(gx[i])
            d_err = float(diag[i]) - 2.0 * gxi + xgx
            d_len = 1.0 - 2.0 * xi + xx
            slope = float(half_grad[i]) - float(half_grad @ x)
            step = min(1.0, max(0.0, -slope / (d_err + eta * d_len)))
            keep = 1.0 - step
            xx = keep * keep * xx + 2.0 * step * keep * xi + step * step
            xgx = keep * keep * xgx + 2.0 * step * keep * gxi + step * step * float(diag[i])
            cx = keep * cx + step * float(cross[i])
            x = keep * x
            x[i] += step
            gx = keep * gx + step * gram[:, i]
        values.append(zeta**2 * xx + (xgx - 2.0 * cx + bb) / n)
    return SimplexFit(weights=x, objective=np.asarray(values))


def two_stage(
    a: Array,
    b: Array,
    zeta: float,
    *,
    intercept: bool,
    start: Array | None,
    min_decrease: float,
    max_iter: int,
    max_iter_before_sparsify: int = 100,
) -> SimplexFit:
    """``synthdid``'s fit: a short Frank-Wolfe run, :func:`sparsify`, then a full run from
    there (sparser weights at an objective as low)."""
    first = frank_wolfe(
        a,
        b,
        zeta,
        intercept=intercept,
        start=start,
        min_decrease=min_decrease,
        max_iter=max_iter_before_sparsify,
    )
    return frank_wolfe(
        a,
        b,
        zeta,
        intercept=intercept,
        start=sparsify(first.weights),
        min_decrease=min_decrease,
        max_iter=max_iter,
    )
