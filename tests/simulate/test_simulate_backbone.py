"""Forces, population and the force × month backbone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.episodes.schema import POPULATION_FIELDS
from evaltk.simulate import (
    ALL_FORCES,
    SimulationConfig,
    force_table,
    population_table,
    simulate_force_months,
    start_months,
)


def test_force_table_has_the_43_ons_codes() -> None:
    table = force_table()
    expected = [f"E23{i:06d}" for i in range(1, 40)] + [f"W15{i:06d}" for i in range(1, 5)]
    assert table["force"].tolist() == expected == list(ALL_FORCES)
    names = dict(zip(table["force"], table["name"], strict=True))
    assert names["E23000001"] == "Metropolitan Police"
    assert names["E23000018"] == "Derbyshire" and names["E23000022"] == "Northamptonshire"
    assert table["population"].sum() == pytest.approx(57.5e6, rel=0.05)


def test_population_table_grows_and_has_canonical_columns() -> None:
    table = population_table(["E23000019"], [2014, 2015, 2016], growth=0.01)
    assert tuple(table.columns) == POPULATION_FIELDS
    assert table["population"].tolist() == [1_111_000, 1_122_110, 1_133_331]


def test_backbone_rows_and_treatment_timing() -> None:
    config = SimulationConfig()
    frame = simulate_force_months(config)
    assert len(frame) == len(config.forces) * config.months
    assert frame["period"].min() == pd.Timestamp("2014-01-01")
    assert frame["period"].max() == pd.Timestamp("2019-12-01")
    notts = frame[frame["force"] == "E23000019"].set_index("period")
    # The start month is INCLUSIVE.
    assert not notts.loc["2016-03-01", "treated"] and notts.loc["2016-04-01", "treated"]
    assert (
        notts.loc["2016-04-01", "event_time"] == 0 and notts.loc["2016-01-01", "event_time"] == -3
    )
    assert notts["treated"].sum() == 45
    never = frame[frame["force"].isin(["E23000020", "E23000022"])]
    assert not never["treated"].any() and never["event_time"].isna().all()
    assert (never["coverage"] == 0).all()


def test_volume_effect_applies_only_to_treated_months() -> None:
    frame = simulate_force_months(SimulationConfig(effects={"incidents": 0.8}))
    ratio = frame["expected_incidents"] / frame["expected_incidents_counterfactual"]
    np.testing.assert_allclose(ratio[frame["treated"]], 0.8)
    np.testing.assert_allclose(ratio[~frame["treated"]], 1.0)


def test_expected_rate_tracks_population_and_base_rate() -> None:
    config = SimulationConfig.preset("national", force_rate_sd=0.0)
    frame = simulate_force_months(config)
    first = frame[frame["period"] == frame["period"].min()]
    per_100k = first["expected_incidents_counterfactual"] / first["population"] * 1e5
    # Only the January season, AR(1) and gamma noise separate the rate from the base rate.
    season = 1 + config.seasonal_amplitude * np.cos(2 * np.pi * (1 - 7) / 12)
    assert per_100k.median() == pytest.approx(160 * season, rel=0.1)


def test_generated_starts_fall_in_the_window_and_are_deterministic() -> None:
    config = SimulationConfig.preset("national", start_window=("2016-01", "2018-12"))
    starts = start_months(config)
    assert starts == start_months(config)
    treated = [s for s in starts.values() if not np.isnat(s)]
    assert len(treated) == 43 - 13
    assert all(np.datetime64("2016-01") <= s <= np.datetime64("2018-12") for s in treated)
    other = start_months(config.model_copy(update={"seed": 1}))
    assert other != starts


def test_backbone_is_deterministic_and_seed_dependent() -> None:
    config = SimulationConfig()
    pd.testing.assert_frame_equal(simulate_force_months(config), simulate_force_months(config))
    other = simulate_force_months(config.model_copy(update={"seed": 2}))
    assert not np.allclose(
        other["expected_incidents"], simulate_force_months(config)["expected_incidents"]
    )


def test_a_force_does_not_depend_on_which_other_forces_are_simulated() -> None:
    both = simulate_force_months(SimulationConfig())
    alone = simulate_force_months(
        SimulationConfig(forces=("E23000019",), starts={"E23000019": "2016-04"})
    )
    notts = both[both["force"] == "E23000019"].reset_index(drop=True)
    pd.testing.assert_frame_equal(notts, alone)
