"""What the simulation knows and an evaluation must recover: ``truth.json``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaltk import __version__
from evaltk.simulate.config import SimulationConfig
from evaltk.simulate.effects import EFFECT_KEYS, derived_keys
from evaltk.simulate.forces import FORCES_BY_CODE
from evaltk.simulate.intervention import start_months
from evaltk.simulate.journeys import journey_truth, journeys_on
from evaltk.simulate.series import expected_outcomes

CONVENTIONS = {
    "intervention_month": "INCLUSIVE: a force's start month and every later month are treated",
    "unit": "force (ONS code) x calendar month",
    "denominator": "all mental-health incidents, attended by a nurse or not",
    "ratio": (
        "expected value in treated force-months over the counterfactual without triage, "
        "conditional on the latent monthly incident rate"
    ),
    "minutes": (
        "officer_minutes, scene_minutes and hospital_wait_minutes effects are ratios of means "
        "per incident; their monthly totals change by that ratio times the incidents ratio"
    ),
    "officer_time": (
        "officer minutes = travel and scene minutes + minutes waiting at hospital, incident by "
        "incident; unless officer_minutes is configured, its ratio is derived from the other "
        "two (ratio below: the realised ratio of expected means over treated force-months)"
    ),
    "true_ledger": (
        "effects.KEY.by_force.FORCE gives the expected totals over that force's treated months "
        "with and without triage (counterfactual - treated = events or minutes averted); sum "
        "over an analysis's units and multiply by its unit costs for the true ledger"
    ),
    "true_ledgers": (
        "when present: per analysis, the true whole-system ledger its own ledger estimates, "
        "from the expected totals over its treated force-months priced by its unit costs "
        "(evaltk.validation.true_ledger; averted = counterfactual - with triage)"
    ),
}

NOT_CONTROLLED = {
    "repeat_contact": (
        "repeat incidents by the same person (28 or 90 days) emerge from the person pool; "
        "triage has no configured effect on them, so their true ratio is 1"
    ),
    "place_of_safety": (
        "triage does not change where s136 detentions go, so s136 to an emergency department or "
        "to police custody change by the s136 ratio and their shares of s136 by 1"
    ),
}


def truth(
    config: SimulationConfig, true_ledgers: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The known truth of a simulated dataset, as written to ``truth.json``.

    ``true_ledgers`` (analysis name -> its true ledger, computed by the caller, who knows the
    analyses' protocols: :func:`evaltk.validation.true_ledger.true_ledger`) is written as
    ``true_ledgers`` when given.

    Returns
    -------
    dict
        ``evaltk_version``, ``preset``, ``seed``, the full ``config``, the simulated ``period``,
        per-force ``starts`` (``null`` if never treated), and per effect key: the configured
        ``ratio``, its ``scale`` (``count`` or ``mean`` per incident), a plain-English
        ``definition``, ``per_incident_ratio``, ``attended_ratio`` (the ratio per attended
        incident, ``(per_incident_ratio - (1 - coverage)) / coverage``) and the expected totals
        over treated force-months with and without triage (their difference is, e.g., the
        detentions averted).
    """
    expected = expected_outcomes(config)
    treated = expected["treated"].to_numpy()
    volume = config.effect("incidents")
    periods = config.periods
    effects: dict[str, Any] = {}
    for effect in EFFECT_KEYS:
        ratio = config.effect(effect.key)
        with_triage = float(expected.loc[treated, effect.key].sum())
        without = float(expected.loc[treated, f"{effect.key}_counterfactual"].sum())
        if effect.key in derived_keys(config.effects) and without > 0:
            ratio = with_triage / without  # totals' ratio; / incidents ratio for the mean
            ratio = ratio / volume
        per_incident = ratio / volume if effect.scale == "count" else ratio
        effects[effect.key] = {
            "ratio": ratio,
            "scale": effect.scale,
            "definition": effect.definition,
            "per_incident_ratio": round(per_incident, 12),
            "attended_ratio": round((per_incident - (1 - config.coverage)) / config.coverage, 12),
            "expected_treated": round(with_triage, 3),
            "expected_counterfactual": round(without, 3),
            "by_force": _by_force(expected, effect.key),
        }
    starts = start_months(config)
    ledgers = {} if true_ledgers is None else {"true_ledgers": dict(true_ledgers)}
    # Written only when journeys are on, so that a dataset without them keeps its truth.json.
    journeys = {"journeys": journey_truth(config)} if journeys_on(config) else {}
    return {
        "generator": "evaltk.simulate",
        "evaltk_version": __version__,
        "preset": config.name,
        "seed": config.seed,
        "period": {
            "first": str(periods[0]),
            "last": str(periods[-1]),
            "months": config.months,
        },
        "forces": [
            {
                "force": force,
                "name": FORCES_BY_CODE[force].name,
                "start": None if np.isnat(starts[force]) else str(starts[force]),
                "treated_months": int(expected.loc[expected["force"] == force, "treated"].sum()),
            }
            for force in config.forces
        ],
        "effects": effects,
        **ledgers,
        **journeys,
        "conventions": CONVENTIONS,
        "not_controlled": NOT_CONTROLLED,
        "config": _config_json(config),
    }


def _by_force(expected: pd.DataFrame, key: str) -> dict[str, dict[str, float]]:
    """Expected totals over each treated force's treated months, with and without triage."""
    treated = expected[expected["treated"].to_numpy()]
    sums = treated.groupby("force")[[key, f"{key}_counterfactual"]].sum()
    return {
        str(force): {
            "expected_treated": round(float(row[key]), 3),
            "expected_counterfactual": round(float(row[f"{key}_counterfactual"]), 3),
        }
        for force, row in sums.iterrows()
    }


def _config_json(config: SimulationConfig) -> dict[str, Any]:
    """The config as JSON, without the journey settings when they are off (their default), so
    that truth.json of a dataset without journeys is as it was before they existed."""
    data = config.model_dump(mode="json")
    if not journeys_on(config):
        data.pop("journey_missing_after_s136")
        data.pop("journey_missing_after_admission")
    return data
