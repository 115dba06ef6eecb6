"""SQL quoting: identifiers quoted, values escaped, and nothing a user writes runs as SQL."""

from __future__ import annotations

import duckdb
import pytest

from evaltk.ingest.sql import literal, quote_ident

NASTY = ["it's", "a\\'b", "'; DROP TABLE t; --", 'dou"ble', "\\", "é ☃", "' OR 1=1 --"]


def test_literals():
    assert literal(True) == "TRUE" and literal(False) == "FALSE"
    assert literal(3) == "3" and literal(2.5) == "2.5"
    assert literal("it's") == "'it''s'"
    for bad in (float("nan"), float("inf"), "a\x00b"):
        with pytest.raises(ValueError):
            literal(bad)
    with pytest.raises(TypeError):
        literal([1])  # type: ignore[arg-type]


@pytest.mark.parametrize("text", NASTY)
def test_strings_round_trip_through_duckdb(text):
    assert duckdb.connect().execute(f"SELECT {literal(text)}").fetchone() == (text,)


@pytest.mark.parametrize("name", [*NASTY, "select", "Force's code", "a b"])
def test_identifiers_round_trip_through_duckdb(name):
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t ({quote_ident(name)} INTEGER)")
    con.execute("INSERT INTO t VALUES (7)")
    assert con.execute(f"SELECT {quote_ident(name)} FROM t").fetchone() == (7,)
    assert con.execute("DESCRIBE t").fetchone()[0] == name
    with pytest.raises(ValueError):
        quote_ident("")
