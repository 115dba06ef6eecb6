"""One-to-one time-window matching as set operations: the same SQL on DuckDB and on Spark.

The rule (:mod:`evaltk.linkage.link`): candidate pairs are an incident and an agency record
of the same pseudonym whose time is ``low`` to ``high`` hours after the incident; taking the
pairs in the order (incident time, hours after, incident, record), a pair is linked unless
its incident or its record is already linked. That greedy rule reads like a loop over pairs,
but with a strict order on the pairs its result is also reached by rounds of set operations:
in each round every pair that is the first of its incident's remaining pairs AND the first of
its record's remaining pairs is linked (two window functions), and the pairs of the incidents
and records linked are removed (two anti-joins). Each round links at least the first pair
left, which the loop would link next, and a pair first for both its ends is one the loop also
links (nothing before it can take either end), so the rounds end with the loop's links
exactly. The rounds are few (a person's overlapping windows chain a handful of pairs), and
each is one statement over the whole table, on whichever engine holds it.

Times are compared as whole microseconds (DuckDB's and Spark's timestamp resolution): the
window's bounds are rounded inwards to the microsecond.
"""

from __future__ import annotations

import math

import pandas as pd

from evaltk.ingest.engine import Backend

US_PER_HOUR = 3_600 * 10**6
_ORDER = "t, d, r, ar"  # incident time, microseconds after, incident, record: a strict order


def _count(backend: Backend, table: str) -> int:
    return int(backend.query(f"SELECT count(*) AS n FROM {table}")["n"].iloc[0])


def one_to_one(
    backend: Backend,
    incidents: str,
    records: str,
    window_hours: tuple[float, float],
    tag: str,
) -> pd.DataFrame:
    """``police_record, agency_record, hours_after`` of the one-to-one links between two tables.

    ``incidents`` and ``records`` are tables (or views) of the backend with columns
    ``record`` (unique within each), ``pseudonym`` and ``time``; a row with no pseudonym or no
    time is never linked. ``tag`` names the temporary tables of this pair of tables.
    """
    table = one_to_one_table(backend, incidents, records, window_hours, tag)
    links = backend.query(f"SELECT r, ar, d FROM {table} ORDER BY r")
    return pd.DataFrame(
        {
            "police_record": links["r"].to_numpy(),
            "agency_record": links["ar"].to_numpy(),
            "hours_after": links["d"].to_numpy(dtype=float) / US_PER_HOUR,
        }
    )


def one_to_one_table(
    backend: Backend,
    incidents: str,
    records: str,
    window_hours: tuple[float, float],
    tag: str,
) -> str:
    """As :func:`one_to_one`, but the links stay in the engine: the name of a temporary table
    ``r`` (incident record), ``ar`` (agency record), ``d`` (microseconds after), so that on
    Spark no link row comes back to the driver."""
    low = math.ceil(window_hours[0] * US_PER_HOUR)
    high = math.floor(window_hours[1] * US_PER_HOUR)
    gap = "epoch_us(a.time) - epoch_us(i.time)"
    candidates = f"__evaltk_pairs_{tag}_0"
    backend.temp_table(
        candidates,
        f"SELECT i.record AS r, a.record AS ar, epoch_us(i.time) AS t, {gap} AS d "
        f"FROM {incidents} AS i JOIN {records} AS a ON i.pseudonym = a.pseudonym "
        f"WHERE {gap} BETWEEN {low} AND {high}",
    )
    # Rounds until no candidate pair is left: each round links at least one pair (the
    # first left), so there is no last, empty round to make (each table is a Spark job).
    rounds: list[str] = []
    while _count(backend, candidates):
        linked = f"__evaltk_links_{tag}_{len(rounds)}"
        backend.temp_table(
            linked,
            "SELECT r, ar, d FROM (SELECT r, ar, d, "
            f"row_number() OVER (PARTITION BY r ORDER BY {_ORDER}) AS by_incident, "
            f"row_number() OVER (PARTITION BY ar ORDER BY {_ORDER}) AS by_record "
            f"FROM {candidates}) AS ranked WHERE by_incident = 1 AND by_record = 1",
        )
        rounds.append(linked)
        remaining = f"__evaltk_pairs_{tag}_{len(rounds)}"
        backend.temp_table(
            remaining,
            f"SELECT c.* FROM {candidates} AS c "
            f"WHERE NOT EXISTS (SELECT 1 FROM {linked} AS l WHERE l.r = c.r) "
            f"AND NOT EXISTS (SELECT 1 FROM {linked} AS l WHERE l.ar = c.ar)",
        )
        candidates = remaining
    # With no round, the (empty) candidates give the columns. (Not with rounds: Spark 4
    # fails to rewrite a UNION's constraints with an empty checkpointed branch in it.)
    union = " UNION ALL ".join(f"SELECT r, ar, d FROM {name}" for name in rounds or [candidates])
    table = f"__evaltk_links_{tag}"
    backend.temp_table(table, union)
    return table
