"""People's journeys and contacts per person (measures/journeys.py): a worked example by hand,
and the SQL against a plain pandas reading of the same rules on a simulated force."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from measures_helpers import ANCHOR, COLLIDER, episodes, protocol, require_hash_collision, write

import evaltk.measures.query as query_module
from evaltk.ingest.spark import SparkSettings
from evaltk.measures import EngineSettings
from evaltk.measures.journeys import demand_tables, pathway_phases, span_phases
from evaltk.simulate import SimulationConfig, write_dataset

OUTCOME = [{"id": "n", "measure": {"aggregate": "count"}}]


def test_a_worked_journey(tmp_path):
    # Window 2016-01..2016-06, start 2016-02 (the helper's second month).
    frame = episodes(
        # Before: p1 detained under s136, reported missing 20 hours later, then nothing.
        {"timestamp": "2016-01-10 10:00", "person_id": "p1", "s136": True},
        {"timestamp": "2016-01-11 06:00", "person_id": "p1", "missing_person": True},
        # After: p2 seen by triage, referred, back 27 days later and admitted.
        {"timestamp": "2016-03-01 12:00", "person_id": "p2", "triage_attended": True,
         "referral": "gp"},
        {"timestamp": "2016-03-28 12:00", "person_id": "p2", "admitted_72h": True},
        # After: p3 once, no action; a row without a person is nobody's journey.
        {"timestamp": "2016-04-01 12:00", "person_id": "p3"},
        {"timestamp": "2016-04-02 12:00", "person_id": None},
        # p3 again 29 days later: outside the 28-day window.
        {"timestamp": "2016-04-30 12:00:01", "person_id": "p3", "ae_conveyance": True},
    )  # fmt: skip
    write(tmp_path, frame)
    tables = demand_tables(protocol(OUTCOME), tmp_path)
    assert tables is not None
    got = {
        (r.phase, r.contact, r.outcome, r.next): (r.incidents, r.people)
        for r in tables.pathways.itertuples()
    }
    assert got == {
        ("before", "Police only", "Section 136", "Missing-person report"): (1, 1),
        ("before", "Police only", "No further action", "No contact"): (1, 1),
        ("after", "Triage contact", "Referral", "Admission"): (1, 1),
        ("after", "Police only", "Admission", "No contact"): (1, 1),
        ("after", "Police only", "No further action", "No contact"): (1, 1),
        ("after", "Police only", "A&E", "No contact"): (1, 1),
    }
    assert tables.phase_months == {"before": 1, "after": 5}
    # Contacts per person, year before the start (2015-02..2016-01) and last 12 months.
    contacts = tables.contacts
    before = contacts[contacts["phase"] == "before"]
    assert before[["contacts", "people", "incidents"]].values.tolist() == [[2, 1, 2]]
    after = contacts[contacts["phase"] == "after"].fillna({"contacts": -1})
    assert sorted(after[["contacts", "people", "incidents"]].values.tolist()) == [
        [-1, 0, 1],  # the episode of nobody
        [2, 2, 4],
    ]
    assert tables.min_contacts == 6


def _journeys(tmp_path, frame):
    write(tmp_path, frame)
    tables = demand_tables(protocol(OUTCOME), tmp_path)
    assert tables is not None
    return tables.pathways


def test_journeys_of_persons_sharing_a_partition_key_do_not_mix(tmp_path, monkeypatch):
    # x is reported missing 2 days after y's incident, and y comes back 4 days after x's
    # first: neither is the other's next step.
    frame = episodes(
        {"timestamp": "2016-03-01 12:00", "person_id": "x"},
        {"timestamp": "2016-03-02 12:00", "person_id": "y"},
        {"timestamp": "2016-03-04 12:00", "person_id": "x", "missing_person": True},
        {"timestamp": "2016-03-05 12:00", "person_id": "y", "admitted_72h": True},
        {"timestamp": "2016-03-20 12:00", "person_id": "z"},
    )
    expected = _journeys(tmp_path, frame)
    nexts = expected.groupby("next")["incidents"].sum().to_dict()
    assert nexts == {"Missing-person report": 1, "Admission": 1, "No contact": 3}
    # Every person gets the same partition key: the worst collision there can be.
    monkeypatch.setattr(
        query_module, "person_hash", lambda p: f"CASE WHEN {p} IS NOT NULL THEN 1 END"
    )
    pd.testing.assert_frame_equal(_journeys(tmp_path, frame), expected)


def test_journeys_of_persons_whose_ids_collide_in_duckdb_hash_do_not_mix(tmp_path):
    require_hash_collision()
    frame = episodes(
        {"timestamp": "2016-03-01 12:00", "person_id": ANCHOR},
        {"timestamp": "2016-03-02 12:00", "person_id": COLLIDER, "missing_person": True},
    )
    got = _journeys(tmp_path, frame)
    # Mixed, the first would have a missing-person report as its next step.
    assert got[["next", "incidents", "people"]].values.tolist() == [["No contact", 2, 2]]


def test_no_person_ids_no_journeys(tmp_path):
    frame = episodes({"timestamp": "2016-03-01 12:00"}).drop(columns="person_id")
    write(tmp_path, frame)
    assert demand_tables(protocol(OUTCOME), tmp_path) is None


def test_phases_of_a_unit():
    p = protocol(OUTCOME, start="2015-01-01", end="2019-12-31")
    (before, after) = pathway_phases(p)
    assert (before.first, before.last, before.months) == (
        dt.date(2015, 1, 1), dt.date(2015, 1, 1), 1,
    )  # fmt: skip
    assert (after.first, after.last, after.months) == (
        dt.date(2015, 2, 1),
        dt.date(2019, 12, 1),
        59,
    )
    year_before, last_year = span_phases(p)
    assert (year_before.first, year_before.last) == (dt.date(2014, 2, 1), dt.date(2015, 1, 1))
    assert (last_year.first, last_year.last) == (dt.date(2019, 1, 1), dt.date(2019, 12, 1))


def _reference_pathways(table: pd.DataFrame, phases, days: int = 28) -> pd.DataFrame:
    """The pathway rules in plain pandas: for each index episode, scan its person's later ones."""
    table = table[table["person_id"].notna()].sort_values("timestamp")
    limit = pd.Timedelta(days=days)
    rows = []
    for _, person in table.groupby("person_id"):
        for i, row in enumerate(person.itertuples()):
            month = row.timestamp.to_period("M").to_timestamp().date()
            phase = next((p.phase for p in phases if p.first <= month <= p.last), None)
            if phase is None:
                continue
            later = person.iloc[i + 1 :]
            later = later[(later["timestamp"] > row.timestamp)
                          & (later["timestamp"] - row.timestamp <= limit)]  # fmt: skip
            nxt = ("Missing-person report" if later["missing_person"].any()
                   else "Admission" if later["admitted_72h"].any()
                   else "Repeat contact" if len(later) else "No contact")  # fmt: skip
            outcome = (
                "Section 136" if row.s136
                else "Admission" if row.admitted_72h
                else "A&E" if row.ae_conveyance
                else "Referral" if row.referral != "none"
                else "No further action"
            )  # fmt: skip
            contact = "Triage contact" if row.triage_attended else "Police only"
            rows.append((phase, contact, outcome, nxt, row.person_id, row.officer_minutes))
    frame = pd.DataFrame(rows, columns=["phase", "contact", "outcome", "next", "person", "minutes"])
    return (
        frame.groupby(["phase", "contact", "outcome", "next"])
        .agg(
            incidents=("person", "size"),
            people=("person", "nunique"),
            officer_minutes=("minutes", "sum"),
        )
        .reset_index()
    )


