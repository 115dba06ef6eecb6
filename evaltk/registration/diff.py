"""Field-level differences between two protocol documents, as a reader would name them.

``outcomes[7].measure.repeat.within_days: 28 -> 29``. Lists of mappings that all carry a unique
``id`` (the outcomes) are matched by id, so inserting an outcome shows as one addition, not as a
change of every outcome after it; the index shown is the outcome's position in the newer
document (in the older one for a removal). Values are compared as canonical JSON text, so
``1`` and ``1.0`` or ``1`` and ``true`` differ, as they do in the hash.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from evaltk.digest import canonical_json

_LONGEST_VALUE = 80


class FieldChange(BaseModel):
    """One changed field. ``before``/``after`` are JSON text; ``None`` means the field is absent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    before: str | None
    after: str | None

    def text(self) -> str:
        """``path: before -> after`` on one line, long values shortened."""
        return f"{self.path}: {_show(self.before)} -> {_show(self.after)}"


def _show(value: str | None) -> str:
    if value is None:
        return "(absent)"
    return value if len(value) <= _LONGEST_VALUE else value[: _LONGEST_VALUE - 1] + "…"


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _ids(items: list[Any]) -> list[str] | None:
    """The ids of a list of mappings, if every item has a distinct string ``id``."""
    if not items or not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
        return None
    ids = [i["id"] for i in items]
    return ids if len(set(ids)) == len(ids) else None


def _walk(before: Any, after: Any, path: str) -> Iterator[FieldChange]:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            sub = _key(path, str(key))
            if key not in before:
                yield FieldChange(path=sub, before=None, after=canonical_json(after[key]))
            elif key not in after:
                yield FieldChange(path=sub, before=canonical_json(before[key]), after=None)
            else:
                yield from _walk(before[key], after[key], sub)
        return
    if isinstance(before, list) and isinstance(after, list):
        yield from _walk_list(before, after, path)
        return
    if canonical_json(before) != canonical_json(after):
        yield FieldChange(path=path, before=canonical_json(before), after=canonical_json(after))


def _walk_list(before: list[Any], after: list[Any], path: str) -> Iterator[FieldChange]:
    old_ids, new_ids = _ids(before), _ids(after)
    if old_ids is None or new_ids is None:
        for i in range(max(len(before), len(after))):
            sub = f"{path}[{i}]"
            if i >= len(before):
                yield FieldChange(path=sub, before=None, after=canonical_json(after[i]))
            elif i >= len(after):
                yield FieldChange(path=sub, before=canonical_json(before[i]), after=None)
            else:
                yield from _walk(before[i], after[i], sub)
        return
    old_at = {id_: i for i, id_ in enumerate(old_ids)}
    for i, id_ in enumerate(new_ids):
        if id_ in old_at:
            yield from _walk(before[old_at[id_]], after[i], f"{path}[{i}]")
        else:
            yield FieldChange(path=f"{path}[{i}]", before=None, after=canonical_json(after[i]))
    for id_, j in old_at.items():
        if id_ not in new_ids:
            yield FieldChange(path=f"{path}[{j}]", before=canonical_json(before[j]), after=None)
    common_old = [i for i in old_ids if i in new_ids]
    common_new = [i for i in new_ids if i in old_at]
    if common_old != common_new:
        yield FieldChange(
            path=f"{path} (order)",
            before=canonical_json(common_old),
            after=canonical_json(common_new),
        )


def diff_documents(before: Any, after: Any) -> list[FieldChange]:
    """Every field that differs between two JSON-like documents, in document order.

    Parameters
    ----------
    before, after : JSON-like
        Plain documents (dicts, lists, scalars), e.g. two canonical protocols.

    Returns
    -------
    list of FieldChange
        Empty when the documents have the same canonical JSON.

    Examples
    --------
    >>> [c.text() for c in diff_documents({"a": {"b": 28}}, {"a": {"b": 29}})]
    ['a.b: 28 -> 29']
    """
    return list(_walk(before, after, ""))


def outcome_ids(document: dict[str, Any], role: str | None = None) -> list[str]:
    """Outcome ids of a protocol document, optionally only those with ``role``."""
    return [
        o["id"]
        for o in document.get("outcomes", [])
        if isinstance(o, dict) and (role is None or o.get("role") == role)
    ]


#: Outcome fields that price an outcome rather than define what is measured and tested: a
#: change to them is listed in the amendment's field diff, but does not flag the outcome (or
#: the headline) as "changed after registration".
NOT_DEFINITION = ("cost",)


def changed_outcomes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Ids of outcomes present in both documents whose definition differs (unit costs aside)."""

    def definition(outcome: dict[str, Any]) -> str:
        return canonical_json({k: v for k, v in outcome.items() if k not in NOT_DEFINITION})

    old = {o["id"]: o for o in before.get("outcomes", []) if isinstance(o, dict) and "id" in o}
    return [
        o["id"]
        for o in after.get("outcomes", [])
        if isinstance(o, dict) and o.get("id") in old and definition(old[o["id"]]) != definition(o)
    ]
