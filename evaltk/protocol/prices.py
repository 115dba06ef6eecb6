"""Pounds of different years in one price year: the HM Treasury GDP deflator.

Unit costs come from documents of different years (NHS Reference Costs 2013-14, PSSRU 2014, a
Home Office figure of December 2014), and a commissioner decides in today's money. HM
Treasury's Green Book asks appraisals to state every cost at one price base, converting with
the GDP deflator at market prices; NHS-specific indices (PSSRU's NHS cost inflation index) are
an alternative for health costs, but no citable copy of their values was found, and one
economy-wide index for police and NHS costs alike keeps the ledger's lines comparable.

:data:`GDP_DEFLATOR` is the calendar-year series (2024 = 100) of HM Treasury, *GDP deflators
at market prices, and money GDP: December 2025 (Quarterly National Accounts)*, whose
calendar-year outturn comes from ONS series MNF2. It is transcribed from the copy of that
release bundled with the ``greenbook`` R package (charlescoverdale/greenbook,
``inst/extdata/gdp_deflator.csv``), rounded to 4 decimals there; a force that needs a newer
release replaces this table and says so.

A financial-year price base ``"2013-14"`` (April 2013 to March 2014) is read as nine months of
calendar 2013 and three of 2014: ``0.75 I(2013) + 0.25 I(2014)``; the Treasury also publishes
a financial-year series, but only the calendar-year one was available to transcribe.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evaltk.protocol.spec import UnitCost

#: HM Treasury GDP deflator at market prices, calendar years, 2024 = 100 (see module notes).
GDP_DEFLATOR: dict[int, float] = {
    1990: 42.7537, 1991: 45.6203, 1992: 47.1096, 1993: 48.5208, 1994: 49.4168,
    1995: 50.7097, 1996: 52.8097, 1997: 52.8303, 1998: 53.5326, 1999: 54.2793,
    2000: 54.8102, 2001: 55.7479, 2002: 56.911, 2003: 58.266, 2004: 59.8584,
    2005: 61.5718, 2006: 63.4682, 2007: 64.7322, 2008: 66.89, 2009: 68.217,
    2010: 69.1217, 2011: 70.834, 2012: 71.9294, 2013: 73.4795, 2014: 74.6524,
    2015: 75.1536, 2016: 76.4554, 2017: 77.6367, 2018: 79.1606, 2019: 81.1085,
    2020: 85.2137, 2021: 85.6358, 2022: 90.5005, 2023: 96.2507, 2024: 100.0,
}  # fmt: skip

#: The deflator in words, as the book cites it.
DEFLATOR_SOURCE = (
    "HM Treasury, GDP deflators at market prices, and money GDP, December 2025, calendar "
    "years, 2024 = 100; a financial year counts as 0.75 of its first calendar year and 0.25 "
    "of its second"
)

_YEAR = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def price_years() -> tuple[int, int]:
    """The first and last calendar years the deflator covers."""
    return min(GDP_DEFLATOR), max(GDP_DEFLATOR)


def covered(price_year: str) -> bool:
    """Whether ``price_year`` ("2014" or "2013-14") can be uprated with :data:`GDP_DEFLATOR`."""
    match = _YEAR.match(price_year)
    if match is None:
        return False
    first = int(match.group(1))
    years = (first, first + 1) if match.group(2) else (first,)
    return all(y in GDP_DEFLATOR for y in years)


def price_index(price_year: str) -> float:
    """The deflator's level for a calendar year "2014" or a financial year "2013-14".

    Raises ``ValueError`` naming the years covered when the deflator does not reach it.
    """
    if not covered(price_year):
        first, last = price_years()
        raise ValueError(
            f"price year {price_year!r} is outside the GDP deflator evaltk carries "
            f"({first} to {last}, financial years to {last - 1}-{str(last)[2:]}): "
            "use a year within it"
        )
    match = _YEAR.match(price_year)
    assert match is not None
    first = int(match.group(1))
    if match.group(2):
        return 0.75 * GDP_DEFLATOR[first] + 0.25 * GDP_DEFLATOR[first + 1]
    return GDP_DEFLATOR[first]


def uprating_factor(from_year: str, to_year: str) -> float:
    """What one pound at ``from_year`` prices is worth at ``to_year`` prices."""
    return price_index(to_year) / price_index(from_year)


def price_factor(cost: UnitCost, price_year: str | None) -> float:
    """What one pound of ``cost`` is worth at the ledger's ``price_year``: the GDP deflator's
    ratio when both years are given (:mod:`evaltk.protocol.prices`), else 1 (not uprated)."""
    if price_year is None or cost.price_year is None:
        return 1.0
    return uprating_factor(cost.price_year, price_year)


def unit_rates(cost: UnitCost, unit: str, price_year: str | None = None) -> tuple[float, float]:
    """Staff hours and pounds per unit of an outcome's total (an event, or a minute), pounds at
    the ledger's ``price_year``: the one conversion of the ledger, which the true ledger of a
    simulation (:mod:`evaltk.validation.true_ledger`) applies to the known change as well."""
    amount = cost.amount_gbp * price_factor(cost, price_year)
    if unit == "minutes":
        return 1 / 60, (amount / 60 if cost.per == "hour" else 0.0)
    hours = cost.hours_per_event or 0.0
    return hours, (amount if cost.per == "event" else amount * hours)
