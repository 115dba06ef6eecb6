"""High-intensity users (measures/intensity.py): hand-worked cases with their answers stated,
the DuckDB engine against the pandas reference on random tables and on a simulated force, and
the protocol's checks of the measure."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from measures_helpers import OTHER, UNIT_A, UNIT_B, episodes, protocol, values, write
from pydantic import ValidationError

from evaltk.measures import compute_panel
from evaltk.measures.reference import read_canonical, reference_panel
from evaltk.protocol.aggregates import aggregate_kind
from evaltk.protocol.needed_fields import required_fields
from evaltk.simulate import SimulationConfig, write_dataset

HIGH = {"min_contacts": 3, "months": 2}


def hi_outcomes(high: dict | None = None) -> list[dict]:
    high = HIGH if high is None else high
    return [
        {
            "id": "people",
            "measure": {"aggregate": "high_intensity_people", "high_intensity": high},
        },
        {
            "id": "share",
            "measure": {"aggregate": "high_intensity_share", "high_intensity": high},
        },
        {
            "id": "minutes",
            "measure": {
                "aggregate": "high_intensity_field_share",
                "field": "officer_minutes",
                "high_intensity": high,
            },
        },
    ]


def _worked_table() -> pd.DataFrame:
    rows = [
        # p1: 2 contacts in 2015-12 (before the window) + 1 in 2016-01 -> 3 in Dec-Jan: high in
        # January; February's window (Jan-Feb) holds 1 + 2 = 3 -> high in February too.
        {"timestamp": "2015-12-03", "person_id": "p1"},
        {"timestamp": "2015-12-20", "person_id": "p1"},
        {"timestamp": "2016-01-10", "person_id": "p1", "officer_minutes": 30.0},
        {"timestamp": "2016-02-01", "person_id": "p1", "officer_minutes": 10.0},
        {"timestamp": "2016-02-02", "person_id": "p1", "officer_minutes": 20.0},
        # p2: 2 contacts in January, 1 in another force: never 3 in one unit.
        {"timestamp": "2016-01-05", "person_id": "p2", "officer_minutes": 100.0},
        {"timestamp": "2016-01-06", "person_id": "p2", "officer_minutes": 100.0},
        {"timestamp": "2016-01-07", "person_id": "p2", "force": OTHER},
        # p3: 3 contacts in March, one of them with no minutes -> high in March and April
        # (April's window Mar-Apr holds 3) though no contact in April.
        {"timestamp": "2016-03-01", "person_id": "p3", "officer_minutes": 50.0},
        {"timestamp": "2016-03-02", "person_id": "p3", "officer_minutes": None},
        {"timestamp": "2016-03-03", "person_id": "p3", "officer_minutes": 50.0},
        # Without a person: in every denominator, nobody's.
        {"timestamp": "2016-03-04", "person_id": None, "officer_minutes": 100.0},
        {"timestamp": "2016-04-15", "person_id": "p4", "officer_minutes": 40.0},
        {"timestamp": "2016-05-15", "person_id": "p4", "officer_minutes": 40.0},
        {"timestamp": "2016-06-15", "person_id": "p5", "officer_minutes": 40.0},
    ]
    return episodes(*rows)


def test_worked_example_counts_people_and_their_share(tmp_path):
    table = _worked_table()
    write(tmp_path, table)
    p = protocol(hi_outcomes(), data={"population": None})
    panel = compute_panel(p, tmp_path)
    # Months Jan..Jun 2016.
    assert values(panel, "people") == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    # January: p1 1 of 3 incidents (p2's other-force contact is not this unit's);
    # February: 2 of 2; March: p3 3 of 4; April: p4's 1 is not p3's -> 0 of 1.
    assert values(panel, "share", column="numerator") == [1.0, 2.0, 3.0, 0.0, 0.0, 0.0]
    assert values(panel, "share", column="denominator") == [3.0, 2.0, 4.0, 1.0, 1.0, 1.0]
    # Minutes: January 30 of 230; February 30 of 30; March 100 of 200.
    assert values(panel, "minutes", column="numerator") == [30.0, 30.0, 100.0, 0.0, 0.0, 0.0]
    assert values(panel, "minutes", column="denominator") == [230.0, 30.0, 200.0, 40, 40, 40]
    assert values(panel, "minutes")[2] == pytest.approx(0.5, abs=1e-15)
    # The people count has no denominator and reads as the count itself.
    assert np.isnan(values(panel, "people", column="denominator")).all()
    expected = reference_panel(p, table)
    pd.testing.assert_frame_equal(panel.frame, expected.frame, check_exact=True)


def test_a_stricter_threshold_finds_nobody(tmp_path):
    table = _worked_table()
    write(tmp_path, table)
    p = protocol(hi_outcomes({"min_contacts": 4, "months": 2}), data={"population": None})
    panel = compute_panel(p, tmp_path)
    assert values(panel, "people") == [0.0] * 6
    assert values(panel, "share", column="numerator") == [0.0] * 6


def test_the_kinds_say_what_the_steps_need():
    people = aggregate_kind("high_intensity_people")
    assert (people.additive, people.has_denominator, people.about_people) == (False, False, True)
    share = aggregate_kind("high_intensity_share")
    assert (share.per_incident, share.proportion, share.about_people) == (True, True, True)
    minutes = aggregate_kind("high_intensity_field_share")
    assert (minutes.per_incident, minutes.sums_a_field, minutes.about_people) == (
        True,
        True,
        False,
    )


@pytest.mark.parametrize(
    ("measure", "message"),
    [
        (
            {"aggregate": "high_intensity_people"},
            "aggregate 'high_intensity_people' needs 'high_intensity'",
        ),
        (
            {"aggregate": "count", "high_intensity": {}},
            "'high_intensity' applies only to the high_intensity_* aggregates",
        ),
        (
            {
                "aggregate": "high_intensity_share",
                "high_intensity": {},
                "repeat": {"within_days": 7},
            },
            "'repeat' does not apply to aggregate 'high_intensity_share'",
        ),
        (
            {"aggregate": "high_intensity_field_share", "high_intensity": {}},
            "aggregate 'high_intensity_field_share' needs 'field'",
        ),
    ],
)
def test_the_protocol_refuses_a_wrong_measure(measure, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        protocol([{"id": "x", "measure": measure}])


def test_the_default_threshold_is_more_than_five_in_twelve_months():
    p = protocol([hi_outcomes({})[0]])
    measure = p.outcomes[0].measure
    assert measure is not None and measure.high_intensity is not None
    assert (measure.high_intensity.min_contacts, measure.high_intensity.months) == (6, 12)


# Few persons, few forces, days from a year before the window to after it: thresholds are
# crossed, left and crossed again, across units and across the window's ends.
_row = st.fixed_dictionaries(
    {
        "person_id": st.sampled_from([None, "p0", "p1", "p2", "p3"]),
        "force": st.sampled_from([None, UNIT_A, UNIT_A, UNIT_B, OTHER]),
        "timestamp": st.builds(
            lambda d: None if d is None else datetime(2016, 1, 1) + timedelta(days=d, hours=9),
            st.sampled_from([None, -400, -340, -300, -40, -1, 0, 20, 31, 45, 60, 90, 150, 181]),
        ),
        "s136": st.sampled_from([None, True, False]),
        "officer_minutes": st.sampled_from([None, -5.0, 0.0, 30.0, 75.5]),
        "referral": st.sampled_from([None, "gp", "none", "not-a-code"]),
    }
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(_row, min_size=10, max_size=80),
    k=st.sampled_from([2, 3, 4]),
    months=st.sampled_from([1, 2, 12]),
    where_s136=st.booleans(),
    csv=st.booleans(),
)
def test_duckdb_matches_the_pandas_reference(tmp_path_factory, rows, k, months, where_s136, csv):
    # One row per unit in the window's first and last month, so the panel exists.
    anchors = [
        {"person_id": "p0", "force": unit, "timestamp": datetime(2016, m, 15), "s136": True}
        for unit in (UNIT_A, UNIT_B)
        for m in (1, 6)
    ]
    table = pd.DataFrame([*rows, *anchors])
    table.insert(0, "episode_id", [f"e{i}" for i in range(len(table))])
    table["timestamp"] = pd.to_datetime(table["timestamp"])
    table["s136"] = table["s136"].astype("boolean")
    table["officer_minutes"] = table["officer_minutes"].astype(float)
    for name in ("person_id", "force", "referral"):
        table[name] = table[name].astype(object)
    folder = tmp_path_factory.mktemp("hi")
    name = "episodes.csv" if csv else "episodes.parquet"
    write(folder, table, name)
    outcomes = hi_outcomes({"min_contacts": k, "months": months})
    if where_s136:
        for outcome in outcomes:
            outcome["measure"]["where"] = {"s136": True}
    p = protocol(outcomes, units=(UNIT_A, UNIT_B), data={"path": name, "population": None})
    # The engine reads (and checks) only the fields the protocol needs; so does the reference.
    needed = required_fields(p)
    expected = reference_panel(p, table[[c for c in table if c in needed]])
    actual = compute_panel(p, folder)
    pd.testing.assert_frame_equal(actual.frame, expected.frame, check_exact=True)


def test_duckdb_matches_the_reference_on_a_simulated_force(tmp_path):
    # A simulated force's people repeat as real ones do (a few with dozens of incidents).
    folder = write_dataset(SimulationConfig.preset("small", scale=0.06, seed=5), tmp_path / "d")
    outcomes = hi_outcomes({})  # the default: at least 6 contacts in 12 months
    outcomes.append(
        {
            "id": "s136_people",
            "measure": {
                "aggregate": "high_intensity_people",
                "where": {"s136": True},
                "high_intensity": {"min_contacts": 2, "months": 6},
            },
        }
    )
    p = protocol(
        outcomes,
        units=("E23000019",),
        start="2015-01-01",
        end="2019-12-31",
        data={"population": "population.csv"},
    )
    table = read_canonical(p, folder)
    expected = reference_panel(p, table)
    actual = compute_panel(p, folder)
    pd.testing.assert_frame_equal(actual.frame, expected.frame, check_exact=True)
    people = actual.frame[actual.frame["outcome"] == "people"]["numerator"]
    share = actual.frame[actual.frame["outcome"] == "share"]["value"]
    # Not a degenerate case: high-intensity users in every month, carrying a part of the demand.
    assert people.min() > 0
    assert 0 < share.mean() < 1


def test_the_preregistration_page_states_the_threshold():
    from evaltk.publish.preregistration import measure_text

    p = protocol(hi_outcomes({"min_contacts": 4, "months": 6}))
    assert measure_text(p.outcomes[0].measure) == (
        "number of high-intensity users, a high-intensity user being a person with at least "
        "4 incidents in one force in the 6 calendar months ending with the month"
    )
