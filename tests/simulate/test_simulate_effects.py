"""Configured true effects are realised: treated totals over counterfactual totals match truth.

Tolerances: about a million episodes, of which about 450,000 are in treated force-months, so
the rarest outcome (missing-person reports, about 12,000 treated) has a sampling sd near 1 %;
3 % is three sds. Against the same seed without effects (common random numbers) only the
incidents whose outcome flips differ, so the sd is a fraction of that; 1.5 % is ample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.simulate import (
    EFFECT_KEYS,
    SimulationConfig,
    expected_outcomes,
    simulate_series,
    truth,
)
from evaltk.simulate.effects import derived_keys


def _treated_totals(totals: pd.DataFrame, config: SimulationConfig) -> pd.Series:
    treated = expected_outcomes(config)[["force", "period", "treated"]]
    merged = totals.merge(treated, on=["force", "period"], validate="one_to_one")
    return merged[merged["treated"]].drop(columns=["force", "period", "treated"]).sum()


def _realised_ratio(key: str, scale: str, treated: pd.Series, reference: pd.Series) -> float:
    if scale == "mean":  # minutes: ratio of means per incident
        return (treated[key] / treated["incidents"]) / (reference[key] / reference["incidents"])
    return treated[key] / reference[key]


@pytest.mark.parametrize("effect", EFFECT_KEYS, ids=lambda e: e.key)
def test_realised_ratio_matches_truth_against_the_analytic_counterfactual(
    effect, large_config: SimulationConfig, large_totals: pd.DataFrame
) -> None:
    realised = _treated_totals(large_totals, large_config)
    expected = expected_outcomes(large_config)
    cf = expected[expected["treated"]].sum(numeric_only=True)
    counterfactual = pd.Series(
        {
            effect.key: cf[f"{effect.key}_counterfactual"],
            "incidents": cf["incidents_counterfactual"],
        }
    )
    ratio = _realised_ratio(effect.key, effect.scale, realised, counterfactual)
    true_ratio = truth(large_config)["effects"][effect.key]["ratio"]
    assert ratio == pytest.approx(true_ratio, rel=0.03)


@pytest.mark.parametrize("effect", EFFECT_KEYS, ids=lambda e: e.key)
def test_realised_ratio_matches_truth_against_the_same_seed_without_effects(
    effect,
    large_config: SimulationConfig,
    large_totals: pd.DataFrame,
    large_counterfactual_totals: pd.DataFrame,
) -> None:
    treated = _treated_totals(large_totals, large_config)
    reference = _treated_totals(large_counterfactual_totals, large_config)
    ratio = _realised_ratio(effect.key, effect.scale, treated, reference)
    # A derived effect's true ratio is the one truth.json reports (the totals'), not a setting.
    true_ratio = truth(large_config)["effects"][effect.key]["ratio"]
    assert ratio == pytest.approx(true_ratio, rel=0.015)


def test_untreated_months_are_untouched(
    large_config: SimulationConfig,
    large_episodes: pd.DataFrame,
    large_counterfactual_episodes: pd.DataFrame,
) -> None:
    # Same seed, same draws: every row before the start or in a never-treated force is identical.
    untreated = ~large_episodes["triage_available"]
    pd.testing.assert_frame_equal(
        large_episodes[untreated].reset_index(drop=True),
        large_counterfactual_episodes[untreated].reset_index(drop=True),
    )


def test_expected_outcomes_carry_exact_ratios_with_a_volume_effect() -> None:
    # The ratios are exact in expectation in every treated force-month, composites included.
    config = SimulationConfig(
        effects={"incidents": 0.9, "s136": 0.7, "ae_conveyance": 1.1, "officer_minutes": 1.2,
                 "hospital_wait_minutes": 1.3, "admitted_72h": 0.75},
    )  # fmt: skip
    expected = expected_outcomes(config)
    treated = expected[expected["treated"]]
    for effect in EFFECT_KEYS:
        if effect.key in derived_keys(config.effects):
            continue  # scene time takes up the rest of the fixed officer time: no one ratio
        ratio = treated[effect.key] / treated[f"{effect.key}_counterfactual"]
        if effect.scale == "mean":  # totals move by the mean ratio times the volume ratio
            ratio = ratio / 0.9
        np.testing.assert_allclose(ratio, config.effect(effect.key), rtol=1e-10)
    untreated = expected[~expected["treated"]]
    for effect in EFFECT_KEYS:
        np.testing.assert_allclose(untreated[effect.key], untreated[f"{effect.key}_counterfactual"])


def test_volume_effect_is_realised_in_series() -> None:
    # With fewer incidents, counts realise the count ratio (not the per-incident one).
    config = SimulationConfig.preset("region", effects={"incidents": 0.85, "s136": 0.7})
    realised, counterfactual = [], []
    for seed in range(5):
        seeded = config.model_copy(update={"seed": seed})
        series, expected = simulate_series(seeded), expected_outcomes(seeded)
        treated = series["treated"]
        realised.append(series.loc[treated, ["incidents", "s136"]].sum().to_numpy())
        cf = expected.loc[treated, ["incidents_counterfactual", "s136_counterfactual"]]
        counterfactual.append(cf.sum().to_numpy())
    ratio = np.sum(realised, axis=0) / np.sum(counterfactual, axis=0)
    np.testing.assert_allclose(ratio, [0.85, 0.7], rtol=0.02)
