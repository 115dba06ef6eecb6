"""Repeat windows: the same person again, strictly later and within N days, over the whole file."""

from __future__ import annotations

import pandas as pd
import pytest
from measures_helpers import (
    ANCHOR,
    COLLIDER,
    OTHER,
    UNIT_A,
    episodes,
    protocol,
    require_hash_collision,
    values,
    write,
)

from evaltk.measures import compute_panel
from evaltk.measures import query as query_module


def repeat_protocol(among=None, where=None, within=28, **kwargs):
    repeat = {"within_days": within, **({"among": among} if among else {})}
    measure = {"aggregate": "count", "repeat": repeat, **({"where": where} if where else {})}
    return protocol(
        [
            {"id": "repeats", "measure": measure},
            {"id": "share", "measure": {**measure, "aggregate": "share"}},
        ],
        **kwargs,
    )


def run(tmp_path, table, p=None, **kwargs):
    write(tmp_path, table)
    return compute_panel(p or repeat_protocol(**kwargs), tmp_path)


def test_27_days_counts_29_does_not_28_exactly_does(tmp_path):
    table = episodes(
        {"timestamp": "2016-01-01 12:00", "person_id": "x"},
        {"timestamp": "2016-01-28 12:00", "person_id": "x"},  # 27 days after the first
        {"timestamp": "2016-01-02 08:00", "person_id": "y"},
        {"timestamp": "2016-01-31 08:00", "person_id": "y"},  # 29 days after
        {"timestamp": "2016-02-01 09:00", "person_id": "z"},
        {"timestamp": "2016-02-29 09:00", "person_id": "z"},  # exactly 28 days: inclusive
        {"timestamp": "2016-03-01 09:00", "person_id": "w"},
        {"timestamp": "2016-03-29 09:00:01", "person_id": "w"},  # 28 days and a second
    )
    panel = run(tmp_path, table, end="2016-03-31")
    assert values(panel, "repeats") == [1, 1, 0]
    assert values(panel, "share") == pytest.approx([1 / 4, 1 / 2, 0])


def test_another_person_does_not_count(tmp_path):
    table = episodes(
        {"timestamp": "2016-01-01", "person_id": "x"},
        {"timestamp": "2016-01-05", "person_id": "y"},
        {"timestamp": "2016-01-06", "person_id": None},  # no person: never a repeat
        {"timestamp": "2016-01-07", "person_id": None},
        {"timestamp": "2016-02-01", "person_id": None},
    )
    table["person_id"] = table["person_id"].astype(object).where(table.index < 2, None)
    assert values(run(tmp_path, table, end="2016-02-29"), "repeats") == [0, 0]


def test_same_instant_is_not_a_repeat(tmp_path):
    table = episodes(
        {"timestamp": "2016-01-01 10:00", "person_id": "x"},
        {"timestamp": "2016-01-01 10:00", "person_id": "x"},
        {"timestamp": "2016-01-03 10:00", "person_id": "x"},
        {"timestamp": "2016-02-20 10:00", "person_id": "y"},
    )
    # Both 10:00 episodes are followed on the 3rd; the 3rd has no follower.
    assert values(run(tmp_path, table, end="2016-02-29"), "repeats") == [2, 0]


def test_follow_up_beyond_the_window_and_in_other_forces_counts(tmp_path):
    table = episodes(
        {"timestamp": "2016-06-30 22:00", "person_id": "x"},
        {"timestamp": "2016-07-10", "person_id": "x"},  # after the window: excluded itself
        {"timestamp": "2016-06-01", "person_id": "y"},
        {"timestamp": "2016-06-02", "person_id": "y", "force": OTHER},  # other force
        {"timestamp": "2015-12-20", "person_id": "z"},  # before the window
        {"timestamp": "2016-01-02", "person_id": "z"},
    )
    panel = run(tmp_path, table)
    nan = float("nan")  # February to May have no episodes: missing, not zero
    assert values(panel, "repeats") == pytest.approx([0, nan, nan, nan, nan, 2], nan_ok=True)
    assert panel.accounting.excluded["outside analysis window"] == 2
    assert panel.accounting.excluded["unit not in protocol"] == 1


