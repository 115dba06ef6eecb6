"""Episode rows: the canonical schema, internal consistency and determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from evaltk.episodes.schema import EPISODE_FIELDS, FIELD_NAMES, PLACES_OF_SAFETY, REFERRALS
from evaltk.simulate import SimulationConfig, iter_episode_chunks, simulate_force_months

ARROW_KIND = {
    "id": pa.types.is_string,
    "text": pa.types.is_string,
    "category": pa.types.is_string,
    "timestamp": pa.types.is_timestamp,
    "bool": pa.types.is_boolean,
    "number": pa.types.is_floating,
}


def test_schema_matches_the_canonical_episode_fields() -> None:
    table = next(iter_episode_chunks(SimulationConfig.preset("small")))
    assert tuple(table.schema.names) == FIELD_NAMES
    for field in EPISODE_FIELDS:
        column = table.schema.field(field.name)
        assert ARROW_KIND[field.kind](column.type), field.name
        assert column.nullable == (not field.required), field.name
        if field.required:
            assert table[field.name].null_count == 0, field.name


def test_categories_use_exactly_the_canonical_codes(demo_episodes: pd.DataFrame) -> None:
    assert set(demo_episodes["place_of_safety"].dropna()) == set(PLACES_OF_SAFETY)
    assert set(demo_episodes["referral"]) == set(REFERRALS)
    assert demo_episodes["episode_id"].is_unique
    assert demo_episodes["person_id"].str.fullmatch(r"[0-9a-f]{16}").all()


def test_outcomes_are_consistent_with_each_other(demo_episodes: pd.DataFrame) -> None:
    e = demo_episodes
    assert (e["place_of_safety"].notna() == e["s136"]).all()
    to_ed = e["place_of_safety"] == "emergency_department"
    assert e.loc[to_ed, "ae_conveyance"].all()
    at_hospital = e["ae_conveyance"] | (e["place_of_safety"] == "health_based_suite")
    assert (e.loc[~at_hospital, "hospital_wait_minutes"] == 0).all()
    assert (e.loc[at_hospital, "hospital_wait_minutes"] > 0).mean() == pytest.approx(0.8, abs=0.03)
    assert (e["officer_minutes"] >= e["hospital_wait_minutes"] + 1).all()
    assert not (e["triage_attended"] & ~e["triage_available"]).any()


def test_baseline_rates_are_realistic(large_counterfactual_episodes: pd.DataFrame) -> None:
    e = large_counterfactual_episodes
    assert e["s136"].mean() == pytest.approx(0.05, rel=0.15)
    shares = e.loc[e["s136"], "place_of_safety"].value_counts(normalize=True)
    assert shares["health_based_suite"] == pytest.approx(0.6, abs=0.02)
    assert shares["emergency_department"] == pytest.approx(0.33, abs=0.02)
    assert shares["police_custody"] == pytest.approx(0.07, abs=0.01)
    assert e["ae_conveyance"].mean() == pytest.approx(0.15, rel=0.15)
    assert e["ambulance_conveyance"].mean() == pytest.approx(0.20, rel=0.15)
    assert e["missing_person"].mean() == pytest.approx(0.03, rel=0.15)
    assert e["arrest"].mean() == pytest.approx(0.04, rel=0.15)
    assert e.loc[e["s136"], "admitted_72h"].mean() == pytest.approx(0.20, rel=0.15)
    assert e.loc[~e["s136"], "admitted_72h"].mean() == pytest.approx(0.03, rel=0.15)
    assert e["officer_minutes"].mean() == pytest.approx(180, rel=0.1)
    waits = e.loc[e["hospital_wait_minutes"] > 0, "hospital_wait_minutes"]
    assert 300 <= waits.mean() <= 600
    hours = e["timestamp"].dt.hour.value_counts(normalize=True)
    assert hours[19] > 2.5 * hours[5]  # evenings busy, small hours quiet


def test_triage_only_in_treated_months_of_treated_forces(demo_episodes: pd.DataFrame) -> None:
    frame = simulate_force_months(SimulationConfig.preset("demo"))
    starts = frame.groupby("force")["start"].first()
    start = demo_episodes["force"].map(starts)
    treated_month = demo_episodes["timestamp"] >= start  # NaT never compares true
    assert (demo_episodes["triage_available"] == treated_month).all()
    never = demo_episodes["force"].isin(starts.index[starts.isna()])
    assert never.any() and not demo_episodes.loc[never, "triage_available"].any()
    coverage = demo_episodes.loc[treated_month, "triage_attended"].mean()
    assert coverage == pytest.approx(0.6, abs=0.02)


def test_rows_are_ordered_by_force_then_time_within_the_period(demo_episodes: pd.DataFrame) -> None:
    config = SimulationConfig.preset("demo")
    assert list(dict.fromkeys(demo_episodes["force"])) == list(config.forces)
    for _, rows in demo_episodes.groupby("force", sort=False):
        assert rows["timestamp"].is_monotonic_increasing
    assert demo_episodes["timestamp"].min() >= pd.Timestamp("2014-01-01")
    assert demo_episodes["timestamp"].max() < pd.Timestamp("2020-01-01")


def test_same_seed_same_rows_and_different_seed_different_rows() -> None:
    config = SimulationConfig.preset("small")
    first = pa.concat_tables(iter_episode_chunks(config))
    again = pa.concat_tables(iter_episode_chunks(config))
    assert first.equals(again)
    other = pa.concat_tables(iter_episode_chunks(config.model_copy(update={"seed": 99})))
    assert not first.equals(other)


def test_rows_do_not_depend_on_chunk_size() -> None:
    # Chunks split only at year boundaries, so the scale is set for every force-year to fit
    # within 3,000 rows (the demo preset's own scale has larger years, yielded whole).
    config = SimulationConfig.preset("demo", scale=0.08)
    whole = list(iter_episode_chunks(config))
    small = list(iter_episode_chunks(config, max_rows=3_000))
    assert len(small) > len(whole) == len(config.forces)
    assert all(chunk.num_rows <= 3_000 for chunk in small)
    assert pa.concat_tables(whole).equals(pa.concat_tables(small))


def test_episode_counts_follow_the_backbone(demo_episodes: pd.DataFrame) -> None:
    frame = simulate_force_months(SimulationConfig.preset("demo"))
    realised = demo_episodes.groupby("force").size()
    expected = frame.groupby("force")["expected_incidents"].sum()
    z = (realised - expected) / np.sqrt(expected)
    assert (z.abs() < 4).all()
