"""compute_panel on hand-made episode tables with answers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from measures_helpers import (
    OTHER,
    UNIT_A,
    UNIT_B,
    episodes,
    protocol,
    values,
    write,
    write_population,
)

from evaltk.measures import build_panel, compute_panel
from evaltk.measures.panel import PANEL_COLUMNS

NAN = float("nan")


def same(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(
        (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y)
        for x, y in zip(a, b, strict=True)
    )


@pytest.fixture
def table() -> pd.DataFrame:
    # Window 2016-01..2016-06; March and May have no episodes at all (missing, not zero).
    return episodes(
        {
            "timestamp": "2016-01-03 10:00",
            "s136": True,
            "place_of_safety": "police_custody",
            "officer_minutes": 30.0,
            "referral": "gp",
        },
        {
            "timestamp": "2016-01-20 23:59",
            "s136": True,
            "place_of_safety": "emergency_department",
            "officer_minutes": 90.0,
            "hospital_wait_minutes": 120.0,
        },
        {
            "timestamp": "2016-01-31 23:59:59",
            "ae_conveyance": True,
            "officer_minutes": None,
            "referral": "crisis_team",
        },
        {
            "timestamp": "2016-02-01 00:00",
            "s136": True,
            "place_of_safety": "health_based_suite",
            "officer_minutes": 45.0,
            "referral": "community_team",
        },
        {"timestamp": "2016-04-15", "officer_minutes": 10.0},
        {
            "timestamp": "2016-06-30 23:00",
            "s136": True,
            "place_of_safety": "emergency_department",
            "officer_minutes": 200.0,
        },
    )


OUTCOMES = [
    {"id": "s136", "measure": {"aggregate": "count", "where": {"s136": True}}},
    {"id": "s136_rate", "measure": {"aggregate": "rate", "where": {"s136": True}}},
    {
        "id": "to_ae",
        "measure": {
            "aggregate": "share",
            "denominator": {"s136": True},
            "where": {"s136": True, "place_of_safety": "emergency_department"},
        },
    },
    {"id": "ae_share", "measure": {"aggregate": "share", "where": {"ae_conveyance": True}}},
    {"id": "minutes", "measure": {"aggregate": "mean", "field": "officer_minutes"}},
    {"id": "wait_total", "measure": {"aggregate": "sum", "field": "hospital_wait_minutes"}},
    {
        "id": "referred",
        "measure": {
            "aggregate": "count",
            "where": {"referral": ["gp", "community_team", "crisis_team"]},
        },
    },
    {
        "id": "long",
        "measure": {"aggregate": "count", "where": {"officer_minutes": {"gt": 40, "le": 90}}},
    },
    {"id": "not_30", "measure": {"aggregate": "count", "where": {"officer_minutes": {"ne": 30}}}},
    {"id": "s136_sum", "measure": {"aggregate": "sum", "field": "s136"}},
]


@pytest.fixture
def panel(tmp_path, table):
    write(tmp_path, table)
    write_population(tmp_path, [(UNIT_A, 2016, 200_000)])
    return compute_panel(protocol(OUTCOMES), tmp_path)


def test_every_aggregate_kind(panel):
    assert same(values(panel, "s136"), [2, 1, NAN, 0, NAN, 1])
    assert same(values(panel, "s136_rate"), [1.0, 0.5, NAN, 0, NAN, 0.5])
    assert same(
        values(panel, "s136_rate", column="denominator"),
        [200_000, 200_000, NAN, 200_000, NAN, 200_000],
    )
    assert same(values(panel, "to_ae"), [0.5, 0.0, NAN, NAN, NAN, 1.0])
    assert same(values(panel, "to_ae", column="denominator"), [2, 1, NAN, 0, NAN, 1])
    # Share of all episodes by default: 1 of 3 in January, 0 of 1 in February.
    assert same(values(panel, "ae_share"), [1 / 3, 0.0, NAN, 0.0, NAN, 0.0])
    assert same(values(panel, "ae_share", column="denominator"), [3, 1, NAN, 1, NAN, 1])
    # The missing officer_minutes is left out of both sum and count.
    assert same(values(panel, "minutes"), [60.0, 45.0, NAN, 10.0, NAN, 200.0])
    assert same(values(panel, "minutes", column="denominator"), [2, 1, NAN, 1, NAN, 1])
    assert same(values(panel, "wait_total"), [120, 0, NAN, 0, NAN, 0])
    assert all(np.isnan(values(panel, "wait_total", column="denominator")))
    assert same(values(panel, "s136_sum"), [2, 1, NAN, 0, NAN, 1])


def test_filters_with_lists_and_comparisons(panel):
    assert same(values(panel, "referred"), [2, 1, NAN, 0, NAN, 0])
    assert same(values(panel, "long"), [1, 1, NAN, 0, NAN, 0])  # 90 (le) in, 30 and 200 out
    # ne: the missing value never matches, so January has 90 only.
    assert same(values(panel, "not_30"), [1, 1, NAN, 1, NAN, 1])


def test_complete_grid_sorted_and_empty_months_missing(panel):
    frame = panel.frame
    assert list(frame.columns) == list(PANEL_COLUMNS)
    months = pd.date_range("2016-01-01", "2016-06-01", freq="MS")
    assert len(frame) == 6 * len(OUTCOMES)
    assert list(frame["period"].drop_duplicates()) == list(months)
    assert list(frame["outcome"][: len(OUTCOMES)]) == [o["id"] for o in OUTCOMES]
    march = frame[frame["period"] == "2016-03-01"]
    # A month without a single episode is missing data, never a month of zeros.
    assert march["numerator"].isna().all() and march["value"].isna().all()
    assert panel.empty_months == (f"{UNIT_A} 2016-03", f"{UNIT_A} 2016-05")
    april = frame[frame["period"] == "2016-04-01"]
    assert (april.loc[april["outcome"] == "s136", "numerator"] == 0).all()
    assert panel.aggregates["to_ae"] == "share" and panel.per["s136_rate"] == 100_000


def test_build_panel_dispatches_to_episodes(tmp_path, table):
    write(tmp_path, table)
    write_population(tmp_path, [(UNIT_A, 2016, 200_000)])
    one = build_panel(protocol(OUTCOMES), tmp_path).frame
    pd.testing.assert_frame_equal(one, compute_panel(protocol(OUTCOMES), tmp_path).frame)


def test_population_by_calendar_year(tmp_path):
    table = episodes(
        {"timestamp": "2016-11-20"},
        {"timestamp": "2016-12-05", "s136": True},
        {"timestamp": "2017-01-05", "s136": True},
        {"timestamp": "2017-02-10"},
    )
    write(tmp_path, table)
    write_population(tmp_path, [(UNIT_A, 2016, 100_000), (UNIT_A, 2017, 50_000), ("X", 2016, 1)])
    p = protocol(
        [{"id": "r", "measure": {"aggregate": "rate", "where": {"s136": True}, "per": 1000}}],
        start="2016-11-01",
        end="2017-02-28",
    )
    panel = compute_panel(p, tmp_path)
    assert values(panel, "r", column="denominator") == [100_000, 100_000, 50_000, 50_000]
    assert values(panel, "r") == pytest.approx([0, 0.01, 0.02, 0])


def test_units_and_series_sum(tmp_path):
    table = episodes(
        {"timestamp": "2016-01-05", "s136": True, "officer_minutes": 10.0},
        {"timestamp": "2016-01-06", "force": UNIT_B, "s136": True, "officer_minutes": 30.0},
        {"timestamp": "2016-01-07", "force": UNIT_B, "officer_minutes": 50.0},
        {"timestamp": "2016-02-07", "force": OTHER, "s136": True},
        {"timestamp": "2016-02-08"},
        {"timestamp": "2016-02-09", "force": UNIT_B},
    )
    write(tmp_path, table)
    write_population(tmp_path, [(UNIT_A, 2016, 100_000), (UNIT_B, 2016, 300_000)])
    p = protocol(
        [
            {"id": "rate", "measure": {"aggregate": "rate", "where": {"s136": True}}},
            {"id": "share", "measure": {"aggregate": "share", "where": {"s136": True}}},
            {"id": "mean", "measure": {"aggregate": "mean", "field": "officer_minutes"}},
        ],
        units=(UNIT_B, UNIT_A),
        start="2016-01-01",
        end="2016-02-29",
    )
    panel = compute_panel(p, tmp_path)
    assert list(panel.frame["unit"].drop_duplicates()) == [UNIT_B, UNIT_A]  # protocol order
    rate = panel.series("rate")
    assert rate["numerator"].tolist() == [2, 0]
    assert rate["denominator"].tolist() == [400_000, 400_000]
    assert rate["value"].tolist() == pytest.approx([0.5, 0])
    assert panel.series("share")["value"].tolist()[0] == pytest.approx(2 / 3)
    assert panel.series("mean")["value"].tolist()[0] == pytest.approx(30.0)
    assert panel.series("mean", units=[UNIT_B])["value"].tolist()[0] == pytest.approx(40.0)
    assert panel.empty_months == ()
    assert panel.accounting.excluded["unit not in protocol"] == 1


def test_column_mapping(tmp_path, table):
    renamed = table.rename(
        columns={
            "s136": "S136_FLAG",
            "timestamp": "INCIDENT DATETIME",
            "force": "Force's code",
            "officer_minutes": "mins",
        }
    )
    write(tmp_path, renamed)
    write_population(tmp_path, [(UNIT_A, 2016, 200_000)])
    columns = {
        "s136": "S136_FLAG",
        "timestamp": "INCIDENT DATETIME",
        "force": "Force's code",
        "officer_minutes": "mins",
    }
    mapped = compute_panel(protocol(OUTCOMES, data={"columns": columns}), tmp_path)
    write(tmp_path, table)
    plain = compute_panel(protocol(OUTCOMES), tmp_path)
    pd.testing.assert_frame_equal(mapped.frame, plain.frame)


def test_csv_and_parquet_agree(tmp_path, table):
    write(tmp_path, table)
    write(tmp_path, table, "episodes.csv")
    write_population(tmp_path, [(UNIT_A, 2016, 200_000)])
    parquet = compute_panel(protocol(OUTCOMES), tmp_path)
    csv = compute_panel(protocol(OUTCOMES, data={"path": "episodes.csv"}), tmp_path)
    pd.testing.assert_frame_equal(parquet.frame, csv.frame)
    assert csv.accounting.rows_in == parquet.accounting.rows_in == len(table)


def test_csv_spellings_of_booleans_and_dates(tmp_path):
    text = (
        "episode_id,force,timestamp,s136\n"
        f"a,{UNIT_A},2016-01-05 10:00,Y\n"
        f"b,{UNIT_A},05/01/2016 11:30,n\n"
        f"c,{UNIT_A},2016-01-06T09:00:00,TRUE\n"
        f"d,{UNIT_A},2016-02-01,1\n"
        f"e,{UNIT_A},01/02/2016,\n"  # a missing flag: counted in no filter
        f"f,{UNIT_A},NA,1\n"
    )
    (tmp_path / "e.csv").write_text(text)
    p = protocol(
        [
            {"id": "n", "measure": {"aggregate": "count", "where": {"s136": True}}},
            {"id": "no", "measure": {"aggregate": "count", "where": {"s136": False}}},
        ],
        start="2016-01-01",
        end="2016-02-29",
        data={"path": "e.csv"},
    )
    panel = compute_panel(p, tmp_path)
    assert values(panel, "n") == [2, 1]
    assert values(panel, "no") == [1, 0]
    assert panel.accounting.excluded["timestamp missing"] == 1


def test_text_fields_compare_as_text(tmp_path):
    # Integer force codes in the file still match units given as text.
    table = episodes(
        {"timestamp": "2016-01-05", "force": 7, "s136": True},
        {"timestamp": "2016-02-05", "force": 7},
    )
    table["force"] = table["force"].astype("int64")
    write(tmp_path, table)
    p = protocol(
        [{"id": "n", "measure": {"aggregate": "count", "where": {"s136": True}}}],
        units=("7",),
        start="2016-01-01",
        end="2016-02-29",
    )
    assert values(compute_panel(p, tmp_path), "n", unit="7") == [1, 0]