def _simulated_force(tmp_path):
    """A protocol for Nottinghamshire 2015-2017 and its simulated episodes' folder."""
    folder = write_dataset(SimulationConfig.preset("small", scale=0.01, seed=9), tmp_path / "d")
    p = protocol(
        OUTCOME,
        units=("E23000019",),
        start="2015-01-01",
        end="2017-12-31",
        data={"population": "population.csv"},
    )
    return p, folder


def test_pathways_match_pandas_on_a_simulated_force(tmp_path):
    p, folder = _simulated_force(tmp_path)
    tables = demand_tables(p, folder)
    assert tables is not None
    table = pd.read_parquet(folder / "episodes.parquet")
    expected = _reference_pathways(table, pathway_phases(p))
    key = ["phase", "contact", "outcome", "next"]
    got = tables.pathways.sort_values(key).reset_index(drop=True)
    expected = expected.sort_values(key).reset_index(drop=True)
    assert got[key].values.tolist() == expected[key].values.tolist()
    assert got["incidents"].tolist() == expected["incidents"].tolist()
    assert got["people"].tolist() == expected["people"].tolist()
    np.testing.assert_allclose(got["officer_minutes"], expected["officer_minutes"], rtol=1e-12)
    assert got["incidents"].sum() > 500  # every used episode of the window is one step
    # The year before the start: people by number of contacts, as pandas counts them.
    year = span_phases(p)[0]
    months = table["timestamp"].dt.to_period("M").dt.to_timestamp().dt.date
    inside = table[(months >= year.first) & (months <= year.last) & table["person_id"].notna()]
    counts = inside.groupby("person_id").size().value_counts().sort_index()
    before = tables.contacts[
        (tables.contacts["phase"] == "before") & tables.contacts["contacts"].notna()
    ]
    assert before["contacts"].astype(int).tolist() == counts.index.tolist()
    assert before["people"].tolist() == counts.tolist()


