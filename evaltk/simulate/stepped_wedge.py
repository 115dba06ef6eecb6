"""Stepped-wedge trial data with a known effect: monthly counts by cluster.

Each cluster ``c`` (population ``N_c``) has a monthly rate per 100,000 of
``base_rate * exp(a_c + trend * m + b_cm) * effect^D_cm`` with ``a_c ~ N(0, cluster_sd^2)``
(between-cluster variation), ``b_cm`` an AR(1) series of standard deviation ``period_sd`` and
lag-one correlation ``rho`` (cluster-specific drift over time), ``trend`` the secular trend
per month on the log scale, and ``D_cm = 1`` from the cluster's start month (INCLUSIVE). Counts
are Poisson. Plain arrays in and a DataFrame out, so that power analysis can call it
replicate by replicate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_stepped_wedge(
    populations: np.ndarray,
    start_months: np.ndarray,
    n_months: int,
    *,
    base_rate: float,
    effect: float = 1.0,
    cluster_sd: float = 0.2,
    period_sd: float = 0.05,
    rho: float = 0.5,
    trend: float = 0.0,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Monthly Poisson counts of a stepped-wedge trial.

    Parameters
    ----------
    populations : array of int
        Residents of each cluster.
    start_months : array of int
        Month index (0-based) at which each cluster starts the scheme.
    n_months : int
        Months simulated (index 0 .. n_months - 1).
    base_rate : float
        Events per 100,000 residents per month before any trend or effect.
    effect : float
        True rate ratio of the scheme.
    cluster_sd, period_sd, rho, trend : float
        See the module docstring.
    rng : numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        ``cluster`` (index), ``month``, ``population``, ``treated``, ``expected``, ``count``.
    """
    populations = np.asarray(populations, dtype=float)
    starts = np.asarray(start_months, dtype=int)
    n = populations.size
    months = np.arange(n_months)
    a = rng.normal(0.0, cluster_sd, size=n)
    b = np.zeros((n, n_months))
    if period_sd > 0:
        innovations = rng.normal(0.0, period_sd * np.sqrt(1 - rho**2), size=(n, n_months))
        b[:, 0] = rng.normal(0.0, period_sd, size=n)
        for m in range(1, n_months):
            b[:, m] = rho * b[:, m - 1] + innovations[:, m]
    treated = months[None, :] >= starts[:, None]
    log_rate = np.log(base_rate) + a[:, None] + trend * months[None, :] + b
    expected = populations[:, None] / 1e5 * np.exp(log_rate) * np.where(treated, effect, 1.0)
    counts = rng.poisson(expected)
    return pd.DataFrame(
        {
            "cluster": np.repeat(np.arange(n), n_months),
            "month": np.tile(months, n),
            "population": np.repeat(populations.astype(int), n_months),
            "treated": treated.ravel().astype(int),
            "expected": expected.ravel(),
            "count": counts.ravel(),
        }
    )


def simulate_trial_series(
    names: list[str],
    populations: list[int],
    start_months: list[str],
    first_month: str,
    n_months: int,
    outcomes: dict[str, tuple[float, float]],
    *,
    seed: int,
    cluster_sd: float = 0.15,
    period_sd: float = 0.05,
    rho: float = 0.5,
    trend: float = 0.0,
) -> pd.DataFrame:
    """A ready monthly series of a stepped-wedge trial: one row per cluster and month with
    ``area, month, population`` and one count column per outcome.

    ``start_months`` and ``first_month`` are ``YYYY-MM-01``; ``outcomes`` maps a column to its
    (base rate per 100,000 a month, true rate ratio). Each outcome draws its own cluster and
    month variation from the one seed, in the order given.
    """
    first = pd.Timestamp(first_month)
    months = pd.date_range(first, periods=n_months, freq="MS")
    starts = np.array(
        [
            (pd.Timestamp(s).year - first.year) * 12 + pd.Timestamp(s).month - first.month
            for s in start_months
        ]
    )
    rng = np.random.default_rng(seed)
    out = pd.DataFrame(
        {
            "area": np.repeat(np.asarray(names), n_months),
            "month": np.tile(months.strftime("%Y-%m-%d"), len(names)),
            "population": np.repeat(np.asarray(populations, dtype=int), n_months),
        }
    )
    for column, (rate, effect) in outcomes.items():
        frame = simulate_stepped_wedge(
            np.asarray(populations),
            starts,
            n_months,
            base_rate=rate,
            effect=effect,
            cluster_sd=cluster_sd,
            period_sd=period_sd,
            rho=rho,
            trend=trend,
            rng=rng,
        )
        out[column] = frame["count"].to_numpy()
    return out
