"""Linkage rates as published: small counts (and counts that reveal small complements) hidden."""

from __future__ import annotations

from evaltk.publish.linkage import linkage_counts, protect_linkage
from evaltk.results.schema import DisclosureSettings, LinkRate


def rate(**counts) -> LinkRate:
    base = {
        "agency": "ae",
        "path": "data/ae.csv",
        "window_hours": [0.0, 12.0],
        "incidents": 1000,
        "records": 400,
        "incidents_unlinkable": 0,
        "records_unlinkable": 12,
        "incidents_linked": 250,
        "records_linked": 240,
        "incidents_linked_share": 0.25,
        "records_linked_share": 0.6,
    }
    return LinkRate(**{**base, **counts})


def test_large_counts_pass_unchanged():
    kept = protect_linkage([rate()], DisclosureSettings())
    assert kept == [rate()]


def test_small_counts_and_revealing_complements_are_suppressed():
    small = rate(records_unlinkable=3, incidents_linked=998, incidents_linked_share=0.998)
    (shown,) = protect_linkage([small], DisclosureSettings()) or []
    assert shown.records_unlinkable is None
    # 1000 incidents, 998 linked: the 2 not linked would show; the linked count and its share go.
    assert shown.incidents_linked is None and shown.incidents_linked_share is None
    assert shown.incidents == 1000 and shown.records_linked == 240
    assert ("linkage[ae].incidents_linked", None) in linkage_counts([shown])


def test_counts_are_rounded_when_the_protocol_asks():
    (shown,) = protect_linkage([rate(records=403)], DisclosureSettings(round_to=5)) or []
    assert (shown.records, shown.records_linked, shown.records_unlinkable) == (405, 240, 10)
    assert shown.records_linked_share == 0.6  # shares are from the exact counts
    assert protect_linkage(None, DisclosureSettings()) is None
