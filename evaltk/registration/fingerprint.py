"""A registration's fingerprint: the head of its hash chain, short enough to read aloud.

The chain alone proves nothing against someone who rewrites an entry and recomputes every
hash with the public algorithm: the rewritten log verifies. What it cannot survive is a copy
of the head hash kept somewhere the evaluator does not control (the commissioner's inbox, an
OSF registration, a printed report). The fingerprint is that copy in a transcribable form:
the first 16 hex digits of an entry's ``entry_sha256`` in groups of four,
``3f2a-9c11-07be-44d0``. Because every entry's hash covers the one before it, the
fingerprint of entry *k* pins entries 0 to *k*.

Sixteen digits are 64 bits: finding another log with the same fingerprint is far beyond an
evaluator's means, though not a state's; for a stronger anchor file the whole
``entry_sha256``, which :func:`parse_fingerprint` accepts too.
"""

from __future__ import annotations

import re

from evaltk.errors import RegistrationError

DIGITS = 16
_GROUP = 4
_HEX = re.compile(r"[0-9a-f]+")


def fingerprint(sha256_hex: str) -> str:
    """The fingerprint of a hash: its first 16 hex digits in groups of four.

    Parameters
    ----------
    sha256_hex : str
        An ``entry_sha256`` (or any SHA-256 in hex).

    Returns
    -------
    str
        For example ``3f2a-9c11-07be-44d0``.
    """
    head = sha256_hex[:DIGITS].lower()
    return "-".join(head[i : i + _GROUP] for i in range(0, DIGITS, _GROUP))


def parse_fingerprint(text: str) -> str:
    """The hex digits of a fingerprint as someone typed it (dashes, spaces and case ignored).

    Parameters
    ----------
    text : str
        A fingerprint (16 digits) or a longer prefix of the hash, up to the whole of it.

    Returns
    -------
    str
        The lower-case hex digits, to compare with the start of an ``entry_sha256``.

    Raises
    ------
    RegistrationError
        If it is not 16 to 64 hex digits.
    """
    digits = re.sub(r"[\s:-]", "", text).lower()
    if not _HEX.fullmatch(digits) or not DIGITS <= len(digits) <= 64:
        raise RegistrationError(
            f"--fingerprint {text!r}: expected {DIGITS} hex digits in groups of four, such "
            "as 3f2a-9c11-07be-44d0 (as printed by `evaltk register` and `evaltk amend`), or "
            "a whole entry sha256"
        )
    return digits
