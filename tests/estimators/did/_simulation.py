"""Datasets for the simulation studies, all from the project simulator (evaltk.simulate)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaltk.simulate import ALL_FORCES, SimulationConfig, simulate_series

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


def with_pretrend(frame: pd.DataFrame, per_year: float) -> pd.DataFrame:
    """Add a linear drift to treated forces' s136 counts before adoption (parallel trends
    violated): ``per_year`` detentions per 100,000 per year, reaching zero at adoption."""
    start = frame["period"].where(frame["treated"]).groupby(frame["force"]).transform("min")
    months = (frame["period"].dt.year - start.dt.year) * 12 + (
        frame["period"].dt.month - start.dt.month
    )
    drift = (months.clip(upper=0) / 12 * per_year).fillna(0.0)
    return frame.assign(s136=frame["s136"] + drift * frame["population"] / 1e5)
