"""The linkage key, and the keyed hash that replaces person identifiers.

A person identifier (NHS number, force person number) is replaced by
``HMAC-SHA-256(key, normalised identifier)`` as hex. Without the key nobody can recompute
the pseudonym from an identifier (unlike a plain hash, which anyone can brute-force over the
10^10 possible NHS numbers); with the same key, police, ambulance and A&E extracts give the
same pseudonym for the same person, so they can be linked without moving identities around.

The key comes from the environment variable ``EVALTK_LINK_KEY`` (the key itself, at least 16
characters) or from a key file (``--key-file PATH``, or its path in
``EVALTK_LINK_KEY_FILE``). It is held in memory only: it is never written to any output, log
or error message (messages name where it came from, never its value).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from evaltk.errors import LinkKeyError

KEY_ENV = "EVALTK_LINK_KEY"
KEY_FILE_ENV = "EVALTK_LINK_KEY_FILE"
MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class LinkKey:
    """A linkage key. ``repr`` and ``str`` never show the secret."""

    secret: bytes = field(repr=False)
    origin: str  # where it came from, for messages ('EVALTK_LINK_KEY', 'key file k.txt')

    def __str__(self) -> str:
        return f"linkage key from {self.origin}"

    @property
    def fingerprint(self) -> str:
        """A short, one-way tag of the key (safe to store: it reveals nothing of the key).

        Used to tell staged files made under different keys apart, never to check a key.
        """
        return hmac.new(self.secret, b"evaltk key fingerprint", hashlib.sha256).hexdigest()[:16]

    def pseudonym(self, identifier: object) -> str | None:
        """The pseudonym of one identifier (``None`` for a missing one)."""
        text = normalise_identifier(identifier)
        if text is None:
            return None
        return hmac.new(self.secret, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def pseudonyms(self, identifiers: Iterable[object]) -> list[str | None]:
        """Pseudonyms of many identifiers, in order."""
        secret = self.secret
        out: list[str | None] = []
        append = out.append
        new = hmac.new
        sha = hashlib.sha256
        for value in identifiers:
            text = normalise_identifier(value)
            append(None if text is None else new(secret, text.encode("utf-8"), sha).hexdigest())
        return out


def normalise_identifier(value: object) -> str | None:
    """The text an identifier is hashed as, the same whichever agency's file it comes from.

    Surrounding spaces and inner spaces are removed (``"943 476 5919"`` is ``"9434765919"``),
    letters are upper-cased, and a whole number stored as a float (SPSS, Excel) loses its
    ``.0``. Empty and missing values give ``None``.
    """
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer():
            return str(int(value))
    text = "".join(str(value).split()).upper()
    if text in ("", "NAN", "NONE", "<NA>"):
        return None
    return text


def load_key(key_file: str | Path | None = None) -> LinkKey | None:
    """The linkage key from ``key_file``, else ``EVALTK_LINK_KEY_FILE``, else ``EVALTK_LINK_KEY``.

    Returns ``None`` when none is given. Raises :class:`~evaltk.errors.LinkKeyError` (a
    :class:`~evaltk.errors.DataError`) for a key file that is missing or unreadable, or a key
    shorter than 16 bytes.
    """
    path = key_file or os.environ.get(KEY_FILE_ENV) or None
    if path is not None:
        path = Path(path)
        try:
            secret = path.read_bytes().strip()
        except OSError as error:
            raise LinkKeyError(
                f"{path}: cannot read the linkage key file ({error.strerror or error}); "
                "check --key-file"
            ) from None
        return _checked(secret, f"key file {path.name}")
    value = os.environ.get(KEY_ENV)
    if value:
        return _checked(value.strip().encode("utf-8"), KEY_ENV)
    return None


def require_key(key_file: str | Path | None = None, why: str = "") -> LinkKey:
    """Like :func:`load_key`, but a missing key is a clear error."""
    key = load_key(key_file)
    if key is None:
        raise LinkKeyError(
            f"{why + ': ' if why else ''}no linkage key: set the environment variable "
            f"{KEY_ENV} (at least {MIN_KEY_BYTES} characters) or pass --key-file PATH; "
            "evaltk never uses raw person identifiers without pseudonymising them"
        )
    return key


def _checked(secret: bytes, origin: str) -> LinkKey:
    if len(secret) < MIN_KEY_BYTES:
        raise LinkKeyError(
            f"the linkage key from {origin} is too short ({len(secret)} bytes); use at least "
            f'{MIN_KEY_BYTES} random characters, e.g. from `python -c "import secrets; '
            'print(secrets.token_hex(32))"`'
        )
    return LinkKey(secret, origin)
