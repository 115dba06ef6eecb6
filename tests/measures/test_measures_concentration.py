"""Concentration of demand (measures/concentration.py): the contact distribution by SQL
against pandas on a simulated force, and the Lorenz-type points on a worked example."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from measures_helpers import protocol

from evaltk.measures.concentration import contact_distribution, lorenz_points
from evaltk.measures.reference import read_canonical
from evaltk.simulate import SimulationConfig, write_dataset


def test_the_distribution_matches_pandas_on_a_simulated_force(tmp_path):
    folder = write_dataset(SimulationConfig.preset("small", scale=0.06, seed=5), tmp_path / "d")
    outcome = {
        "id": "people",
        "measure": {"aggregate": "high_intensity_people", "high_intensity": {}},
    }
    p = protocol(
        [outcome],
        units=("E23000019",),
        start="2015-01-01",
        end="2019-12-31",
        data={"population": "population.csv"},
    )
    measure = p.outcomes[0].measure
    assert measure is not None
    first, last = dt.date(2015, 4, 1), dt.date(2016, 3, 31)
    actual = contact_distribution(p, measure, folder, first, last)
    # Pandas: the simulated file is clean (no exclusions), so every row of the force counts.
    table = read_canonical(p, folder)
    inside = table["timestamp"].between(pd.Timestamp(first), pd.Timestamp("2016-03-31 23:59:59"))
    per_person = table[inside & table["person_id"].notna()].groupby("person_id").size()
    expected = per_person.value_counts().sort_index()
    assert actual["contacts"].tolist() == expected.index.tolist()
    assert actual["people"].tolist() == expected.tolist()
    assert actual["people"].sum() > 500 and actual["contacts"].max() >= 12


def test_lorenz_points_merge_small_groups():
    distribution = pd.DataFrame({"contacts": [1, 2, 5, 30], "people": [50, 20, 6, 2]})
    points = lorenz_points(distribution, min_people=5)
    # 30 x 2 people (< 5) merges with the 6 people at 5 contacts: 8 people, 90 contacts;
    # then 20 people with 40 contacts; then 50 with 50. Totals 78 people, 180 contacts.
    assert points["people"].tolist() == [0, 8, 28, 78]
    assert points["contacts"].tolist() == [0, 90, 130, 180]
    assert points["people_share"].tolist() == pytest.approx([0, 8 / 78, 28 / 78, 1], abs=1e-15)
    assert points["contact_share"].tolist() == pytest.approx([0, 0.5, 130 / 180, 1], abs=1e-15)


def test_a_small_light_end_is_merged_into_the_last_point():
    distribution = pd.DataFrame({"contacts": [1, 9], "people": [3, 10]})
    points = lorenz_points(distribution, min_people=5)
    assert points["people"].tolist() == [0, 13]
    assert points["contacts"].tolist() == [0, 93]


def test_too_few_people_show_nothing():
    distribution = pd.DataFrame({"contacts": [1, 4], "people": [2, 2]})
    assert lorenz_points(distribution, min_people=5)["people"].tolist() == [0]
