"""Shared simulated samples: built once per session because the large one takes seconds."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from evaltk.simulate import EAST_MIDLANDS, SimulationConfig, iter_episode_chunks

# Every outcome gets an effect, volume unchanged, so the same seed without effects gives common
# random numbers (only the thresholds move) and a precise realised ratio.
ALL_EFFECTS = {
    "s136": 0.7,
    "ae_conveyance": 1.2,
    "ambulance_conveyance": 1.1,
    "referral": 1.25,
    "missing_person": 0.9,
    "arrest": 0.85,
    "admitted_72h": 0.8,
    "officer_minutes": 0.9,
    "hospital_wait_minutes": 1.3,
}


def episodes_frame(config: SimulationConfig) -> pd.DataFrame:
    """All episodes of a config as one pandas frame."""
    return pa.concat_tables(list(iter_episode_chunks(config))).to_pandas()


def _aggregate(episodes: pd.DataFrame) -> pd.DataFrame:
    """Episode rows to force × month totals with the same columns as ``simulate_series``."""
    frame = episodes.assign(
        period=episodes["timestamp"].dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]"),
        incidents=1,
        referral=episodes["referral"] != "none",
        s136_emergency_department=episodes["place_of_safety"] == "emergency_department",
        s136_police_custody=episodes["place_of_safety"] == "police_custody",
        # Officer time other than the wait at hospital (travel and scene): the simulator's
        # officer minutes are the two added.
        scene_minutes=episodes["officer_minutes"] - episodes["hospital_wait_minutes"],
    ).rename(columns={"triage_attended": "attended"})
    columns = [
        "incidents",
        "attended",
        "s136",
        "s136_emergency_department",
        "s136_police_custody",
        "ae_conveyance",
        "ambulance_conveyance",
        "referral",
        "missing_person",
        "arrest",
        "admitted_72h",
        "officer_minutes",
        "scene_minutes",
        "hospital_wait_minutes",
    ]
    totals = frame.groupby(["force", "period"], sort=True)[columns].sum()
    return totals.rename(columns={"attended": "triage_attended"}).reset_index()


@pytest.fixture(scope="session")
def aggregate():
    """The episode-to-series aggregation, as a fixture so tests need not import conftest."""
    return _aggregate


@pytest.fixture(scope="session")
def large_config() -> SimulationConfig:
    """The five East Midlands forces at full scale for ten years: about 1.1 million episodes."""
    return SimulationConfig.preset(
        "region",
        starts={force: "2015-01" for force in EAST_MIDLANDS[:4]} | {EAST_MIDLANDS[4]: None},
        effects=ALL_EFFECTS,
    )


@pytest.fixture(scope="session")
def large_episodes(large_config: SimulationConfig) -> pd.DataFrame:
    return episodes_frame(large_config)


@pytest.fixture(scope="session")
def large_counterfactual_episodes(large_config: SimulationConfig) -> pd.DataFrame:
    """The same seed and settings without any effect."""
    return episodes_frame(large_config.model_copy(update={"effects": {}}))


@pytest.fixture(scope="session")
def large_totals(large_episodes: pd.DataFrame) -> pd.DataFrame:
    return _aggregate(large_episodes)


@pytest.fixture(scope="session")
def large_counterfactual_totals(large_counterfactual_episodes: pd.DataFrame) -> pd.DataFrame:
    return _aggregate(large_counterfactual_episodes)


@pytest.fixture(scope="session")
def demo_episodes() -> pd.DataFrame:
    return episodes_frame(SimulationConfig.preset("demo"))
