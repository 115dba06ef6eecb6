"""Property: on any small episode table, DuckDB agrees with the plain pandas reference, and the
row accounting balances."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from measures_helpers import OTHER, UNIT_A, UNIT_B, protocol, write

from evaltk.episodes.schema import PLACES_OF_SAFETY, REFERRALS
from evaltk.errors import DataError
from evaltk.measures import compute_panel
from evaltk.measures.reference import reference_panel

UNITS = (UNIT_A, UNIT_B)
POPULATION = {(UNIT_A, 2016): 120_000.0, (UNIT_B, 2016): 80_000.0}
BASE = datetime(2016, 1, 1)  # the window is 2016-01..2016-06 (offsets 0-181)

# Times cluster on a few days and hours so that repeats fall on both sides of 1/7/28-day
# bounds, near both ends of the window and across them.
day_offsets_list = [-30, -2, 0, 1, 2, 6, 7, 8, 27, 28, 29, 45, 100, 153, 154, 155, 180, 181, 209]
# Missing values are drawn now and then (one_of(none(), ...) would make half of them missing).
times = st.builds(
    lambda d, h: None if d is None else BASE + timedelta(days=d, hours=h),
    st.sampled_from([None, *day_offsets_list]),
    st.sampled_from([0, 9, 23]),
)
maybe_bool = st.sampled_from([None, True, False, False])
maybe_minutes = st.sampled_from([None, 0.0, 10.0, 30.0, 45.5, 90.0, 240.0])

FIELDS = {
    "person_id": st.sampled_from([None, "p0", "p1", "p2", "p3"]),
    "force": st.sampled_from([None, UNIT_A, UNIT_A, UNIT_B, UNIT_B, OTHER]),
    "timestamp": times,
    "s136": maybe_bool,
    "ae_conveyance": maybe_bool,
    "ambulance_conveyance": maybe_bool,
    "missing_person": maybe_bool,
    "place_of_safety": st.sampled_from([None, *PLACES_OF_SAFETY]),
    "referral": st.sampled_from([None, *REFERRALS]),
    "officer_minutes": maybe_minutes,
    "hospital_wait_minutes": maybe_minutes,
}
row = st.fixed_dictionaries(FIELDS)


def table_of(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(FIELDS))
    frame.insert(0, "episode_id", [f"e{i}" for i in range(len(frame))])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    for name in ("s136", "ae_conveyance", "ambulance_conveyance", "missing_person"):
        frame[name] = frame[name].astype("boolean")
    for name in ("officer_minutes", "hospital_wait_minutes"):
        frame[name] = frame[name].astype(float)
    for name in ("person_id", "force", "place_of_safety", "referral"):
        frame[name] = frame[name].astype(object)
    return frame


def outcomes(within: int, among_days: int) -> list[dict]:
    return [
        {"id": "s136_rate", "measure": {"aggregate": "rate", "where": {"s136": True}}},
        {
            "id": "custody",
            "measure": {
                "aggregate": "count",
                "where": {"s136": True, "place_of_safety": "police_custody"},
            },
        },
        {
            "id": "to_ae",
            "measure": {
                "aggregate": "share",
                "denominator": {"s136": True},
                "where": {"s136": True, "place_of_safety": "emergency_department"},
            },
        },
        {"id": "not_s136", "measure": {"aggregate": "share", "where": {"s136": False}}},
        {"id": "wait", "measure": {"aggregate": "mean", "field": "hospital_wait_minutes"}},
        {
            "id": "referred",
            "measure": {
                "aggregate": "count",
                "where": {"referral": ["gp", "community_team", "crisis_team"]},
            },
        },
        {"id": "repeat", "measure": {"aggregate": "share", "repeat": {"within_days": within}}},
        {
            "id": "repeat_ae",
            "measure": {
                "aggregate": "count",
                "where": {"s136": True},
                "repeat": {"within_days": among_days, "among": {"ae_conveyance": True}},
            },
        },
        {
            "id": "long",
            "measure": {
                "aggregate": "sum",
                "field": "officer_minutes",
                "where": {"officer_minutes": {"gt": 20, "ne": 90}},
            },
        },
        {"id": "ambulance_sum", "measure": {"aggregate": "sum", "field": "ambulance_conveyance"}},
        {
            "id": "per_person",
            "measure": {
                "aggregate": "per_person",
                "field": "officer_minutes",
                "where": {"s136": False},
            },
        },
        {
            "id": "minutes",
            "measure": {
                "aggregate": "mean",
                "field": "officer_minutes",
                "where": {"missing_person": False},
            },
        },
    ]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(row, min_size=8, max_size=60),
    anchors=st.lists(row, min_size=2, max_size=2),
    within=st.sampled_from([1, 7, 28]),
    among_days=st.sampled_from([2, 28, 90]),
    csv=st.booleans(),
)
def test_duckdb_matches_pandas_reference(tmp_path, rows, anchors, within, among_days, csv):
    # Usually one row per unit inside the window, in its first and last month (so the panel
    # exists and the extract covers the window); sometimes not, and then the engine must
    # refuse as the reference does: the window runs beyond the extract, or no rows for a unit.
    if len(rows) % 5:
        days = (datetime(2016, 1, 15, 12), datetime(2016, 6, 15, 12))
        for anchor, unit, day in zip(anchors, UNITS, days, strict=True):
            anchor.update(force=unit, timestamp=day)
        rows = [*rows, *anchors]
    table = table_of(rows)
    name = "episodes.csv" if csv else "episodes.parquet"
    write(tmp_path, table, name)
    pd.DataFrame(
        [(u, y, p) for (u, y), p in POPULATION.items()], columns=["force", "year", "population"]
    ).to_csv(tmp_path / "population.csv", index=False)
    p = protocol(outcomes(within, among_days), units=UNITS, data={"path": name})
    try:
        expected = reference_panel(p, table, POPULATION)
    except DataError as refused:
        assert re.match(r"analysis\.yaml: window\.(start|end) ", str(refused))
        with pytest.raises(DataError) as caught:
            compute_panel(p, tmp_path)
        assert str(caught.value) == str(refused).replace("reference", name)
        return

    first, last = pd.Timestamp("2016-01-01"), pd.Timestamp("2016-06-30 23:59:59")
    in_window = table["timestamp"].between(first, last)
    missing = [u for u in UNITS if not (in_window & (table["force"] == u)).any()]
    if missing:
        with pytest.raises(DataError, match="no rows for unit"):
            compute_panel(p, tmp_path)
        return

    actual = compute_panel(p, tmp_path)
    assert actual.accounting.rows_in == len(table)
    assert actual.accounting.rows_used + sum(actual.accounting.excluded.values()) == len(table)
    assert actual.accounting.excluded == expected.accounting.excluded
    pd.testing.assert_frame_equal(actual.frame, expected.frame, check_exact=False, rtol=1e-12)
    # Missing exactly at the unit-months without a used row, and listed the same way.
    assert actual.empty_months == expected.empty_months
    gaps = actual.frame[actual.frame["numerator"].isna()]
    listed = {f"{u} {p:%Y-%m}" for u, p in zip(gaps["unit"], gaps["period"], strict=True)}
    assert listed == set(actual.empty_months)