def test_among_differs_from_where(tmp_path):
    # where: the episode is an s136; among: the later one is an A&E conveyance.
    table = episodes(
        {"timestamp": "2016-01-01", "person_id": "x", "s136": True},
        {"timestamp": "2016-01-02", "person_id": "x", "s136": True},  # not among: skipped
        {"timestamp": "2016-01-10", "person_id": "x", "ae_conveyance": True},
        {"timestamp": "2016-01-20", "person_id": "x", "ae_conveyance": True},  # not where
        {"timestamp": "2016-02-01", "person_id": "y", "ae_conveyance": True},
        {"timestamp": "2016-02-02", "person_id": "y", "s136": True},  # among came before
        {"timestamp": "2016-03-01", "person_id": "z", "s136": True},
        {"timestamp": "2016-03-02", "person_id": "z", "s136": True},
        {"timestamp": "2016-04-15", "person_id": "z", "ae_conveyance": True},  # 44 days later
    )
    panel = run(
        tmp_path, table, among={"ae_conveyance": True}, where={"s136": True}, end="2016-04-30"
    )
    assert values(panel, "repeats") == [2, 0, 0, 0]
    # Share denominator = all episodes of the month (no denominator filter).
    assert values(panel, "share", column="denominator") == [4, 2, 2, 1]


def test_string_and_integer_person_ids_agree(tmp_path):
    rows = [
        {"timestamp": f"2016-0{1 + i % 6}-{1 + i % 27:02d}", "person_id": f"p{i % 7}"}
        for i in range(60)
    ]
    table = episodes(*rows)
    as_text = run(tmp_path, table).frame
    table["person_id"] = table["person_id"].str[1:].astype("int64")
    as_int = run(tmp_path, table).frame
    pd.testing.assert_frame_equal(as_text, as_int)


def test_persons_sharing_a_partition_hash_do_not_mix(tmp_path, monkeypatch):
    table = episodes(
        {"timestamp": "2016-01-01", "person_id": "x"},
        {"timestamp": "2016-01-05", "person_id": "y"},
        {"timestamp": "2016-01-09", "person_id": "x"},
        {"timestamp": "2016-02-01", "person_id": "y"},
        {"timestamp": "2016-02-02", "person_id": "z"},
    )
    expected = run(tmp_path, table, end="2016-02-29").frame
    # x after 8, y after 27
    assert values(run(tmp_path, table, end="2016-02-29"), "repeats") == [2, 0]
    # Every person gets the same partition key: the worst collision there can be.
    monkeypatch.setattr(
        query_module, "person_hash", lambda p: f"CASE WHEN {p} IS NOT NULL THEN 1 END"
    )
    pd.testing.assert_frame_equal(run(tmp_path, table, end="2016-02-29").frame, expected)


def test_persons_whose_ids_collide_in_duckdb_hash_do_not_mix(tmp_path):
    require_hash_collision()
    table = episodes(
        {"timestamp": "2016-01-01", "person_id": ANCHOR},
        {"timestamp": "2016-01-05", "person_id": COLLIDER},
        {"timestamp": "2016-01-07", "person_id": ANCHOR},
        {"timestamp": "2016-02-20", "person_id": "other"},
    )
    assert values(run(tmp_path, table, end="2016-02-29"), "repeats") == [1, 0]


def test_two_windows_are_computed_independently(tmp_path):
    table = episodes(
        {"timestamp": "2016-01-01", "person_id": "x"},
        {"timestamp": "2016-02-20", "person_id": "x"},  # 50 days later
    )
    p = protocol(
        [
            {"id": "r28", "measure": {"aggregate": "count", "repeat": {"within_days": 28}}},
            {"id": "r90", "measure": {"aggregate": "count", "repeat": {"within_days": 90}}},
        ],
        end="2016-02-29",
    )
    panel = run(tmp_path, table, p)
    assert values(panel, "r28") == [0, 0]
    assert values(panel, "r90") == [1, 0]


def test_repeat_needs_person_id_column(tmp_path):
    table = episodes({"timestamp": "2016-01-01"}, {"timestamp": "2016-06-01"})
    table = table.drop(columns="person_id")
    write(tmp_path, table)
    from evaltk.errors import DataError

    with pytest.raises(DataError, match=r"'person_id'.*needed by repeats"):
        compute_panel(repeat_protocol(), tmp_path)
    # Without a repeat measure the column is not needed.
    plain = protocol([{"id": "n", "measure": {"aggregate": "count"}}])
    assert values(compute_panel(plain, tmp_path), "n", unit=UNIT_A)[0] == 1
