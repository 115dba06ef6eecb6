"""cost.part_of: a part's time is inside its whole's, declared in the protocol and checked."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from evaltk.protocol.canonical import canonical_document
from evaltk.protocol.load import load_protocol
from evaltk.protocol.spec import Protocol

TEMPLATE = Path(__file__).parents[2] / "protocols" / "street-triage-its.yaml"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return load_protocol(TEMPLATE).protocol.model_dump(by_alias=True)


def _cost(document: dict[str, Any], outcome_id: str) -> dict[str, Any]:
    return next(o for o in document["outcomes"] if o["id"] == outcome_id)["cost"]


def test_template_declares_waiting_inside_officer_minutes(document: dict[str, Any]) -> None:
    protocol = Protocol.model_validate(document)
    wait = protocol.outcome("hospital_wait_minutes").cost
    assert wait is not None and wait.part_of == "officer_minutes"
    assert wait.in_net is False  # implied by part_of


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"part_of": "no_such_outcome"}, "must name another outcome with a cost"),
        ({"part_of": "hospital_wait_minutes"}, "must name another outcome with a cost"),
        ({"part_of": "officer_minutes", "in_net": True}, "drop 'in_net: true'"),
        ({"part_of": "officer_minutes", "agency": "ambulance"}, "same agency"),
    ],
)
def test_bad_part_of_is_refused(document: dict[str, Any], change: dict, message: str) -> None:  # type: ignore[type-arg]
    bad = copy.deepcopy(document)
    cost = _cost(bad, "hospital_wait_minutes")
    cost.pop("in_net", None)
    cost.update(change)
    with pytest.raises(ValidationError, match=message):
        Protocol.model_validate(bad)


def test_a_cost_without_part_of_keeps_its_canonical_form(document: dict[str, Any]) -> None:
    """part_of is left out of the canonical document while unset, so protocols registered
    before it existed keep their hash."""
    plain = copy.deepcopy(document)
    cost = _cost(plain, "hospital_wait_minutes")
    cost.pop("part_of")
    cost["in_net"] = False
    canonical = canonical_document(Protocol.model_validate(plain))
    wait = next(o for o in canonical["outcomes"] if o["id"] == "hospital_wait_minutes")
    assert "part_of" not in wait["cost"]
    declared = canonical_document(Protocol.model_validate(document))
    assert _cost(declared, "hospital_wait_minutes")["part_of"] == "officer_minutes"


def test_price_year_is_checked_and_left_out_of_the_canonical_form_while_unset(
    document: dict[str, Any],
) -> None:
    """A unit cost's price base is a financial or calendar year; unset (an illustrative figure,
    or a source that states none) it is left out of the canonical document, so protocols
    registered before the field existed keep their hash."""
    canonical = canonical_document(Protocol.model_validate(document))
    assert _cost(canonical, "ae_conveyances")["price_year"] == "2013-14"
    # The officer hour's source states none; the template takes it as the answer's year.
    assert _cost(canonical, "officer_minutes")["price_year"] == "2014-15"
    assert "price_year" not in _cost(canonical, "s136_rate")  # illustrative
    bad = copy.deepcopy(document)
    _cost(bad, "ae_conveyances")["price_year"] = "2013/14"
    with pytest.raises(ValidationError, match="price_year"):
        Protocol.model_validate(bad)
