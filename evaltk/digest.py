"""SHA-256 of files and text, and the one canonical JSON text that evaltk hashes.

This module imports nothing of evaltk, so every layer may use it. The canonical form (sorted
keys, no spaces, UTF-8 kept rather than ``\\u`` escapes) is what protocol hashes and the
hash-chained ``registration.json`` are computed over: changing it would make every registered
analysis fail verification.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

_BLOCK = 1 << 20  # extracts can be gigabytes: read them in 1 MiB blocks


def canonical_json(value: Any) -> str:
    """``value`` as JSON with sorted keys, no spaces and non-ASCII text kept as it is.

    Parameters
    ----------
    value
        Plain JSON data (dicts, lists, strings, numbers, booleans, ``None``).

    Returns
    -------
    str
        The same text for equal data, whatever the order its keys were built in.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def text_sha256(text: str) -> str:
    """SHA-256 of ``text`` encoded as UTF-8, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, in hex, read block by block so memory stays flat.

    Parameters
    ----------
    path
        The file to hash.

    Returns
    -------
    str
        64 hex digits, the same as ``sha256sum FILE`` prints.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
