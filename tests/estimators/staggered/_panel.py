"""A small staggered-adoption panel with known effects, shared by the staggered tests.

DGP, for unit i in periods t = 1..T with cohort G_i (0 = never treated):

    y_it = a_i + 0.1 t + beta * x_i * t + tau(G_i, t) * 1{t >= G_i} + e_it,
    tau(g, t) = 1 + 0.1 (t - g),   a_i, x_i, e_it ~ N(0, 1) independent,

with P(G = g | x) proportional to exp(gamma * x * s_g), s_g = +1 for treated cohorts and 0
for never treated. With ``beta = gamma = 0`` parallel trends hold unconditionally; with both
non-zero they hold only given x (units with high x both trend up faster and are treated more
often), so estimators without x are biased and those with x are not.

The true ATT(g,t) is tau(g,t) (effects do not vary with x within a cohort), and the true
simple aggregate weights post-treatment cells by the population cohort shares
P(G = g) = E[P(G = g | x)], computed by Gauss-Hermite quadrature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def tau(g: float, t: float) -> float:
    return 1.0 + 0.1 * (t - g)


def cohort_probabilities(
    x: np.ndarray, cohorts: tuple[int, ...], shares: tuple[float, ...], gamma: float
) -> np.ndarray:
    """P(G = g | x) for each x (rows) and cohort (columns, in ``cohorts`` order)."""
    logits = np.log(np.asarray(shares))[None, :] + gamma * np.outer(
        x, [0.0 if g == 0 else 1.0 for g in cohorts]
    )
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def simulate(
    rng: np.random.Generator,
    n: int = 200,
    periods: int = 6,
    cohorts: tuple[int, ...] = (0, 3, 4, 5),
    shares: tuple[float, ...] = (0.4, 0.2, 0.2, 0.2),
    beta: float = 0.0,
    gamma: float = 0.0,
) -> pd.DataFrame:
    """A balanced long panel: columns ``id, t, g, y, x``."""
    x = rng.normal(size=n)
    prob = cohort_probabilities(x, cohorts, shares, gamma)
    u = rng.random(n)[:, None]
    g = np.asarray(cohorts)[(u > np.cumsum(prob, axis=1)).sum(axis=1)]
    t = np.arange(1, periods + 1)
    treated = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    effect = np.where(treated, 1.0 + 0.1 * (t[None, :] - g[:, None]), 0.0)
    y = (
        rng.normal(size=n)[:, None]
        + 0.1 * t[None, :]
        + beta * x[:, None] * t[None, :]
        + effect
        + rng.normal(size=(n, periods))
    )
    return pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), periods),
            "t": np.tile(t, n),
            "g": np.repeat(g, periods),
            "y": y.ravel(),
            "x": np.repeat(x, periods),
        }
    )


def true_simple_att(
    periods: int = 6,
    cohorts: tuple[int, ...] = (0, 3, 4, 5),
    shares: tuple[float, ...] = (0.4, 0.2, 0.2, 0.2),
    gamma: float = 0.0,
) -> float:
    """sum_{g <= t} P(G=g) tau(g,t) / sum_{g <= t} P(G=g) over treated cohorts."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    pg = cohort_probabilities(nodes, cohorts, shares, gamma).T @ (weights / weights.sum())
    num = den = 0.0
    for g, p in zip(cohorts, pg, strict=True):
        if g == 0:
            continue
        for t in range(g, periods + 1):
            num += p * tau(g, t)
            den += p
    return num / den
