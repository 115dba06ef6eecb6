"""The fast series path draws the same monthly totals, in distribution, as the episodes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.simulate import (
    EFFECT_NAMES,
    SERIES_OUTCOMES,
    SimulationConfig,
    expected_outcomes,
    simulate_series,
)

# Outcomes with a known expectation per force-month (every effect key is a series column).
COUNTED = list(EFFECT_NAMES)


def test_series_columns_and_determinism() -> None:
    config = SimulationConfig.preset("national")
    series = simulate_series(config)
    assert list(series.columns) == ["force", "period", "population", "treated", *SERIES_OUTCOMES]
    assert len(series) == 43 * 120
    pd.testing.assert_frame_equal(series, simulate_series(config))
    assert not series.equals(simulate_series(config.model_copy(update={"seed": 1})))
    assert (
        series["s136"] >= series["s136_emergency_department"] + series["s136_police_custody"]
    ).all()
    assert (series["ae_conveyance"] >= series["s136_emergency_department"]).all()
    assert (series.loc[~series["treated"], "triage_attended"] == 0).all()


@pytest.fixture(scope="module")
def expected(large_config: SimulationConfig) -> pd.DataFrame:
    return expected_outcomes(large_config)


@pytest.fixture(scope="module")
def episode_totals(large_totals: pd.DataFrame, expected: pd.DataFrame) -> pd.DataFrame:
    """Episode totals in the same force × month order as ``expected`` (zero where empty)."""
    keys = ["force", "period"]
    aligned = expected[keys].merge(large_totals, on=keys, how="left", validate="one_to_one")
    return aligned.fillna(0)


@pytest.fixture(scope="module")
def series(large_config: SimulationConfig) -> pd.DataFrame:
    return simulate_series(large_config)


@pytest.mark.parametrize("key", COUNTED)
def test_series_and_episode_totals_agree_with_expectation(
    key: str, expected: pd.DataFrame, series: pd.DataFrame, episode_totals: pd.DataFrame
) -> None:
    # About a million incidents: every total is within 2 % of its expectation (> 4 sds).
    assert series[key].sum() / expected[key].sum() == pytest.approx(1, abs=0.02)
    assert episode_totals[key].sum() / expected[key].sum() == pytest.approx(1, abs=0.02)


@pytest.mark.parametrize("key", COUNTED)
def test_series_and_episodes_scatter_alike_around_expectation(
    key: str, expected: pd.DataFrame, series: pd.DataFrame, episode_totals: pd.DataFrame
) -> None:
    # 600 force-months: a variance estimate has a relative sd near 6 %, a ratio of two near 8 %.
    # The bounds (about 4 sds) catch a wrong dispersion, e.g. a Poisson sum for minutes.
    var_series = np.var(series[key] - expected[key])
    var_episodes = np.var(episode_totals[key] - expected[key])
    assert 0.7 <= var_series / var_episodes <= 1.4


def test_incident_counts_are_poisson_given_the_backbone(
    expected: pd.DataFrame, series: pd.DataFrame
) -> None:
    z = (series["incidents"] - expected["incidents"]) / np.sqrt(expected["incidents"])
    assert np.var(z) == pytest.approx(1, abs=0.2)
