"""Unit costs to one price year by the HM Treasury GDP deflator (evaltk.protocol.prices).

The deflator's levels are the December 2025 release's calendar-year series (2024 = 100); a
financial year is 0.75 of its first calendar year and 0.25 of its second. The figures below
are computed by hand from the two levels each needs, so a changed table or rule fails here.
"""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from evaltk.protocol import load_protocol
from evaltk.protocol.prices import (
    GDP_DEFLATOR,
    price_factor,
    price_index,
    unit_rates,
    uprating_factor,
)
from evaltk.protocol.spec import Protocol, UnitCost


def test_levels_of_the_release() -> None:
    assert GDP_DEFLATOR[2024] == 100.0
    assert GDP_DEFLATOR[2013] == 73.4795 and GDP_DEFLATOR[2014] == 74.6524
    assert min(GDP_DEFLATOR) == 1990 and max(GDP_DEFLATOR) == 2024
    years = sorted(GDP_DEFLATOR)
    assert years == list(range(1990, 2025))  # no gap a lookup could fall into


def test_financial_year_is_nine_months_of_its_first_calendar_year() -> None:
    assert price_index("2013-14") == pytest.approx(0.75 * 73.4795 + 0.25 * 74.6524, rel=1e-12)
    assert price_index("2014") == 74.6524
    # NHS Reference Costs 2013-14: an A&E attendance, GBP 114 -> GBP 154.53 at 2024 prices.
    assert 114 * uprating_factor("2013-14", "2024") == pytest.approx(154.5287, abs=1e-4)
    # The Home Office officer hour, taken as 2014-15: GBP 36.51 -> GBP 48.82.
    assert 36.51 * uprating_factor("2014-15", "2024") == pytest.approx(48.8247, abs=1e-4)
    assert uprating_factor("2024", "2024") == 1.0


@pytest.mark.parametrize("year", ["2025", "1989", "2024-25", "13-14", "2013/14"])
def test_a_year_outside_the_deflator_is_refused_naming_the_range(year: str) -> None:
    with pytest.raises(ValueError, match=r"outside the GDP deflator evaltk carries \(1990 to 2024"):
        price_index(year)


def _protocol(project_root, **decision: object) -> dict:  # type: ignore[no-untyped-def]
    loaded = load_protocol(project_root / "protocols" / "street-triage-its.yaml")
    data = copy.deepcopy(loaded.document)
    data["decision"].update(decision)
    return data


def test_protocol_refuses_a_price_year_beyond_the_deflator(project_root) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="price_year '2030' is outside the GDP deflator"):
        Protocol.model_validate(_protocol(project_root, price_year="2030"))


def test_protocol_refuses_a_cost_it_cannot_uprate(project_root) -> None:  # type: ignore[no-untyped-def]
    data = _protocol(project_root, price_year="2024")
    costed = next(o for o in data["outcomes"] if o["id"] == "ae_conveyances")
    costed["cost"]["price_year"] = "1985-86"
    with pytest.raises(
        ValidationError, match=r"outcome 'ae_conveyances': cost\.price_year '1985-86'"
    ):
        Protocol.model_validate(data)
    # Without a ledger price year nothing is uprated, so the old year is accepted as it is.
    data["decision"].pop("price_year")
    Protocol.model_validate(data)


def test_unit_rates_uprate_pounds_not_hours() -> None:
    cost = UnitCost(
        amount_gbp=216, per="event", hours_per_event=1.5, agency="ambulance",
        price_year="2013-14", source="NHS Reference Costs 2013-14",
    )  # fmt: skip
    factor = uprating_factor("2013-14", "2024")
    assert unit_rates(cost, "events", "2024") == (1.5, pytest.approx(216 * factor))
    assert unit_rates(cost, "events", None) == (1.5, 216)
    hour = UnitCost(amount_gbp=36.51, per="hour", agency="police", source="x")
    # No price year on the cost (illustrative): taken as it is.
    assert price_factor(hour, "2024") == 1.0
    assert unit_rates(hour, "minutes", "2024") == (1 / 60, pytest.approx(36.51 / 60))
