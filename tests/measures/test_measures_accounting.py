"""Row accounting: rows in = rows used + rows excluded, one reason per row, in a fixed order."""

from __future__ import annotations

import pandas as pd
import pytest
from measures_helpers import (
    ANCHOR,
    COLLIDER,
    OTHER,
    UNIT_A,
    UNIT_B,
    episodes,
    protocol,
    require_hash_collision,
    write,
)

from evaltk.measures import compute_panel
from evaltk.measures.accounting import EXCLUSION_REASONS, exclusion_reason, row_account
from evaltk.measures.panel import RowAccount

COUNT = [{"id": "n", "measure": {"aggregate": "count"}}]


def test_reasons_are_counted_by_priority(tmp_path):
    table = episodes(
        {"timestamp": "2016-01-05"},  # used
        {"timestamp": "2016-06-30 23:59"},  # used: last minute of the window
        {"timestamp": None, "force": OTHER},  # both problems: timestamp missing first
        {"timestamp": None},
        {"timestamp": "2015-01-01", "force": OTHER},  # unit before window
        {"timestamp": "2016-02-01", "force": None},  # a missing force is not a protocol unit
        {"timestamp": "2015-12-31 23:59"},  # outside
        {"timestamp": "2016-07-01"},  # outside
    )
    write(tmp_path, table)
    account = compute_panel(protocol(COUNT), tmp_path).accounting
    assert account.rows_in == len(table)
    assert account.rows_used == 2
    assert account.excluded == {
        "timestamp missing": 2,
        "unit not in protocol": 2,
        "outside analysis window": 2,
        "episode id missing": 0,
        "duplicate episode id": 0,
        "negative duration": 0,
        "admission before incident": 0,
        "code not allowed": 0,
    }
    assert list(account.to_dict()) == ["source", "rows_in", "rows_used", "excluded"]
    assert account.source.endswith("episodes.parquet")


def test_every_reason_is_listed_even_when_zero(tmp_path):
    write(
        tmp_path,
        episodes({"timestamp": "2016-01-05"}, {"timestamp": "2016-02-05", "force": UNIT_B}),
    )
    p = protocol(COUNT, units=(UNIT_A, UNIT_B), end="2016-02-29")
    account = compute_panel(p, tmp_path).accounting
    assert account.excluded == dict.fromkeys(EXCLUSION_REASONS, 0)
    assert account.rows_used == account.rows_in == 2


def test_used_rows_are_the_panel_rows(tmp_path):
    table = episodes(*({"timestamp": f"2016-{m:02d}-10"} for m in range(1, 13)))
    write(tmp_path, table)
    panel = compute_panel(protocol(COUNT), tmp_path)
    assert panel.frame["numerator"].sum() == panel.accounting.rows_used == 6


def test_row_account_helpers():
    assert exclusion_reason(None) is None and exclusion_reason(pd.NA) is None
    assert exclusion_reason(1) == "timestamp missing"
    account = row_account("f", 5, {None: 3, "outside analysis window": 2})
    assert account.excluded["outside analysis window"] == 2
    with pytest.raises(ValueError, match="unknown exclusion reasons"):
        row_account("f", 1, {"cosmic rays": 1})
    with pytest.raises(AssertionError, match="does not balance"):
        row_account("f", 6, {None: 3, "outside analysis window": 2})
    with pytest.raises(AssertionError):
        RowAccount("f", rows_in=1, rows_used=2)


def test_quality_reasons_follow_scope_reasons(tmp_path):
    table = episodes(
        {"timestamp": "2016-01-05"},  # used
        {"timestamp": "2016-01-06", "officer_minutes": -5.0},  # negative duration
        {"timestamp": "2016-01-07", "referral": "CMHT"},  # not a schema code
        {"timestamp": "2016-01-08", "hospital_wait_minutes": -1.0, "referral": "x"},
        {"timestamp": "2015-01-08", "officer_minutes": -5.0},  # outside the window first
        {"timestamp": "2016-03-01"},  # used
    )
    table.loc[4, "episode_id"] = table.loc[0, "episode_id"]  # duplicate of a used row
    dup = episodes({"timestamp": "2016-02-01"}, {"timestamp": "2016-02-02"})
    dup["episode_id"] = "same"
    import pandas as pd

    table = pd.concat([table, dup], ignore_index=True)
    write(tmp_path, table)
    out = protocol(
        [
            {"id": "n", "measure": {"aggregate": "mean", "field": "officer_minutes"}},
            {
                "id": "w",
                "measure": {
                    "aggregate": "mean",
                    "field": "hospital_wait_minutes",
                    "where": {"referral": "none"},
                },
            },
        ],
        end="2016-03-31",
    )
    account = compute_panel(out, tmp_path).accounting
    assert account.excluded["outside analysis window"] == 1
    assert account.excluded["duplicate episode id"] == 3  # ep00000 once in, both 'same'
    assert account.excluded["negative duration"] == 2
    assert account.excluded["code not allowed"] == 1
    assert account.rows_used == 1


