"""Identifier strings built in bulk: pseudonymous person ids and episode ids.

Formatting millions of ids one Python string at a time dominates the run time, so ids are laid
out as fixed-width byte matrices and handed to Arrow as a string array without copying.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_NIBBLE_SHIFTS = np.arange(60, -4, -4, dtype=np.uint64)
_DIGIT_POWERS = 10 ** np.arange(9, -1, -1, dtype=np.int64)
EPISODE_DIGITS = len(_DIGIT_POWERS)


def fixed_width_strings(chars: np.ndarray) -> pa.StringArray:
    """An Arrow string array from an ``(n, width)`` matrix of ASCII codes, one row per string."""
    n, width = chars.shape
    if n * width >= 2**31:
        raise ValueError("too many characters for one Arrow string array; use smaller chunks")
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(chars, dtype=np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def pseudonyms(values: np.ndarray, key: int) -> pa.StringArray:
    """16-hex-digit pseudonyms of distinct integers: a keyed bijection, so never a collision.

    The mixing is splitmix64's finaliser applied to ``value + key``; without the key the
    pseudonym cannot be turned back into the person's index.
    """
    z = values.astype(np.uint64) + np.uint64(key)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    nibbles = (z[:, None] >> _NIBBLE_SHIFTS) & np.uint64(0xF)
    return fixed_width_strings(_HEX[nibbles])


def episode_ids(prefix: str, sequence: np.ndarray) -> pa.StringArray:
    """``"<prefix>-0000000123"``-style ids: the prefix, a hyphen and a ten-digit sequence number."""
    if len(sequence) and int(sequence.max()) >= 10**EPISODE_DIGITS:
        raise ValueError(f"more than {10**EPISODE_DIGITS - 1} episodes for {prefix}")
    head = np.frombuffer(f"{prefix}-".encode("ascii"), dtype=np.uint8)
    digits = (sequence[:, None] // _DIGIT_POWERS) % 10 + ord("0")
    chars = np.empty((len(sequence), len(head) + EPISODE_DIGITS), dtype=np.uint8)
    chars[:, : len(head)] = head
    chars[:, len(head) :] = digits
    return fixed_width_strings(chars)
