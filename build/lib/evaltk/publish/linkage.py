"""Linkage rates in the book: disclosure control of their counts, and the rows of their table.

The counts of a :class:`~evaltk.results.schema.LinkRate` are observed counts of records about
people: a count from 1 to ``threshold - 1`` is suppressed, and so is a linked count whose
complement (the records *not* linked, which the total and the linked count reveal) is that
small; a share is suppressed with its linked count. Counts are rounded when the protocol asks.
"""

from __future__ import annotations

from typing import Any

from evaltk.results.schema import DisclosureSettings, LinkRate

AGENCY_LABELS = {
    "ambulance": "Ambulance",
    "ae": "A&E attendances",
    "admission": "Mental-health admissions",
}


def _small(value: int | None, threshold: int) -> bool:
    return value is not None and 0 < value < threshold


def _round(value: int | None, base: int | None) -> int | None:
    if value is None or not base:
        return value
    return int(base * round(value / base))


def protect_linkage(
    rates: list[LinkRate] | None, settings: DisclosureSettings
) -> list[LinkRate] | None:
    """``rates`` as they may be published (see the module docstring)."""
    if rates is None:
        return None
    t, base = settings.threshold, settings.round_to
    out = []
    for rate in rates:
        update: dict[str, Any] = {}
        for total, linked, unlinkable, share in (
            ("incidents", "incidents_linked", "incidents_unlinkable", "incidents_linked_share"),
            ("records", "records_linked", "records_unlinkable", "records_linked_share"),
        ):
            n, k, u = getattr(rate, total), getattr(rate, linked), getattr(rate, unlinkable)
            hide_k = _small(k, t) or (n is not None and k is not None and _small(n - k, t))
            hide_u = _small(u, t) or (n is not None and u is not None and _small(n - u, t))
            update[total] = None if _small(n, t) else _round(n, base)
            update[linked] = None if hide_k else _round(k, base)
            update[unlinkable] = None if hide_u else _round(u, base)
            update[share] = None if hide_k else getattr(rate, share)
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
