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


def test_large_counts_are_rounded_to_5():
    (kept,) = protect_linkage([rate()], DisclosureSettings()) or []
    # The one rule (evaltk.publish.count_rule): 12 unlinkable records publish as 10.
    assert kept == rate(records_unlinkable=10, records_linked_share=240 / 400)


def test_small_counts_suppressed_and_complements_not_recoverable():
    small = rate(records_unlinkable=3, incidents_linked=998, incidents_linked_share=0.998)
    (shown,) = protect_linkage([small], DisclosureSettings()) or []
    assert shown.records_unlinkable is None
    # 1000 incidents, 998 linked: both publish as 1,000, so the 2 not linked could be any
    # number from 0 to 4 (the old rule, without rounding, had to hide the linked count).
    assert shown.incidents == 1000 and shown.incidents_linked == 1000
    assert shown.incidents_linked_share == 1.0  # from the published counts
    assert shown.records_linked == 240
    assert ("linkage[ae].records_unlinkable", None) in linkage_counts([shown])


def test_counts_are_rounded_and_shares_follow_the_published_counts():
    (shown,) = protect_linkage([rate(records=403)], DisclosureSettings(round_to=5)) or []
    assert (shown.records, shown.records_linked, shown.records_unlinkable) == (405, 240, 10)
    # A share of the exact counts (240 / 403) would give 403 back; it is 240 / 405.
    assert shown.records_linked_share == 240 / 405
    assert protect_linkage(None, DisclosureSettings()) is None
