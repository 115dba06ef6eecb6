"""Looks for raw identifiers and the link key in output files.

The privacy tests search every output for thousands of NHS numbers. Testing each number with
``number in text`` is thousands of passes over megabytes of book HTML (most of those tests'
time). Here each distinct shape of identifier (10 digits; 3+3+4 digits with spaces) is one
regular expression whose every overlapping match is a candidate, and the candidates are
intersected with the identifiers: the same answer as ``number in text`` for each number, in
one pass per shape.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from pathlib import Path

#: Files read as text (parquet by its values, as it is compressed); others only for the key.
TEXT_SUFFIXES = (".json", ".csv", ".md", ".html", ".txt", ".js", ".yml", ".parquet")


def _shape(identifier: str) -> str:
    """A pattern matching any string laid out as ``identifier``: digits for digits, the other
    characters as they are (``943 476 5919`` -> ``[0-9]{3} [0-9]{3} [0-9]{4}``)."""
    parts = []
    for is_digit, run in itertools.groupby(identifier, str.isdigit):
        chars = "".join(run)
        parts.append(f"[0-9]{{{len(chars)}}}" if is_digit else re.escape(chars))
    return "".join(parts)


def identifiers_in(text: str, identifiers: Iterable[str]) -> set[str]:
    """The identifiers that occur in ``text`` (anywhere, also inside longer digit runs)."""
    by_shape: dict[str, set[str]] = {}
    for identifier in identifiers:
        by_shape.setdefault(_shape(identifier), set()).add(identifier)
    found: set[str] = set()
    for pattern, group in by_shape.items():
        # A lookahead matches at every position, so overlapping occurrences are all seen.
        found |= group.intersection(re.findall(f"(?=({pattern}))", text))
    return found


def leaks(path: Path, identifiers: Iterable[str], key: str) -> list[str]:
    """What of ``identifiers`` and ``key`` the file holds (the key anywhere in its bytes)."""
    data = path.read_bytes()
    found = [key] if key.encode() in data else []
    if path.suffix in TEXT_SUFFIXES:
        if path.suffix == ".parquet":
            import pandas as pd

            text = pd.read_parquet(path).to_csv()
        else:
            text = data.decode("utf-8", errors="replace")
        found += sorted(identifiers_in(text, identifiers))
    return found
