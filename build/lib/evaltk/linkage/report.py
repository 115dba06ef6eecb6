"""Linkage rates as results.json reports them, and as ``evaltk link`` prints them."""

from __future__ import annotations

from evaltk.linkage.pipeline import LinkedEpisodes
from evaltk.protocol.spec import EpisodeSource, Protocol
from evaltk.results.schema import LinkRate

AGENCY_NAMES = {"ambulance": "ambulance", "ae": "A&E", "admission": "admissions"}


def link_rates(linked: LinkedEpisodes, protocol: Protocol) -> list[LinkRate]:
    """One :class:`LinkRate` per linked agency, in the protocol's order."""
    source = protocol.data
    assert isinstance(source, EpisodeSource) and source.linkage is not None
    rates = []
    for count in linked.counts:
        low, high = linked.windows[count.agency]
        rates.append(
            LinkRate(
                agency=count.agency,
                path=source.linkage.agencies[count.agency].path,  # type: ignore[index]
                window_hours=[float(low), float(high)],
                incidents=count.incidents,
                records=count.records,
                incidents_unlinkable=count.incidents_unlinkable,
                records_unlinkable=count.records_unlinkable,
                incidents_linked=count.incidents_linked,
                records_linked=count.records_linked,
                incidents_linked_share=round(count.incidents_share, 6),
                records_linked_share=round(count.records_share, 6),
            )
        )
    return rates


def rates_text(linked: LinkedEpisodes) -> str:
    """A plain table of the linkage rates, for the terminal."""
    lines = [
        f"{'agency':<11}{'window (h)':>12}{'incidents linked':>22}{'records linked':>22}"
        f"{'unlinkable (police / agency)':>31}"
    ]
    for c in linked.counts:
        low, high = linked.windows[c.agency]
        lines.append(
            f"{AGENCY_NAMES.get(c.agency, c.agency):<11}{f'{low:g} to {high:g}':>12}"
            f"{f'{c.incidents_linked:,} of {c.incidents:,} ({c.incidents_share:.1%})':>22}"
            f"{f'{c.records_linked:,} of {c.records:,} ({c.records_share:.1%})':>22}"
            f"{f'{c.incidents_unlinkable:,} / {c.records_unlinkable:,}':>31}"
        )
    return "\n".join(lines)
