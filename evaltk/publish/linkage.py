"""Linkage rates in the book: disclosure control of their counts, and the rows of their table.

The counts of a :class:`~evaltk.results.schema.LinkRate` are observed counts of records about
people, published by the book's one rule (:mod:`evaltk.publish.count_rule`: 1 to 4
suppressed, the rest rounded to the nearest 5). Each side (incidents, records) is an additive
table, total = linked + unlinkable + the rest, so the records *not* linked (which a total and
a linked count reveal) are checked as well (:mod:`evaltk.publish.differencing`); a share is
computed from the published counts and is suppressed with its linked count.
"""

from __future__ import annotations

from typing import Any

from evaltk.publish.count_rule import published_share
from evaltk.publish.differencing import Shape, linkage_shape, publish_shape
from evaltk.results.schema import DisclosureSettings, LinkRate

AGENCY_LABELS = {
    "ambulance": "Ambulance",
    "ae": "A&E attendances",
    "admission": "Mental-health admissions",
}

#: The two sides of a LinkRate: (total, linked, unlinkable, share) field names.
SIDES = (
    ("incidents", "incidents_linked", "incidents_unlinkable", "incidents_linked_share"),
    ("records", "records_linked", "records_unlinkable", "records_linked_share"),
)


def side_shape(rate: LinkRate, side: int, *, true: bool) -> Shape:
    """One side of ``rate`` as an additive table (values as stored in ``rate``; ``true`` when
    they are the unprotected ones)."""
    total, linked, unlinkable, _ = SIDES[side]
    return linkage_shape(
        f"{rate.agency} {total}",
        getattr(rate, total),
        getattr(rate, linked),
        getattr(rate, unlinkable),
        true=true,
    )


def protect_linkage(
    rates: list[LinkRate] | None, settings: DisclosureSettings, name: str = "linkage"
) -> list[LinkRate] | None:
    """``rates`` as they may be published (see the module docstring)."""
    if rates is None:
        return None
    out = []
    for rate in rates:
        update: dict[str, Any] = {}
        for side, (total, linked, unlinkable, share) in enumerate(SIDES):
            shape = side_shape(rate, side, true=True)
            shown = publish_shape(f"{name}: linkage of {rate.agency} ({total})", shape, settings)
            keys = [k for k in shape.values if k not in shape.unpublished]
            for field, key in zip((total, linked, unlinkable), keys, strict=True):
                update[field] = shown[key]
            update[share] = (
                None
                if getattr(rate, share) is None
                else published_share(update[linked], update[total])
            )
        out.append(rate.model_copy(update=update))
    return out


def linkage_counts(rates: list[LinkRate] | None) -> list[tuple[str, int | None]]:
    """Every count of ``rates``, named, for the scan of published downloads."""
    found: list[tuple[str, int | None]] = []
    for rate in rates or []:
        for name in (
            "incidents", "records", "incidents_unlinkable", "records_unlinkable",
            "incidents_linked", "records_linked",
        ):  # fmt: skip
            found.append((f"linkage[{rate.agency}].{name}", getattr(rate, name)))
    return found


def linkage_rows(rates: list[LinkRate] | None, observed: Any) -> list[dict[str, Any]]:
    """One table row per agency pair; ``observed`` marks each count for the HTML scan."""
    rows = []
    for rate in rates or []:
        low, high = rate.window_hours

        def share(value: float | None) -> str:
            return "suppressed" if value is None else f"{value:.1%}"

        rows.append(
            {
                "agency": AGENCY_LABELS.get(rate.agency, rate.agency),
                "window": f"{low:g} to {high:g} hours after the incident",
                "incidents": observed(rate.incidents_linked),
                "incidents_share": share(rate.incidents_linked_share),
                "records": observed(rate.records_linked),
                "records_total": observed(rate.records),
                "records_share": share(rate.records_linked_share),
                "unlinkable": observed(rate.records_unlinkable),
            }
        )
    return rows
