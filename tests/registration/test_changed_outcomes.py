"""Which outcomes an amendment flags as redefined: a unit cost prices an outcome, it does not
define what is measured or tested."""

from __future__ import annotations

from evaltk.registration.diff import changed_outcomes

S136 = {"id": "s136", "label": "s136", "role": "primary", "class": "resolution", "cost": None}
AE = {"id": "ae", "label": "A&E", "role": "secondary", "class": "displacement", "cost": None}


def test_a_new_unit_cost_does_not_flag_the_outcome() -> None:
    priced = {**S136, "cost": {"amount_gbp": 600.0, "per": "event"}}
    assert changed_outcomes({"outcomes": [S136, AE]}, {"outcomes": [priced, AE]}) == []


def test_a_changed_definition_is_flagged() -> None:
    relabelled = {**AE, "label": "A&E conveyances", "cost": {"amount_gbp": 250.0}}
    assert changed_outcomes({"outcomes": [S136, AE]}, {"outcomes": [S136, relabelled]}) == ["ae"]
