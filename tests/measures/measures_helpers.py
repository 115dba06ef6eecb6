"""Helpers for the measures tests: tiny hand-made episode tables and protocols built in code.

Imported by the test modules beside it (pytest puts this folder on ``sys.path``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from evaltk.protocol.spec import Protocol

UNIT_A, UNIT_B, OTHER = "E23000019", "E23000018", "E23000020"

# Defaults for every canonical field, so a test row only states what it is about.
DEFAULTS: dict[str, Any] = {
    "person_id": None,
    "force": UNIT_A,
    "triage_available": False,
    "triage_attended": False,
    "s136": False,
    "place_of_safety": None,
    "ae_conveyance": False,
    "ambulance_conveyance": False,
    "referral": "none",
    "missing_person": False,
    "arrest": False,
    "officer_minutes": 60.0,
    "hospital_wait_minutes": 0.0,
    "admitted_72h": False,
}


def episodes(*rows: dict[str, Any]) -> pd.DataFrame:
    """A canonical episode table: each row a dict with at least ``timestamp``."""
    records = []
    for i, row in enumerate(rows):
        record = {"episode_id": f"ep{i:05d}", **DEFAULTS, **row}
        if record["person_id"] is None and "person_id" not in row:
            record["person_id"] = f"p{i:05d}"  # a new person per row unless stated
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], format="ISO8601")
    return frame


def protocol(
    outcomes: Sequence[dict[str, Any]],
    *,
    units: Sequence[str] = (UNIT_A,),
    start: str = "2016-01-01",
    end: str = "2016-06-30",
    data: dict[str, Any] | None = None,
) -> Protocol:
    """A valid ITS protocol around ``outcomes`` (each: id + measure; role etc. filled in)."""
    # The ITS validator wants the start inside the window: use the window's second month.
    started = (pd.Timestamp(start).to_period("M") + 1).to_timestamp().date().isoformat()
    full = []
    for i, outcome in enumerate(outcomes):
        full.append(
            {
                "label": outcome["id"],
                "role": "primary" if i == 0 else "secondary",
                "class": "resolution",
                "direction": "decrease",
                **outcome,
            }
        )
    return Protocol.model_validate(
        {
            "title": "test",
            "intervention": {"kind": "street_triage", "start": dict.fromkeys(units, started)},
            "units": list(units),
            "data": {
                "kind": "episodes",
                "path": "episodes.parquet",
                "population": "population.csv",
                # These tests exclude rows on purpose; the share limit has its own tests.
                "max_excluded_share": 1.0,
                **(data or {}),
            },
            "outcomes": full,
            "design": {"kind": "its"},
            "window": {"start": start, "end": end},
        }
    )


def write(folder: Path, frame: pd.DataFrame, name: str = "episodes.parquet") -> Path:
    """Write ``frame`` as parquet or CSV (by extension) under ``folder``."""
    path = folder / name
    if name.endswith(".csv"):
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def write_population(folder: Path, rows: Sequence[tuple[str, int, float]]) -> Path:
    path = folder / "population.csv"
    pd.DataFrame(rows, columns=["force", "year", "population"]).to_csv(path, index=False)
    return path


def values(panel, outcome: str, unit: str = UNIT_A, column: str = "value") -> list[float]:
    """One outcome's monthly column for one unit, as a plain list."""
    frame = panel.frame
    rows = frame[(frame["outcome"] == outcome) & (frame["unit"] == unit)]
    return rows[column].tolist()


# Two 16-character ids with the same DuckDB hash(), built from DuckDB's string hash (a 64-bit
# multiply-xor state over 8-byte blocks): the second block of COLLIDER was solved for so that
# the state after both blocks equals ANCHOR's.
ANCHOR, COLLIDER = "aaaaaaaabbbbbbbb", "21111330[97O}AOr"


def require_hash_collision() -> None:
    """Skip the test where this DuckDB does not hash ANCHOR and COLLIDER alike."""
    same = duckdb.connect().execute("SELECT hash(?) = hash(?)", [ANCHOR, COLLIDER]).fetchone()
    if not same or not same[0]:
        pytest.skip("this DuckDB hashes text differently; the constructed collision is void")