def test_high_intensity_users_of_each_year(tmp_path):
    frame = episodes(
        {"timestamp": "2016-03-01 12:00", "person_id": "p2", "officer_minutes": 100.0},
        {"timestamp": "2016-03-28 12:00", "person_id": "p2", "officer_minutes": 50.0},
        {"timestamp": "2016-04-01 12:00", "person_id": "p3", "officer_minutes": 30.0},
        {"timestamp": "2016-04-02 12:00", "person_id": "p3", "officer_minutes": 30.0},
        {"timestamp": "2016-05-02 12:00", "person_id": "p3", "officer_minutes": 30.0},
        {"timestamp": "2016-04-02 12:00", "person_id": None, "officer_minutes": 10.0},
        {"timestamp": "2016-06-02 12:00", "person_id": "p4", "officer_minutes": 20.0},
    )
    write(tmp_path, frame)
    measure = {"aggregate": "high_intensity_people", "high_intensity": {"min_contacts": 3}}
    tables = demand_tables(protocol([{"id": "hi", "measure": measure}]), tmp_path)
    assert tables is not None and tables.min_contacts == 3
    after = tables.high_intensity.set_index("phase").loc["after"]
    assert (after["people"], after["incidents"], after["all_incidents"]) == (1, 3, 7)
    assert (after["minutes"], after["all_minutes"]) == (90.0, 270.0)
    # Lorenz points with the default threshold 5: 3 people in all, too few for any point.
    assert tables.lorenz.empty or tables.lorenz["people"].max() == 0


def test_hours_per_person_in_crisis(tmp_path):
    """``per_person``: the field summed over the month's matching incidents, over the
    distinct people who had one (a row without a person adds to the sum, not to the people)."""
    from measures_helpers import values

    from evaltk.measures.episodes import compute_panel

    frame = episodes(
        {"timestamp": "2016-01-03 10:00", "person_id": "p1", "officer_minutes": 120.0},
        {"timestamp": "2016-01-04 10:00", "person_id": "p1", "officer_minutes": 60.0},
        {"timestamp": "2016-01-05 10:00", "person_id": "p2", "officer_minutes": 30.0},
        {"timestamp": "2016-01-06 10:00", "person_id": None, "officer_minutes": 90.0},
        {"timestamp": "2016-02-06 10:00", "person_id": "p2", "officer_minutes": None},
        {"timestamp": "2016-03-06 10:00", "person_id": "p3", "s136": True},
        {"timestamp": "2016-06-06 10:00", "person_id": "p3", "s136": True},
    )
    write(tmp_path, frame)
    measure = {"aggregate": "per_person", "field": "officer_minutes", "where": {"s136": False}}
    panel = compute_panel(protocol([{"id": "pp", "measure": measure}]), tmp_path)
    assert values(panel, "pp", column="numerator")[:3] == [300.0, 0.0, 0.0]
    assert values(panel, "pp", column="denominator")[:3] == [2.0, 1.0, 0.0]
    assert values(panel, "pp")[:2] == [150.0, 0.0]
    assert np.isnan(values(panel, "pp")[2])  # no one in March: undefined, not zero
    assert panel.series("pp", ["E23000019"])["value"].tolist()[:2] == [150.0, 0.0]


