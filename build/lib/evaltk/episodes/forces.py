"""The 43 territorial police forces of England and Wales: ONS code, name, approximate size.

Domain knowledge shared by the simulator (sizes) and by every report (names for codes).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Force:
    """One police force: ONS code, common name and approximate base-year population."""

    code: str
    name: str
    population: int


def _force(code: str, name: str, thousands: float) -> Force:
    return Force(code, name, round(thousands * 1000))


# Approximate mid-2014 populations (thousands). City of London is genuinely tiny (about 8,000
# residents); it is kept so the national table has all 43 forces.
FORCES: tuple[Force, ...] = (
    _force("E23000001", "Metropolitan Police", 8530),
    _force("E23000002", "Cumbria", 497),
    _force("E23000003", "Lancashire", 1479),
    _force("E23000004", "Merseyside", 1390),
    _force("E23000005", "Greater Manchester", 2733),
    _force("E23000006", "Cheshire", 1041),
    _force("E23000007", "Northumbria", 1441),
    _force("E23000008", "Durham", 623),
    _force("E23000009", "North Yorkshire", 808),
    _force("E23000010", "West Yorkshire", 2264),
    _force("E23000011", "South Yorkshire", 1375),
    _force("E23000012", "Humberside", 930),
    _force("E23000013", "Cleveland", 563),
    _force("E23000014", "West Midlands", 2834),
    _force("E23000015", "Staffordshire", 1112),
    _force("E23000016", "West Mercia", 1243),
    _force("E23000017", "Warwickshire", 552),
    _force("E23000018", "Derbyshire", 1039),
    _force("E23000019", "Nottinghamshire", 1111),
    _force("E23000020", "Lincolnshire", 731),
    _force("E23000021", "Leicestershire", 1030),
    _force("E23000022", "Northamptonshire", 715),
    _force("E23000023", "Cambridgeshire", 826),
    _force("E23000024", "Norfolk", 885),
    _force("E23000025", "Suffolk", 741),
    _force("E23000026", "Bedfordshire", 644),
    _force("E23000027", "Hertfordshire", 1155),
    _force("E23000028", "Essex", 1762),
    _force("E23000029", "Thames Valley", 2343),
    _force("E23000030", "Hampshire", 1964),
    _force("E23000031", "Surrey", 1162),
    _force("E23000032", "Kent", 1783),
    _force("E23000033", "Sussex", 1624),
    _force("E23000034", "City of London", 8),
    _force("E23000035", "Devon and Cornwall", 1717),
    _force("E23000036", "Avon and Somerset", 1665),
    _force("E23000037", "Gloucestershire", 612),
    _force("E23000038", "Wiltshire", 700),
    _force("E23000039", "Dorset", 761),
    _force("W15000001", "North Wales", 694),
    _force("W15000002", "Gwent", 577),
    _force("W15000003", "South Wales", 1300),
    _force("W15000004", "Dyfed-Powys", 512),
)

FORCES_BY_CODE: dict[str, Force] = {f.code: f for f in FORCES}
ALL_FORCES: tuple[str, ...] = tuple(f.code for f in FORCES)
EAST_MIDLANDS: tuple[str, ...] = ("E23000018", "E23000019", "E23000020", "E23000021", "E23000022")
DERBYSHIRE, NOTTINGHAMSHIRE, LINCOLNSHIRE, LEICESTERSHIRE, NORTHAMPTONSHIRE = EAST_MIDLANDS


def force_name(code: str) -> str:
    """'Nottinghamshire' for 'E23000019'; an unknown code (a local area) is returned as is."""
    force = FORCES_BY_CODE.get(code)
    return force.name if force else code
