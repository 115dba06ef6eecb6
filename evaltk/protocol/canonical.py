"""A canonical form of a protocol, so that its hash changes with every value and nothing else.

Comments, key order, quoting and whitespace of the YAML do not survive loading; the canonical
form is the validated protocol dumped to JSON with sorted keys and no spaces
(:func:`evaltk.digest.canonical_json`). Defaults are filled in, so writing a default value
explicitly does not change the hash either.
"""

from __future__ import annotations

from typing import Any

from evaltk.digest import canonical_json, text_sha256
from evaltk.protocol.spec import Protocol


def canonical_document(protocol: Protocol) -> dict[str, Any]:
    """The protocol as plain JSON data: what registration stores and the hash covers.

    Parameters
    ----------
    protocol
        A validated protocol.

    Returns
    -------
    dict
        Field names as the YAML spells them (aliases), defaults filled in.
    """
    return protocol.model_dump(mode="json", by_alias=True)


def protocol_sha256(protocol: Protocol) -> str:
    """SHA-256 (hex) of the protocol's canonical JSON; registration.json records it."""
    return text_sha256(canonical_json(canonical_document(protocol)))
