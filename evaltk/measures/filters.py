"""Protocol filters as SQL text, every value escaped by :func:`evaltk.ingest.sql.literal`.

Semantics a reader could guess wrong: a filter is a conjunction over fields; a list means "any of
these values"; a :class:`~evaltk.protocol.spec.Comparison` requires every bound it gives. A
MISSING value never matches a condition, not even ``ne`` (SQL's three-valued logic, made
explicit with ``coalesce(..., FALSE)``), so an incident with no recorded flag is never counted as
"flag is false".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from evaltk.episodes.schema import FIELDS_BY_NAME
from evaltk.errors import ProtocolError
from evaltk.ingest.sql import literal, quote_ident
from evaltk.protocol.spec import Comparison, Condition, Scalar


def normalise_condition(field: str, condition: Condition) -> Condition:
    """Give a condition's values the type of the canonical field they are compared with.

    Text, id and category fields are compared as text (``force: 1234`` means the code
    ``'1234'``); number fields as numbers. The pandas reference applies the same rule, so the
    two engines cannot disagree on a type.

    Raises
    ------
    ProtocolError
        For a filter on the timestamp (months are chosen by the window) or a number field
        compared with text that is not a number.
    """
    kind = FIELDS_BY_NAME[field].kind
    if kind == "timestamp":
        raise ProtocolError(
            f"filter on '{field}' is not supported; the analysis window selects the months"
        )
    if isinstance(condition, Comparison):
        return condition

    def one(value: Scalar) -> Scalar:
        if kind in ("id", "text", "category"):
            return value if isinstance(value, str) else str(value).lower()
        if kind == "number" and isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise ProtocolError(
                    f"filter on number field '{field}' compares it with text {value!r}"
                ) from None
        return value

    if isinstance(condition, list):
        return [one(v) for v in condition]
    return one(condition)


def condition_sql(column: str, condition: Condition) -> str:
    """One field's condition, on an already quoted column expression ``column``."""
    if isinstance(condition, Comparison):
        parts = []
        for op, bound in (
            (">", condition.gt),
            (">=", condition.ge),
            ("<", condition.lt),
            ("<=", condition.le),
            ("<>", condition.ne),
        ):
            if bound is not None:
                parts.append(f"{column} {op} {literal(bound)}")
        return " AND ".join(parts)
    if isinstance(condition, list):
        if not condition:
            return "FALSE"
        return f"{column} IN ({', '.join(literal(v) for v in condition)})"
    return f"{column} = {literal(condition)}"


def filter_sql(where: Mapping[str, Condition], columns: Mapping[str, str]) -> str:
    """A whole filter as a boolean SQL expression that is never NULL.

    Parameters
    ----------
    where
        Canonical field -> condition (``{}`` matches every row).
    columns
        Canonical field -> SQL expression (already quoted) holding that field's canonical value.
    """
    if not where:
        return "TRUE"
    parts = [
        f"({condition_sql(columns[name], normalise_condition(name, cond))})"
        for name, cond in sorted(where.items())
    ]
    return f"coalesce({' AND '.join(parts)}, FALSE)"


def filter_columns(fields: Iterable[str]) -> dict[str, str]:
    """The SQL each canonical field is compared as in a filter: ids as text (see
    sql.normalise_condition), every other field as itself. Ids keep their type elsewhere."""
    ids = ("episode_id", "person_id")
    return {
        name: f"CAST({quote_ident(name)} AS VARCHAR)" if name in ids else quote_ident(name)
        for name in fields
    }
