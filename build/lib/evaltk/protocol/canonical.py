"""A canonical form of a protocol, so that its hash changes with every value and nothing else.

Comments, key order, quoting and whitespace of the YAML do not survive loading; the canonical
form is the validated protocol dumped to JSON with sorted keys and no spaces. Defaults are
filled in, so writing a default value explicitly does not change the hash either.
"""

from __future__ import annotations

import hashlib
import json

from evaltk.protocol.spec import Protocol


def canonical_json(protocol: Protocol) -> str:
    return json.dumps(
        protocol.model_dump(mode="json", by_alias=True),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def protocol_sha256(protocol: Protocol) -> str:
    return hashlib.sha256(canonical_json(protocol).encode("utf-8")).hexdigest()
