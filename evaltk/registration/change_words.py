"""An amendment's field changes in words a reviewer reads, not JSON paths and JSON values.

``outcomes[0].cost: null -> {"agency":"police","amount_gbp":45.0,...}`` becomes
``Police minutes at hospital: unit cost added, £45 per hour, police``: the outcome is named by
its label (from the protocol of the entry), the field by what it means, a unit cost by its
amount, unit and agency, and any other long value is summarised. The registration file keeps
every value in full (:mod:`evaltk.registration.diff`); this is only how it is shown, the same
on the HTML page and in the PDF.
"""

from __future__ import annotations

import json
import re
from typing import Any

from evaltk.registration.diff import FieldChange

#: Longest value shown in words; a longer one ends with "…" (the full value is in the file).
LONGEST = 90

_BLOCKS = {
    "title": "Title",
    "question": "Question",
    "intervention": "Intervention",
    "units": "Units",
    "window": "Analysis window",
    "design": "Design",
    "decision": "Decision rule",
    "data": "Data",
    "seed": "Random seed",
    "outcomes": "Outcomes",
}

_DESIGNS = {
    "its": "interrupted time series",
    "cits": "comparative interrupted time series",
    "did": "difference-in-differences",
    "event_study": "event study",
    "staggered": "staggered difference-in-differences",
    "synthetic": "synthetic control",
    "inference": "inference",
}

#: Field names whose plain reading (underscores as spaces) would mislead or puzzle.
_FIELDS = {
    "cost": "unit cost",
    "part_of": "counted within",
    "in_net": "counted in the net total",
    "amount_gbp": "amount (£)",
    "hours_per_event": "staff hours per event",
    "within_days": "repeat window (days)",
    "hac": "Newey–West errors",
    "hac_lags": "Newey–West lags",
    "ar1": "AR(1) working correlation",
    "alpha": "significance level α",
    "interval_level": "interval level",
    "minimum_important_change": "minimum important change",
    "washout_months": "washout (months)",
    "est_method": "estimation method",
    "per": "per",
}

_AGENCIES = {"emergency_department": "A&E", "mental_health": "mental health"}

_STEP = re.compile(r"([A-Za-z_]\w*)(?:\[(\d+)\])?")


def _field(name: str) -> str:
    return _FIELDS.get(name, name.replace("_", " "))


def _money(amount: float) -> str:
    return f"£{amount:,.0f}" if float(amount).is_integer() else f"£{amount:,.2f}"


def _cost(cost: dict[str, Any]) -> str:
    """A unit cost as a reader states it: ``£45 per hour, police``."""
    parts = [f"{_money(float(cost['amount_gbp']))} per {cost.get('per', 'event')}"]
    agency = str(cost.get("agency", ""))
    if agency:
        parts.append(_AGENCIES.get(agency, agency.replace("_", " ")))
    if cost.get("hours_per_event"):
        parts.append(f"{cost['hours_per_event']:g} staff hours per event")
    if cost.get("part_of"):
        parts.append(f"counted within {cost['part_of']}")
    elif cost.get("in_net") is False:
        parts.append("not in the net total")
    return ", ".join(parts)


def _shorten(text: str) -> str:
    return text if len(text) <= LONGEST else text[: LONGEST - 1].rstrip() + "…"


def value_words(value: Any, field: str = "") -> str:
    """A JSON value in words: text unquoted, a unit cost by amount, other blocks summarised."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return _shorten(value)
    if isinstance(value, dict):
        if field == "cost" and "amount_gbp" in value:
            return _shorten(_cost(value))
        if isinstance(value.get("label"), str):
            return _shorten(value["label"])
        shown = "; ".join(f"{_field(str(k))} {value_words(v)}" for k, v in value.items())
        return _shorten(shown)
    if isinstance(value, list):
        return _shorten(", ".join(value_words(v) for v in value))
    return _shorten(str(value))


def _at(document: dict[str, Any] | None, block: str, index: int) -> Any:
    if document is None:
        return None
    items = document.get(block)
    if isinstance(items, list) and 0 <= index < len(items):
        return items[index]
    return None


def subject_and_field(
    path: str, before: dict[str, Any] | None, after: dict[str, Any] | None, removed: bool = False
) -> tuple[str, str]:
    """Who a change is about (an outcome's label, a block) and which of its fields, in words.

    An outcome's index is its position in the newer document, or in the older one for a
    ``removed`` field (as :mod:`evaltk.registration.diff` writes it).
    """
    order = path.endswith(" (order)")
    steps = _STEP.findall(path.removesuffix(" (order)"))
    if not steps:
        return path, ""
    head, index = steps[0]
    rest = [name for name, _ in steps[1:]]
    if head == "outcomes" and index:
        outcome = _at(before, head, int(index)) if removed else _at(after, head, int(index))
        label = outcome.get("label") if isinstance(outcome, dict) else None
        subject = f"{label}" if isinstance(label, str) else f"Outcome {int(index) + 1}"
        return subject, " ".join(_field(name) for name in rest)
    subject = _BLOCKS.get(head, head.replace("_", " ").capitalize())
    if head == "design" and rest and rest[0] in _DESIGNS:
        subject = f"Design ({_DESIGNS[rest[0]]})"
        rest = rest[1:]
    words = " ".join(_field(name) for name in rest)
    return subject, ("order" if order and not words else words + (" order" if order else ""))


def change_words(
    change: FieldChange, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> str:
    """One field change in words, e.g. ``Police minutes at hospital: unit cost added, £45 per
    hour, police``.

    Parameters
    ----------
    change
        The change as stored in the registration file.
    before, after
        The protocol documents on either side of the change (the previous entry's and the
        amendment's), used to name an outcome by its label.
    """
    subject, field = subject_and_field(change.path, before, after, change.after is None)
    last = _STEP.findall(change.path)[-1][0] if _STEP.findall(change.path) else ""
    old = json.loads(change.before) if change.before is not None else None
    new = json.loads(change.after) if change.after is not None else None
    if last == "outcomes" and not field:
        # A whole outcome added or removed: its label is the subject already.
        return f"{subject}: outcome {'added' if old is None else 'removed'}"
    name = field or "value"
    if last == "part_of" and isinstance(new, str):
        # The outcome it is part of, by its label: "now counted within Officer minutes".
        labels = {o.get("id"): o.get("label") for o in (after or {}).get("outcomes", [])}
        within = labels.get(new) or new
        return f"{subject}: unit cost now counted within {within} (counted once, not in totals)"
    if old is None and new is not None:
        verb = "added" if isinstance(new, dict | list) else "set to"
        return f"{subject}: {name} {verb} {value_words(new, last)}".replace(" added ", " added, ")
    if new is None and old is not None:
        return f"{subject}: {name} removed (was {value_words(old, last)})"
    return f"{subject}: {name} {value_words(old, last)} → {value_words(new, last)}"