def test_duplicate_id_found_beside_a_missing_id(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A missing id must not hide a duplicated one (hash(NULL) is a value in DuckDB)."""
    import pandas as pd

    from evaltk.measures.reference import reference_panel
    from tests.ingest.test_accounting_property import PROTOCOL

    frame = pd.DataFrame(
        {
            "episode_id": ["a", "a", "b", None, "c", "d"],
            "force": "E23000019",
            "timestamp": pd.to_datetime(
                ["2016-01-05", "2016-01-06", "2016-02-01", None, "2016-03-01", "2016-06-01"]
            ),
            "officer_minutes": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
            "referral": "none",
        }
    )
    frame.to_parquet(tmp_path / "e.parquet")
    from evaltk.measures import compute_panel

    account = compute_panel(PROTOCOL, tmp_path).accounting
    assert account.excluded["duplicate episode id"] == 2
    assert account.excluded == reference_panel(PROTOCOL, frame).accounting.excluded


def test_episode_ids_sharing_a_hash_are_not_duplicates(tmp_path):
    """The distinct count of id hashes (inside the main statement) finds a repeat here; the
    exact grouping of the ids clears it, and the first result stands."""
    require_hash_collision()
    table = episodes(
        {"timestamp": "2016-01-05"}, {"timestamp": "2016-03-05"}, {"timestamp": "2016-06-05"}
    )
    table["episode_id"] = [ANCHOR, COLLIDER, "c"]
    write(tmp_path, table)
    account = compute_panel(protocol(COUNT), tmp_path).accounting
    assert (account.rows_used, account.excluded["duplicate episode id"]) == (3, 0)
    # The same ids made equal are duplicates: both rows are excluded.
    table["episode_id"] = [ANCHOR, ANCHOR, "c"]
    write(tmp_path, table)
    account = compute_panel(protocol(COUNT), tmp_path).accounting
    assert (account.rows_used, account.excluded["duplicate episode id"]) == (1, 2)


def test_admission_before_incident_is_excluded_when_the_file_has_the_time(tmp_path):
    table = episodes(
        {"timestamp": "2016-01-05 10:00", "admission_time": "2016-01-06 09:00"},  # used
        {"timestamp": "2016-01-05 10:00", "admission_time": "2016-01-05 09:59"},  # before
        {"timestamp": "2016-02-05 10:00", "admission_time": None},  # not admitted: used
        {"timestamp": "2016-02-05 10:00", "admission_time": "2015-02-05 10:00"},  # typo year
        {"timestamp": "2016-03-05 10:00", "admission_time": "2016-03-05 10:00"},  # same minute
        {"timestamp": "2016-03-05", "officer_minutes": -1.0, "admission_time": "2016-01-01"},
    )
    table["admission_time"] = pd.to_datetime(table["admission_time"], format="ISO8601")
    write(tmp_path, table)
    minutes = [{"id": "m", "measure": {"aggregate": "mean", "field": "officer_minutes"}}]
    account = compute_panel(protocol(minutes, end="2016-03-31"), tmp_path).accounting
    assert account.excluded["admission before incident"] == 2
    assert account.excluded["negative duration"] == 1  # the earlier rule wins
    assert account.rows_used == 3
    # The same file under another column name, mapped in data.columns.
    write(tmp_path, table.rename(columns={"admission_time": "AdmittedAt"}))
    mapped = protocol(minutes, end="2016-03-31", data={"columns": {"admission_time": "AdmittedAt"}})
    assert compute_panel(mapped, tmp_path).accounting.excluded == account.excluded


def test_admission_time_mapped_but_missing_is_an_error(tmp_path):
    from evaltk.errors import DataError

    write(tmp_path, episodes({"timestamp": "2016-01-05"}))
    mapped = protocol(COUNT, data={"columns": {"admission_time": "AdmittedAt"}})
    with pytest.raises(DataError, match="column 'AdmittedAt' for canonical field 'admission_time'"):
        compute_panel(mapped, tmp_path)
