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

The names above load their module on first use (:mod:`evaltk.lazy_exports`), so that the
command line's ``--help`` does not import pandas and pyarrow with them.
"""

from typing import TYPE_CHECKING

from evaltk.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from evaltk.simulate.backbone import simulate_force_months
    from evaltk.simulate.config import PRESETS, SimulationConfig
    from evaltk.simulate.effects import EFFECT_KEYS, EFFECT_NAMES
    from evaltk.simulate.episodes import EPISODE_SCHEMA, iter_episode_chunks
    from evaltk.simulate.forces import ALL_FORCES, EAST_MIDLANDS, force_table, population_table
    from evaltk.simulate.intervention import start_months
    from evaltk.simulate.series import SERIES_OUTCOMES, expected_outcomes, simulate_series
    from evaltk.simulate.truth_file import truth
    from evaltk.simulate.write import write_dataset

#: Public name -> the module that defines it (imported on first use: evaltk.lazy_exports).
_WHERE = {
    "simulate_force_months": "evaltk.simulate.backbone",
    "PRESETS": "evaltk.simulate.config",
    "SimulationConfig": "evaltk.simulate.config",
    "EFFECT_KEYS": "evaltk.simulate.effects",
    "EFFECT_NAMES": "evaltk.simulate.effects",
    "EPISODE_SCHEMA": "evaltk.simulate.episodes",
    "iter_episode_chunks": "evaltk.simulate.episodes",
    "ALL_FORCES": "evaltk.simulate.forces",
    "EAST_MIDLANDS": "evaltk.simulate.forces",
    "force_table": "evaltk.simulate.forces",
    "population_table": "evaltk.simulate.forces",
    "start_months": "evaltk.simulate.intervention",
    "SERIES_OUTCOMES": "evaltk.simulate.series",
    "expected_outcomes": "evaltk.simulate.series",
    "simulate_series": "evaltk.simulate.series",
    "truth": "evaltk.simulate.truth_file",
    "write_dataset": "evaltk.simulate.write",
}

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

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
