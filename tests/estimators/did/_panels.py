"""A small hand-made panel for the DiD tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def toy_panel(
    n_units: int = 6,
    n_periods: int = 8,
    starts: dict[int, int | None] | None = None,
    seed: int = 0,
    effect: float = 1.0,
) -> pd.DataFrame:
    """A small integer-period panel with counts, population and a 0/1 treatment column."""
    rng = np.random.default_rng(seed)
    starts = starts or {0: 3, 1: 3, 2: 5, 3: None, 4: None, 5: None}
    rows = []
    for u in range(n_units):
        level = rng.normal(3.0, 0.3)
        for t in range(n_periods):
            s = starts.get(u)
            treated = s is not None and t >= s
            pop = 1000.0 * (1 + u)
            mu = pop / 1000 * np.exp(level + 0.05 * t + (np.log(effect) if treated else 0.0))
            rows.append(
                {
                    "unit": f"u{u}",
                    "period": t,
                    "y": float(rng.poisson(mu)),
                    "pop": pop,
                    "treated": int(treated),
                    "x": rng.normal() + (effect - 1) * treated,
                }
            )
    return pd.DataFrame(rows)
