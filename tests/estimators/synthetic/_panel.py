"""Small long panels with a known structure for the synthetic estimators' tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def factor_panel(
    seed: int = 0, units: int = 12, periods: int = 20, start: int = 14, effect: float = 0.0
) -> pd.DataFrame:
    """Units ``u00``..: two latent trends with unit loadings plus noise; ``u00`` gets ``effect``
    added from period ``start`` on. Periods are integers 0..periods-1."""
    rng = np.random.default_rng(seed)
    t = np.arange(periods)
    factors = np.vstack([np.ones(periods) * 50, np.sin(t / 3.0) * 5 + t * 0.5])
    loadings = rng.uniform(0.5, 1.5, size=(units, 2))
    y = loadings @ factors + rng.normal(0, 0.5, size=(units, periods))
    y[0, start:] += effect
    return pd.DataFrame(
        {
            "unit": np.repeat([f"u{i:02d}" for i in range(units)], periods),
            "period": np.tile(t, units),
            "y": y.ravel(),
        }
    )
