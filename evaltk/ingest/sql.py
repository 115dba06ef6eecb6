"""Quoting for the SQL that reads files: every identifier quoted and every literal escaped.

Column names come from the user's ``data.columns`` and values from the protocol, so nothing is
pasted into SQL raw: identifiers go through :func:`quote_ident` and values through
:func:`literal`, which together admit no way out of a quoted token.
"""

from __future__ import annotations

import math

#: A value that :func:`literal` can write (the scalar values a protocol holds).
SqlValue = bool | int | float | str


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (a column name), doubling any embedded double quote.

    Raises
    ------
    ValueError
        If ``name`` is empty or holds a NUL character, which no SQL engine can quote.
    """
    if not name or "\x00" in name:
        raise ValueError(f"{name!r} cannot be used as a column name")
    return '"' + name.replace('"', '""') + '"'


def literal(value: SqlValue) -> str:
    """Render a protocol value as an SQL literal.

    Strings are single-quoted with embedded quotes doubled. DuckDB's ordinary string literals
    give backslashes no special meaning, so doubling the quote is the complete escape.
    """
    if isinstance(value, bool):  # before int: bool is a subclass of int
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return repr(float(value))
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{value!r} holds a NUL character")
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot use {type(value).__name__} {value!r} as an SQL value")
