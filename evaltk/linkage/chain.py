"""Which table each agency is matched to: the police incidents, or another agency's records.

An agency is linked either directly to the police incidents (its ``window_hours`` counted from
the incident) or, with ``after: <agency>``, to that other agency's records (its window counted
from that record's time): the chain conveyance -> A&E -> admission, where an A&E attendance
follows the ambulance's arrival more closely than it follows the incident. Each step is the
same one-to-one matching (:func:`evaltk.linkage.match.one_to_one_table`) over the whole of both
extracts, so a record already taken by one ambulance record cannot be taken by another; an
incident is then linked to a chained record through the record it is linked to
(incident -> ambulance -> A&E), and its hours after are the sum of the steps'.

Everything stays in the engine as temporary tables (``r`` incident record, ``ar`` agency
record, ``d`` microseconds after the incident), so on Spark no link row reaches the driver.
"""

from __future__ import annotations

from collections.abc import Mapping

from evaltk.ingest.engine import Backend
from evaltk.linkage.match import one_to_one_table


def link_order(after: Mapping[str, str | None]) -> list[str]:
    """The agencies with every agency after the one it is chained to (protocol order else).

    The protocol refuses unknown names and cycles (:class:`evaltk.protocol.spec.Linkage`);
    here they are a programming error.
    """
    order: list[str] = []
    while len(order) < len(after):
        ready = [a for a, p in after.items() if a not in order and (p is None or p in order)]
        if not ready:
            raise ValueError(f"the agencies' 'after' form a cycle or name no agency: {after}")
        order.append(ready[0])
    return order


def link_tables(
    backend: Backend,
    incidents: str,
    agencies: Mapping[str, str],
    windows_hours: Mapping[str, tuple[float, float]],
    after: Mapping[str, str | None] | None = None,
    tag: str = "",
) -> dict[str, str]:
    """Agency -> the name of its temporary table of links ``r, ar, d`` to the incidents.

    ``incidents`` and each of ``agencies`` (agency -> table) hold ``record, pseudonym, time``
    as :func:`~evaltk.linkage.match.one_to_one_table` reads them.
    """
    chained = {a: (after or {}).get(a) for a in agencies}
    links: dict[str, str] = {}
    for number, agency in enumerate(link_order(chained)):
        parent = chained[agency]
        step = f"{tag}{number}"
        source = incidents if parent is None else agencies[parent]
        table = one_to_one_table(backend, source, agencies[agency], windows_hours[agency], step)
        if parent is not None:
            composed = f"__evaltk_chain_{step}"
            backend.temp_table(
                composed,
                f"SELECT p.r AS r, c.ar AS ar, p.d + c.d AS d FROM {links[parent]} AS p "
                f"JOIN {table} AS c ON c.r = p.ar",
            )
            table = composed
        links[agency] = table
    return {a: links[a] for a in agencies}
