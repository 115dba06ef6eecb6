"""The simulator's journeys (simulate/journeys.py): off by default with every row unchanged,
on in their own stream with the follow-on reports the truth describes."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa

from evaltk.simulate import SimulationConfig, iter_episode_chunks, truth, write_dataset

ON = {"journey_missing_after_s136": 0.3, "journey_missing_after_admission": 0.2}


def _episodes(config: SimulationConfig) -> pd.DataFrame:
    return pa.concat_tables(list(iter_episode_chunks(config))).to_pandas()


def test_off_by_default_and_truth_json_unchanged():
    config = SimulationConfig.preset("small", scale=0.02, seed=4)
    assert config.journey_missing_after_s136 == config.journey_missing_after_admission == 0
    known = truth(config)
    assert "journeys" not in known and "journey_missing_after_s136" not in known["config"]
    explicit = config.model_copy(update={"journey_missing_after_s136": 0.0})
    assert _episodes(explicit).equals(_episodes(config))


def test_follow_ons_keep_every_other_row_and_follow_their_parents(tmp_path):
    base = SimulationConfig.preset("small", scale=0.05, seed=4)
    off, on = _episodes(base), _episodes(base.model_copy(update=ON))
    # Every row without journeys is there, unchanged but for its sequence number.
    content = [c for c in off.columns if c != "episode_id"]
    key = ["person_id", "timestamp"]
    merged = off[content].merge(on[content], how="left", on=content, indicator=True)
    assert (merged["_merge"] == "both").all()
    extra = on.merge(off[key], how="left", on=key, indicator=True)
    extra = extra[extra["_merge"] == "left_only"].drop(columns="_merge")
    assert extra["missing_person"].all() and not extra["s136"].any()
    assert not (extra["admitted_72h"] | extra["ae_conveyance"] | extra["arrest"]).any()
    assert (extra["hospital_wait_minutes"] == 0).all()
    # Each report follows an s136 detention of its person by 1-23 hours, or an admission
    # without one by 24-72 hours.
    parents = off[off["s136"] | off["admitted_72h"]][["person_id", "timestamp", "s136"]]
    pairs = extra[key].merge(parents, on="person_id", suffixes=("", "_parent"))
    gap = (pairs["timestamp"] - pairs["timestamp_parent"]).dt.total_seconds() / 3600
    fits = (pairs["s136"] & gap.between(1, 23)) | (~pairs["s136"] & gap.between(24, 72))
    explained = pairs[fits].drop_duplicates(key)
    assert len(explained) == len(extra)
    # As many as the probabilities give (binomial, 5 standard deviations).
    detained = int(off["s136"].sum())
    admitted = int((off["admitted_72h"] & ~off["s136"]).sum())
    expected = 0.3 * detained + 0.2 * admitted
    sd = (0.3 * 0.7 * detained + 0.2 * 0.8 * admitted) ** 0.5
    assert abs(len(extra) - expected) < 5 * sd and detained > 200
    folder = write_dataset(base.model_copy(update=ON), tmp_path / "d")
    known = json.loads((folder / "truth.json").read_text())
    assert known["journeys"]["missing_within_24h_of_s136"]["share"] == 0.3
    assert known["config"]["journey_missing_after_admission"] == 0.2
