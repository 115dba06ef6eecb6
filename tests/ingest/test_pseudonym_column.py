"""The column-wise pseudonyms equal the per-value HMAC, byte for byte, on random identifiers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.ingest.pseudonyms import LinkKey, PseudonymMemo, normalise_identifier

KEYS = [
    LinkKey(b"0123456789abcdef0123456789abcdef", "test"),
    LinkKey(b"k" * 100, "a key longer than the SHA-256 block"),  # hashed first (RFC 2104)
]


def _random_text(rng: np.random.Generator, n: int) -> list[object]:
    alphabet = [*"0123456789abcdefXYZ -", "\t", "\x1c", "\xa0", "é", "ß", "日"]
    values: list[object] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.05:
            values.append(None)
        elif r < 0.08:
            values.append(rng.choice(["", "  ", "nan", "None", "<NA>", "NaN"]))
        elif r < 0.15:
            values.append(float("nan"))
        else:
            length = int(rng.integers(1, 14))
            ascii_only = rng.random() < 0.9
            pool = alphabet[:21] if ascii_only else alphabet
            values.append("".join(rng.choice(pool, length)))
    return values


@pytest.mark.parametrize("key", KEYS, ids=["short key", "long key"])
def test_text_column_equals_per_value_hmac(key):
    rng = np.random.default_rng(7)
    values = _random_text(rng, 3000)
    values += values[:500]  # repeated persons are hashed once but must come back everywhere
    column = pd.Series(values, dtype=object)
    assert key.pseudonym_column(column).to_pylist() == key.pseudonyms(values)
    strings = column.astype(pd.StringDtype())  # pandas 3 reads text columns as this dtype
    assert key.pseudonym_column(strings).to_pylist() == key.pseudonyms(strings.tolist())


def test_number_columns_equal_per_value_hmac():
    key = KEYS[0]
    rng = np.random.default_rng(8)
    nhs = (9_000_000_000 + rng.integers(0, 10**9, 2000)).astype(float)
    nhs[rng.random(2000) < 0.1] = np.nan
    nhs = np.concatenate([nhs, nhs[:300]])  # repeated persons: hashed once, found everywhere
    odd = np.array([1.5, -2.0, np.inf, -np.inf, 1e20, 2.0**63, -0.0, 123456789.25])
    floats = pd.Series(np.concatenate([nhs, odd]))
    assert key.pseudonym_column(floats).to_pylist() == key.pseudonyms(floats.tolist())
    integers = pd.Series(rng.integers(-(10**12), 10**12, 2000))
    assert key.pseudonym_column(integers).to_pylist() == key.pseudonyms(integers.tolist())
    nullable = pd.Series([1, None, 3], dtype="Int64")
    assert key.pseudonym_column(nullable).to_pylist() == key.pseudonyms([1, None, 3])


def test_other_columns_equal_per_value_hmac():
    key = KEYS[0]
    mixed = pd.Series(["a 1", 2, 3.0, None, 4.5, True, pd.NaT, "b"], dtype=object)
    assert key.pseudonym_column(mixed).to_pylist() == key.pseudonyms(mixed.tolist())
    labelled = pd.Series(["x y", "Z", None, "x y"], dtype="category")
    assert key.pseudonym_column(labelled).to_pylist() == key.pseudonyms(labelled.tolist())
    assert key.pseudonym_column(pd.Series([], dtype=object)).to_pylist() == []
    assert key.pseudonym_column(pd.Series([None, None], dtype=object)).to_pylist() == [None, None]


def test_a_memo_shared_by_chunks_gives_the_same_pseudonyms_and_hashes_each_id_once():
    key = KEYS[0]
    rng = np.random.default_rng(9)
    text = pd.Series(_random_text(rng, 2000), dtype=object)
    text = pd.concat([text, text.iloc[::3]], ignore_index=True)  # persons in several chunks
    numbers = pd.Series((9_000_000_000 + rng.integers(0, 500, 2500)).astype(float))
    numbers[rng.random(2500) < 0.1] = np.nan
    for column in (text, numbers):
        memo = PseudonymMemo()
        pieces = [column.iloc[i : i + 333] for i in range(0, len(column), 333)]
        got = [v for piece in pieces for v in key.pseudonym_column(piece, memo).to_pylist()]
        assert got == key.pseudonyms(column.tolist())
        distinct = {normalise_identifier(v) for v in column.tolist()} - {None}
        assert len(memo.ids) == len(distinct)  # each identifier hashed once in all
