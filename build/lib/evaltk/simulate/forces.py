"""The 43 territorial police forces of England and Wales and their resident populations.

Codes are the ONS police force area codes in their standard order. Populations are *approximate*
mid-2014 resident populations (rounded from ONS mid-year estimates, in thousands); they set the
size of each force's simulated demand, not any published figure, and must not be quoted as data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from evaltk.episodes.schema import POPULATION_FIELDS
from evaltk.errors import SimulationError

#: The year the populations in :data:`FORCES` refer to.
POPULATION_BASE_YEAR = 2014


from evaltk.episodes.forces import (  # noqa: E402  (re-exported for the simulator)
    ALL_FORCES,
    DERBYSHIRE,
    EAST_MIDLANDS,
    FORCES,
    FORCES_BY_CODE,
    LEICESTERSHIRE,
    LINCOLNSHIRE,
    NORTHAMPTONSHIRE,
    NOTTINGHAMSHIRE,
    Force,
)

__all__ = [
    "ALL_FORCES",
    "DERBYSHIRE",
    "EAST_MIDLANDS",
    "FORCES",
    "FORCES_BY_CODE",
    "LEICESTERSHIRE",
    "LINCOLNSHIRE",
    "NORTHAMPTONSHIRE",
    "NOTTINGHAMSHIRE",
    "Force",
]


def force_number(code: str) -> int:
    """Position of a force in the national table (stable key for its random streams)."""
    try:
        return ALL_FORCES.index(code)
    except ValueError:
        raise SimulationError(
            f"unknown force code {code!r}: use an ONS code E23000001-E23000039 or "
            "W15000001-W15000004"
        ) from None


def force_table(codes: Sequence[str] | None = None) -> pd.DataFrame:
    """The forces as a table: ``force`` (ONS code), ``name``, ``population`` (base year)."""
    chosen = ALL_FORCES if codes is None else tuple(codes)
    rows = [FORCES_BY_CODE[c] for c in chosen]
    return pd.DataFrame(
        {
            "force": [f.code for f in rows],
            "name": [f.name for f in rows],
            "population": np.array([f.population for f in rows], dtype=np.int64),
        }
    )


def population(code: str, years: np.ndarray, growth: float) -> np.ndarray:
    """Mid-year population of one force in each of ``years``, growing by ``growth`` a year."""
    base = FORCES_BY_CODE[code].population
    offset = np.asarray(years, dtype=np.float64) - POPULATION_BASE_YEAR
    return np.rint(base * (1.0 + growth) ** offset).astype(np.int64)


def population_table(codes: Iterable[str], years: Sequence[int], growth: float) -> pd.DataFrame:
    """Long table with columns ``force, year, population`` (the canonical population fields)."""
    years_arr = np.asarray(years, dtype=np.int64)
    frames = [
        pd.DataFrame(
            {
                "force": code,
                "year": years_arr,
                "population": population(code, years_arr, growth),
            }
        )
        for code in codes
    ]
    table = pd.concat(frames, ignore_index=True)
    return table.loc[:, list(POPULATION_FIELDS)]
