"""Simulated monthly series with a known effect, shared by the ITS tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

START = pd.Timestamp("2016-01-01")


@dataclass(frozen=True)
class Simulated:
    series: pd.DataFrame
    start: pd.Timestamp
    mu_treated: np.ndarray  # true mean with the intervention
    mu_counterfactual: np.ndarray  # true mean without it


def true_means(
    n_pre: int, n_post: int, rr: float, base: float = 100.0, start: pd.Timestamp = START
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """Periods and the true treated / counterfactual means (trend + one seasonal pair)."""
    periods = pd.date_range(start - pd.DateOffset(months=n_pre), periods=n_pre + n_post, freq="MS")
    t = np.arange(1, n_pre + n_post + 1)
    month = periods.month.to_numpy()
    log_cf = np.log(base) + 0.003 * t + 0.15 * np.sin(2 * np.pi * month / 12)
    level = (t > n_pre).astype(float)
    return periods, np.exp(log_cf + np.log(rr) * level), np.exp(log_cf)


def poisson_series(
    seed: int,
    n_pre: int = 48,
    n_post: int = 36,
    rr: float = 0.7,
    base: float = 100.0,
    nb_alpha: float | None = None,
) -> Simulated:
    """Poisson (or NB2 with ``nb_alpha``) counts around :func:`true_means`."""
    rng = np.random.default_rng(seed)
    periods, mu, mu_cf = true_means(n_pre, n_post, rr, base)
    lam = mu if nb_alpha is None else mu * rng.gamma(1 / nb_alpha, nb_alpha, size=mu.size)
    y = rng.poisson(lam)
    start = periods[n_pre]
    return Simulated(pd.DataFrame({"period": periods, "y": y}), start, mu, mu_cf)
