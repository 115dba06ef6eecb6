"""Keyed pseudonyms: the same person gives the same pseudonym only under the same key."""

from __future__ import annotations

import pytest

from evaltk.errors import DataError, LinkKeyError
from evaltk.ingest.pseudonyms import LinkKey, load_key, normalise_identifier, require_key

KEY = LinkKey(b"0123456789abcdef0123456789abcdef", "test")


def test_pseudonyms_are_keyed_and_normalised():
    other = LinkKey(b"another-key-of-sufficient-length", "other")
    assert (
        KEY.pseudonym("943 476 5919") == KEY.pseudonym(9434765919.0) == KEY.pseudonym("9434765919")
    )
    assert KEY.pseudonym("9434765919") != other.pseudonym("9434765919")
    assert normalise_identifier(float("nan")) is None and KEY.pseudonym("") is None
    assert "0123456789abcdef" not in repr(KEY) + str(KEY)


def test_key_sources(tmp_path, monkeypatch):
    monkeypatch.delenv("EVALTK_LINK_KEY", raising=False)
    monkeypatch.delenv("EVALTK_LINK_KEY_FILE", raising=False)
    assert load_key() is None
    with pytest.raises(LinkKeyError, match="no linkage key"):
        require_key()
    (tmp_path / "k").write_text("s" * 32 + "\n")
    assert load_key(tmp_path / "k").secret == b"s" * 32
    monkeypatch.setenv("EVALTK_LINK_KEY", "short")
    with pytest.raises(LinkKeyError, match="too short") as caught:
        load_key()
    assert "short'" not in str(caught.value)


def test_a_key_error_is_a_data_error():
    # The CLI and callers that catch DataError must still catch a missing key.
    assert issubclass(LinkKeyError, DataError)
