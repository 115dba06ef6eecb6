"""Datasets for the simulation studies, all from the project simulator (evaltk.simulate).

The null datasets live in :mod:`evaltk.validation.dgp`, shared with
``bench/validation_checks.py`` and the book's validation chapter.
"""

from __future__ import annotations

import pandas as pd

from evaltk.validation.dgp import REGION, TWELVE, null_panel, permuted_region

__all__ = ["REGION", "TWELVE", "null_panel", "permuted_region", "with_pretrend"]


def with_pretrend(frame: pd.DataFrame, per_year: float) -> pd.DataFrame:
    """Add a linear drift to treated forces' s136 counts before adoption (parallel trends
    violated): ``per_year`` detentions per 100,000 per year, reaching zero at adoption."""
    start = frame["period"].where(frame["treated"]).groupby(frame["force"]).transform("min")
    months = (frame["period"].dt.year - start.dt.year) * 12 + (
        frame["period"].dt.month - start.dt.month
    )
    drift = (months.clip(upper=0) / 12 * per_year).fillna(0.0)
    return frame.assign(s136=frame["s136"] + drift * frame["population"] / 1e5)
