"""SimulationConfig: presets, overrides, and every impossible setting as a SimulationError."""

from __future__ import annotations

import pydantic
import pytest

from evaltk.errors import SimulationError
from evaltk.simulate import ALL_FORCES, EAST_MIDLANDS, SimulationConfig, simulate_force_months
from evaltk.simulate.config import DEMO_SEED


def test_defaults_are_the_demo_story() -> None:
    config = SimulationConfig()
    assert config.forces == EAST_MIDLANDS
    assert config.starts["E23000019"] == "2016-04"
    assert sum(start is None for start in config.starts.values()) == 2
    assert config.effects == {
        "s136": 0.7,
        "ae_conveyance": 1.2,
        "hospital_wait_minutes": 0.7,
        "referral": 1.25,
    }
    # The demo preset is the default story with the seed `evaltk demo` uses, so that
    # `evaltk simulate --preset demo` writes the demo's data.
    assert (
        SimulationConfig.preset("demo").model_dump()
        == config.model_copy(update={"name": "demo", "seed": DEMO_SEED}).model_dump()
    )


@pytest.mark.parametrize(
    ("preset", "low", "high"),
    [
        ("small", 2_000, 8_000),
        ("demo", 120_000, 200_000),  # scale 0.25: about 156,000 episodes
        ("region", 8e5, 1.5e6),
        ("national", 1e7, 2e7),
    ],
)
def test_preset_sizes(preset: str, low: float, high: float) -> None:
    expected = simulate_force_months(SimulationConfig.preset(preset))["expected_incidents"].sum()
    assert low <= expected <= high


def test_national_preset_covers_every_force_with_some_never_treated() -> None:
    config = SimulationConfig.preset("national")
    assert config.forces == ALL_FORCES and len(ALL_FORCES) == 43
    starts = simulate_force_months(config).groupby("force")["start"].first()
    assert starts.isna().sum() == round(0.3 * 43)


def test_overrides_revalidate() -> None:
    config = SimulationConfig.preset("demo", seed=5)
    assert config.seed == 5 and config.name == "demo"
    with pytest.raises(SimulationError, match="coverage"):
        config.model_copy(update={"coverage": 1.5})
    with pytest.raises(pydantic.ValidationError):
        config.seed = 3  # frozen


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"effects": {"s136": 0.3}}, "cannot fall below 0.4"),
        ({"effects": {"arrest": 40.0}}, "probability of .* above 1"),
        ({"p_s136": 0.6, "effects": {"s136": 3.0}}, "above 1"),
        ({"effects": {"ae_conveyance": 0.45}, "p_ae_conveyance": 0.02}, "below the s136"),
        ({"effects": {"hospital_wait_minutes": 9.0, "officer_minutes": 1.0}}, "officer time"),
        ({"officer_minutes_mean": 20.0}, "officer_minutes_mean"),
        ({"effects": {"nurse_joy": 2.0}}, "unknown effect"),
        ({"effects": {"s136": -1.0}}, "ratio >= 0"),
        ({"forces": ("E23999999",), "starts": {}}, "unknown force"),
        ({"forces": ("E23000019", "E23000019"), "starts": {}}, "twice"),
        ({"starts": {"E23000001": "2016-01"}}, "not in forces"),
        ({"starts": {"E23000019": "2016/04"}}, "YYYY-MM"),
        ({"first_month": "2014-13"}, "YYYY-MM"),
        ({"place_of_safety_shares": {"health_based_suite": 1.0}}, "a share for each"),
        ({"referral_shares": {"gp": 0.5, "community_team": 0.6, "crisis_team": 0.0}}, "sum to 1"),
        ({"scale": 0}, "scale"),
        ({"months": "many"}, "months"),
    ],
)
def test_impossible_configuration_raises_simulation_error(changes: dict, message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        SimulationConfig(**changes)


def test_unknown_preset() -> None:
    with pytest.raises(SimulationError, match="unknown preset"):
        SimulationConfig.preset("galaxy")


def test_lowest_possible_ratio_is_allowed() -> None:
    # With coverage 0.6 a ratio of exactly 0.4 removes every attended detention: possible.
    config = SimulationConfig(effects={"s136": 0.4})
    assert config.effect("s136") == 0.4
