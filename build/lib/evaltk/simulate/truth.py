"""What the simulation knows and an evaluation must recover: ``truth.json``."""

from __future__ import annotations

from typing import Any

import numpy as np

from evaltk import __version__
from evaltk.simulate.config import SimulationConfig
from evaltk.simulate.effects import EFFECT_KEYS
from evaltk.simulate.forces import FORCES_BY_CODE
from evaltk.simulate.intervention import start_months
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
        "officer_minutes and hospital_wait_minutes effects are ratios of means per incident; "
        "their monthly totals change by that ratio times the incidents ratio"
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


def truth(config: SimulationConfig) -> dict[str, Any]:
    """The known truth of a simulated dataset, as written to ``truth.json``.

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
        per_incident = ratio / volume if effect.scale == "count" else ratio
        effects[effect.key] = {
            "ratio": ratio,
            "scale": effect.scale,
            "definition": effect.definition,
            "per_incident_ratio": round(per_incident, 12),
            "attended_ratio": round((per_incident - (1 - config.coverage)) / config.coverage, 12),
            "expected_treated": round(with_triage, 3),
            "expected_counterfactual": round(without, 3),
        }
    starts = start_months(config)
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
        "conventions": CONVENTIONS,
        "not_controlled": NOT_CONTROLLED,
        "config": config.model_dump(mode="json"),
    }