def test_per_person_is_an_ordinary_outcome(tmp_path):
    """On a simulated force: the SQL equals the pandas reference, the protocol asks for the
    person id, and the ITS fits it with people as exposure, read 'per person'."""
    from evaltk.estimate import fit_outcomes
    from evaltk.estimate.its import model_series
    from evaltk.measures.episodes import compute_panel
    from evaltk.measures.reference import read_canonical, reference_panel
    from evaltk.protocol.aggregates import aggregate_kind
    from evaltk.protocol.needed_fields import required_fields
    from evaltk.protocol.spec import Protocol
    from evaltk.verdict.axis_labels import measure_unit
    from evaltk.verdict.headline import measure_phrase

    kind = aggregate_kind("per_person")
    assert (kind.per_person, kind.per_incident, kind.additive, kind.about_people) == (
        True, True, False, False,
    )  # fmt: skip
    assert measure_phrase("per_person") == ("per person",)
    assert measure_unit("per_person", "officer_minutes") == "minutes per person"
    folder = write_dataset(SimulationConfig.preset("small", scale=0.02, seed=9), tmp_path / "d")
    measure = {"aggregate": "per_person", "field": "officer_minutes"}
    p = protocol(
        [{"id": "hours_pp", "label": "Officer minutes per person in crisis", "measure": measure}],
        units=("E23000019",),
        start="2014-01-01",
        end="2019-12-31",
        data={"population": "population.csv"},
    )
    # The scheme's start in April 2016, as simulated (the helper starts it in the window's
    # second month).
    document = p.model_dump(by_alias=True, mode="json")
    document["intervention"]["start"] = {"E23000019": "2016-04-01"}
    p = Protocol.model_validate(document)
    assert "hours_pp" in required_fields(p)["person_id"]
    panel = compute_panel(p, folder)
    expected = reference_panel(p, read_canonical(p, folder))
    for column in ("numerator", "denominator", "value"):
        np.testing.assert_allclose(
            panel.frame[column].to_numpy(float), expected.frame[column].to_numpy(float), rtol=1e-12
        )
    people = panel.frame["denominator"].to_numpy(float)
    assert people.min() >= 5 and (panel.frame["value"] > 60).all()
    (fit,) = fit_outcomes(panel, p)
    assert fit.effect is not None and fit.scale == "ratio"
    # The count model's exposure is the number of people (its log the offset).
    series = model_series(panel, p, p.outcomes[0], "poisson")
    np.testing.assert_array_equal(series["exposure"].to_numpy(float), people)


def test_a_linked_record_is_a_step_of_the_journey(tmp_path):
    """On a linked file, an A&E attendance or admission found by linkage counts as that step
    even where the police record has no flag."""
    frame = episodes(
        {"timestamp": "2016-03-01 12:00", "person_id": "p1"},
        {"timestamp": "2016-03-02 12:00", "person_id": "p2"},
        {"timestamp": "2016-03-03 12:00", "person_id": "p3"},
    )
    frame["linked_ae"] = [True, False, False]
    frame["linked_admission"] = [False, True, False]
    write(tmp_path, frame)
    tables = demand_tables(protocol(OUTCOME), tmp_path)
    assert tables is not None
    assert sorted(tables.pathways["outcome"]) == ["A&E", "Admission", "No further action"]


@pytest.mark.xdist_group("spark")
def test_spark_gives_the_duckdb_journeys_and_contacts(tmp_path, spark):
    """On Spark (where the data live) the pathway and contacts tables are DuckDB's: the same
    SQL source compiled by ingest/dialect.py; counts exactly, officer minutes to 1e-12."""
    p, folder = _simulated_force(tmp_path)
    duck = demand_tables(p, folder)
    on_spark = demand_tables(
        p, folder, settings=EngineSettings(engine="spark", spark=SparkSettings("local[2]"))
    )
    assert duck is not None and on_spark is not None
    assert len(duck.pathways) > 10 and duck.contacts["people"].sum() > 100
    for got, expected in ((on_spark.pathways, duck.pathways), (on_spark.contacts, duck.contacts)):
        pd.testing.assert_frame_equal(
            got.reset_index(drop=True),
            expected.reset_index(drop=True),
            check_exact=False,
            rtol=1e-12,
            check_dtype=False,
        )
    assert on_spark.phase_months == duck.phase_months
