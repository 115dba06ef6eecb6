"""The cell key: values packed side by side into BIGINT words read back exactly in DuckDB."""

from __future__ import annotations

import duckdb
import pytest

from evaltk.measures.cell_key import WORD_BITS, CellKey


def test_values_read_back_exactly_across_words():
    key = CellKey()
    wide = key.add("a", 23)
    small = key.add("b", 4)
    # 40 one-bit flags: the first 36 fill word 0 to its 63 bits, the rest open word 1.
    flags = [key.add(f"CAST(i % {k + 2} = 0 AS INTEGER)", 1) for k in range(40)]
    assert key.names() == ["cell__0", "cell__1"]
    assert [f.word for f in flags].count(0) == WORD_BITS - 23 - 4
    top = key.add("c", 30)  # room left only in word 1
    assert top.word == 1

    con = duckdb.connect()
    rows = (
        "SELECT i, (i * 7919) % (1 << 23) AS a, i % 16 AS b, (i * 104729) % (1 << 30) AS c "
        "FROM range(5000) r(i)"
    )
    reads = [CellKey.read(wide), CellKey.read(small), CellKey.read(top)]
    tests = [CellKey.test(f) for f in flags]
    packed = f"SELECT *, {', '.join(key.columns())} FROM ({rows})"
    result = con.execute(
        f"SELECT i, a, b, c, {', '.join(reads)}, [{', '.join(tests)}], cell__0 >= 0, cell__1 >= 0 "
        f"FROM ({packed}) ORDER BY i"
    ).fetchall()
    for i, a, b, c, read_a, read_b, read_c, bits, word0_sign, word1_sign in result:
        assert (read_a, read_b, read_c) == (a, b, c)
        assert bits == [i % (k + 2) == 0 for k in range(40)]
        assert word0_sign and word1_sign  # the sign bit is never used


def test_a_value_wider_than_a_word_is_refused():
    with pytest.raises(ValueError, match="1 to 63 bits"):
        CellKey().add("x", 64)
