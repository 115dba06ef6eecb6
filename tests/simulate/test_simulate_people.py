"""Repeat users: a heavy-tailed minority of people, and incidents that recur within 28 days."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaltk.simulate import SimulationConfig, iter_episode_chunks


def _followed_within(episodes: pd.DataFrame, days: int) -> float:
    """Share of incidents followed by another for the same person within ``days``."""
    person = pd.factorize(episodes["person_id"])[0]
    time = episodes["timestamp"].to_numpy()
    order = np.lexsort((time, person))
    person, time = person[order], time[order]
    followed = (person[1:] == person[:-1]) & (np.diff(time) <= np.timedelta64(days, "D"))
    return float(followed.sum() / len(person))


def _top_share(episodes: pd.DataFrame, top: float) -> float:
    counts = episodes["person_id"].value_counts().to_numpy()  # descending
    return counts[: int(np.ceil(top * len(counts)))].sum() / counts.sum()


def test_repeat_contacts_within_28_days_are_realistic(large_episodes: pd.DataFrame) -> None:
    assert 0.15 <= _followed_within(large_episodes, 28) <= 0.30
    assert _followed_within(large_episodes, 90) > _followed_within(large_episodes, 28)


def test_a_minority_of_people_account_for_many_incidents(large_episodes: pd.DataFrame) -> None:
    assert _top_share(large_episodes, 0.05) >= 0.25
    assert _top_share(large_episodes, 0.01) >= 0.10
    counts = large_episodes["person_id"].value_counts()
    assert 0.4 <= (counts == 1).mean() <= 0.75  # most people appear once


def test_repeat_rate_does_not_depend_on_scale() -> None:
    small = pd.concat(
        t.to_pandas() for t in iter_episode_chunks(SimulationConfig.preset("small", scale=0.1))
    )
    assert 0.15 <= _followed_within(small, 28) <= 0.30


def test_people_belong_to_one_force(demo_episodes: pd.DataFrame) -> None:
    assert (demo_episodes.groupby("person_id")["force"].nunique() == 1).all()


def test_no_repeat_users_without_propensity_spread() -> None:
    # Equal propensities and many people: repeats fall to the chance level.
    config = SimulationConfig.preset("demo", repeat_propensity_sigma=0.0)
    episodes = pd.concat(t.to_pandas() for t in iter_episode_chunks(config))
    assert _followed_within(episodes, 28) < 0.06
    assert _top_share(episodes, 0.05) < 0.2
