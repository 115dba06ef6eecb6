"""The data-generating processes of the simulation checks, with known truth.

Shared by the tests (``tests/estimators/...``) and ``bench/validation_checks.py``, so that the
figures in the book's validation chapter come from the same code the tests run.

- :func:`its_series`: monthly Poisson-gamma counts with AR(1) log-noise and a known level
  rate ratio (ITS coverage without the project simulator's extras).
- :func:`staggered_panel`, :func:`true_simple_att`: a small staggered-adoption panel with
  known cohort x period effects (Callaway & Sant'Anna coverage).
- :data:`REGION`, :data:`TWELVE`, :func:`null_panel`, :func:`permuted_region`: force x month
  data with no effect from the project simulator (``evaltk.simulate``), for the size of the
  DiD tests with few forces.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaltk.simulate import ALL_FORCES, SimulationConfig, simulate_series

# -- ITS: Poisson-gamma counts with AR(1) log-noise ---------------------------------------------
#: The true level rate ratio of :func:`its_series`.
ITS_RR = 0.7


def its_series(
    seed: int, reps: int, n_pre: int, n_post: int, rho: float, sigma: float, shape: float
) -> tuple[pd.DatetimeIndex, pd.Timestamp, np.ndarray]:
    """``reps`` monthly series drawn at once from one seed: (months, start month, counts).

    ``log mu_t = log(50) + 0.002 t + 0.15 sin(2 pi m_t / 12) + 0.08 cos(4 pi m_t / 12)
    + log(0.7) L_t + e_t`` with ``e_t`` AR(1) (coefficient ``rho``, sd ``sigma``), and
    ``y_t ~ Poisson(mu_t G_t)``, ``G_t ~ Gamma(shape, 1/shape)``.
    """
    rng = np.random.default_rng(seed)
    n = n_pre + n_post
    periods = pd.date_range("2015-01-01", periods=n, freq="MS")
    t = np.arange(1, n + 1)
    m = periods.month.to_numpy()
    log_mu = (
        np.log(50.0)
        + 0.002 * t
        + 0.15 * np.sin(2 * np.pi * m / 12)
        + 0.08 * np.cos(4 * np.pi * m / 12)
        + np.log(ITS_RR) * (t > n_pre)
    )
    e = np.empty((reps, n))
    e[:, 0] = rng.standard_normal(reps) * sigma
    innovations = rng.standard_normal((reps, n)) * sigma * np.sqrt(1 - rho**2)
    for i in range(1, n):
        e[:, i] = rho * e[:, i - 1] + innovations[:, i]
    gamma = rng.gamma(shape, 1 / shape, size=(reps, n))
    return periods, periods[n_pre], rng.poisson(np.exp(log_mu + e) * gamma)


def ar1_path(rng: np.random.Generator, n: int, rho: float, sd: float) -> np.ndarray:
    """One stationary AR(1) path of ``n`` months with marginal standard deviation ``sd``
    (drawn one month at a time from ``rng``, so a seed gives the same path everywhere)."""
    out = np.empty(n)
    out[0] = rng.normal(0, sd)
    for t in range(1, n):
        out[t] = rho * out[t - 1] + rng.normal(0, sd * np.sqrt(1 - rho**2))
    return out


# -- Staggered adoption ----------------------------------------------------------------------
# For unit i in periods t = 1..T with cohort G_i (0 = never treated):
#
#     y_it = a_i + 0.1 t + beta * x_i * t + tau(G_i, t) * 1{t >= G_i} + e_it,
#     tau(g, t) = 1 + 0.1 (t - g),   a_i, x_i, e_it ~ N(0, 1) independent,
#
# with P(G = g | x) proportional to exp(gamma * x * s_g), s_g = +1 for treated cohorts and 0 for
# never treated. With beta = gamma = 0 parallel trends hold unconditionally; with both non-zero
# they hold only given x, so estimators without x are biased and those with x are not. The true
# ATT(g,t) is tau(g,t); the true simple aggregate weights post-treatment cells by the population
# cohort shares P(G = g) = E[P(G = g | x)], computed by Gauss-Hermite quadrature.
def tau(g: float, t: float) -> float:
    """The true effect in cohort ``g`` at period ``t >= g``."""
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


def staggered_panel(
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


# -- Few forces, no effect: the project simulator ----------------------------------------------
#: Five East Midlands forces over 2014-2023: three adopt (2015-10, 2016-04, 2017-01), two never.
REGION = SimulationConfig.preset("region", effects={})
#: Twelve forces of the national preset over 2014-2023; per seed, 4 never adopt and 8 adopt in a
#: month drawn from the middle half of the decade.
TWELVE = SimulationConfig.preset("national", forces=ALL_FORCES[:12], effects={})


def null_panel(config: SimulationConfig, seed: int) -> pd.DataFrame:
    """Force × month counts with no effect of triage (every effect ratio 1)."""
    return simulate_series(config.model_copy(update={"seed": seed}))


def permuted_region(seed: int) -> pd.DataFrame:
    """The region with its start dates (2 never) assigned to forces at random, no effect."""
    rng = np.random.default_rng(10_000 + seed)
    dates = ["2015-10", "2016-04", "2017-01", None, None]
    forces = list(REGION.forces)
    starts = dict(zip(forces, [dates[i] for i in rng.permutation(5)], strict=True))
    return simulate_series(REGION.model_copy(update={"seed": seed, "starts": starts}))
