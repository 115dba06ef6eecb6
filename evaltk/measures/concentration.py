"""Who carries the demand: people by their number of contacts, and a Lorenz-type curve.

:func:`contact_distribution` counts, by DuckDB SQL over the episode file, how many people had
1, 2, 3... contacts (episodes matching a measure's ``where`` that pass every data check, as in
:mod:`evaltk.measures.intensity`) in the protocol's units over a span of months; a person is
counted once per unit. :func:`lorenz_points` turns that distribution into the curve a
partnership board reads ("the heaviest 2 % of people made 20 % of the contacts"), from the
heaviest users down, merging any group of fewer than ``min_people`` people into the next one
so that no point describes a small group of people.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from evaltk.ingest.engine import DuckDBBackend, EngineSettings, connect
from evaltk.ingest.field_sql import field_columns
from evaltk.ingest.source import map_columns, open_episode_file, stage_episode_file
from evaltk.ingest.sql import literal
from evaltk.measures.episodes import duplicate_ids
from evaltk.measures.grid import month_floor
from evaltk.measures.intensity import contacts_cte
from evaltk.protocol.needed_fields import CHECKED_IF_PRESENT, required_fields
from evaltk.protocol.spec import EpisodeSource, Measure, Protocol


def contact_distribution(
    protocol: Protocol,
    measure: Measure,
    folder: Path,
    first: dt.date,
    last: dt.date,
    *,
    settings: EngineSettings | None = None,
) -> pd.DataFrame:
    """``contacts, people``: how many people (per unit) had each number of contacts in the
    months ``first`` to ``last`` (both included), sorted by ``contacts``."""
    source = protocol.data
    if not isinstance(source, EpisodeSource):
        raise TypeError("contact_distribution needs episode data")
    con = connect(settings)
    try:
        file = open_episode_file(con, source, Path(folder))
        needed = {**required_fields(protocol), "person_id": ["concentration"]}
        mapping = map_columns(file, source, needed, read_if_present=CHECKED_IF_PRESENT)
        file = stage_episode_file(con, file, source, mapping, Path(folder))
        fields = field_columns(file, mapping, source)
        duplicates = duplicate_ids(DuckDBBackend(con), file, fields)
        span = (
            f"period BETWEEN DATE {literal(month_floor(first).isoformat())} "
            f"AND DATE {literal(month_floor(last).isoformat())}"
        )
        sql = (
            contacts_cte(protocol, measure, file, fields, duplicates=duplicates)
            + ",\nper_person AS (SELECT unit_code, person, sum(n) AS contacts FROM contacts "
            f"WHERE person IS NOT NULL AND {span} GROUP BY ALL)\n"
            "SELECT contacts, count(*) AS people FROM per_person GROUP BY ALL ORDER BY contacts"
        )
        frame = con.execute(sql).df()
    finally:
        con.close()
    return frame.astype({"contacts": "int64", "people": "int64"}).reset_index(drop=True)


def lorenz_points(distribution: pd.DataFrame, min_people: int) -> pd.DataFrame:
    """``people_share, contact_share, people, contacts``: cumulative shares from the heaviest
    users down, one point per group of at least ``min_people`` people (a smaller group is
    merged with the next lighter one; a small remainder at the light end is merged into the
    last point, which is always (1, 1)). Starts at (0, 0)."""
    if min_people < 1:
        raise ValueError("min_people must be at least 1")
    rows = distribution.sort_values("contacts", ascending=False)
    total_people = int(rows["people"].sum())
    total_contacts = int((rows["people"] * rows["contacts"]).sum())
    points = [(0.0, 0.0, 0, 0)]
    people = contacts = pending = 0
    for count, group in zip(rows["contacts"], rows["people"], strict=True):
        people += int(group)
        contacts += int(group) * int(count)
        pending += int(group)
        if pending >= min_people:
            points.append((people / total_people, contacts / total_contacts, people, contacts))
            pending = 0
    if pending and len(points) > 1:
        points[-1] = (1.0, 1.0, total_people, total_contacts)
    elif pending:  # fewer than min_people people in all: nothing can be shown
        return pd.DataFrame(
            points[:1], columns=["people_share", "contact_share", "people", "contacts"]
        )
    return pd.DataFrame(points, columns=["people_share", "contact_share", "people", "contacts"])
