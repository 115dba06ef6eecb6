"""Property: with duplicate ids, negative durations, admissions before their incident, unknown
codes, missing timestamps and other forces mixed in, rows in = rows used + rows excluded, and
DuckDB agrees with the pandas oracle."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaltk.measures import compute_panel
from evaltk.measures.reference import reference_panel
from evaltk.protocol.spec import Protocol

UNIT, OTHER = "E23000019", "E23000020"
rows = st.lists(
    st.fixed_dictionaries(
        {
            "episode_id": st.sampled_from(["a", "b", "c", "d", "e", "f", "g", None]),
            "force": st.sampled_from([UNIT, UNIT, OTHER, None]),
            "timestamp": st.sampled_from([None, -40, 0, 3, 30, 100, 200]).map(
                lambda d: None if d is None else datetime(2016, 1, 1) + timedelta(days=d)
            ),
            "officer_minutes": st.sampled_from([None, -5.0, 0.0, 30.0]),
            "referral": st.sampled_from([None, "none", "gp", "CMHT"]),
            # Some before their incident (an impossible value, excluded), some after, some none.
            "admission_time": st.sampled_from([None, -41, -1, 2, 31, 150]).map(
                lambda d: None if d is None else datetime(2016, 1, 1, 12) + timedelta(days=d)
            ),
        }
    ),
    min_size=1,
    max_size=25,
)

PROTOCOL = Protocol.model_validate(
    {
        "title": "t",
        "intervention": {"kind": "street_triage", "start": {UNIT: "2016-03-01"}},
        "units": [UNIT],
        "data": {"kind": "episodes", "path": "e.parquet", "max_excluded_share": 1.0},
        "outcomes": [
            {
                "id": "mins",
                "label": "m",
                "role": "primary",
                "class": "cost",
                "direction": "decrease",
                "measure": {
                    "aggregate": "sum",
                    "field": "officer_minutes",
                    "where": {"referral": ["none", "gp"]},
                },
            },
        ],
        "design": {"kind": "its"},
        "window": {"start": "2016-01-01", "end": "2016-06-30"},
    }
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows)
def test_accounting_balances_and_matches_reference(tmp_path, table):
    frame = pd.DataFrame(table)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame["officer_minutes"] = frame["officer_minutes"].astype(float)
    frame["admission_time"] = pd.to_datetime(frame["admission_time"])
    frame.to_parquet(tmp_path / "e.parquet")
    from evaltk.errors import DataError

    try:
        expected = reference_panel(PROTOCOL, frame).accounting
    except DataError:  # the window runs beyond the drawn rows: both refuse it
        with pytest.raises(DataError, match="window"):
            compute_panel(PROTOCOL, tmp_path)
        return
    try:
        account = compute_panel(PROTOCOL, tmp_path).accounting
    except Exception as error:  # no used rows for the unit: a DataError, never a crash
        assert isinstance(error, DataError)
        assert expected.rows_used == 0
        return
    assert account.rows_in == len(frame)
    assert account.rows_used + sum(account.excluded.values()) == account.rows_in
    assert account.excluded == expected.excluded
    assert account.rows_used == expected.rows_used
