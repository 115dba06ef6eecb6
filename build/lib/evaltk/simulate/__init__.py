"""Synthetic street-triage data with known truth: the project's built-in dataset.

A force × month backbone (population, trend, seasonality, autocorrelated and overdispersed
noise, staggered starts) drives either episode rows in the canonical schema
(:func:`iter_episode_chunks`, :func:`write_dataset`) or monthly totals drawn directly
(:func:`simulate_series`). True effects are ratios over all incidents in treated force-months
(:mod:`evaltk.simulate.effects`); :func:`truth` states them.

Examples
--------
>>> from evaltk.simulate import SimulationConfig, simulate_series
>>> series = simulate_series(SimulationConfig.preset("demo", seed=3))
"""

from evaltk.simulate.backbone import simulate_force_months
from evaltk.simulate.config import PRESETS, SimulationConfig
from evaltk.simulate.effects import EFFECT_KEYS, EFFECT_NAMES
from evaltk.simulate.episodes import EPISODE_SCHEMA, iter_episode_chunks
from evaltk.simulate.forces import ALL_FORCES, EAST_MIDLANDS, force_table, population_table
from evaltk.simulate.intervention import start_months
from evaltk.simulate.series import SERIES_OUTCOMES, expected_outcomes, simulate_series
from evaltk.simulate.truth import truth
from evaltk.simulate.write import write_dataset

__all__ = [
    "ALL_FORCES",
    "EAST_MIDLANDS",
    "EFFECT_KEYS",
    "EFFECT_NAMES",
    "EPISODE_SCHEMA",
    "PRESETS",
    "SERIES_OUTCOMES",
    "SimulationConfig",
    "expected_outcomes",
    "force_table",
    "iter_episode_chunks",
    "population_table",
    "simulate_force_months",
    "simulate_series",
    "start_months",
    "truth",
    "write_dataset",
]
