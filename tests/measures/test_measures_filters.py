"""Filters to SQL: values escaped, missing values never match, nothing a user writes runs as SQL."""

from __future__ import annotations

import duckdb
import pytest

from evaltk.errors import ProtocolError
from evaltk.measures.filters import filter_sql, normalise_condition
from evaltk.protocol.spec import Comparison


def test_filters_match_as_documented():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES (1, TRUE, 'gp', 10.0), (2, FALSE, 'none', NULL),"
        " (3, NULL, NULL, 30.0), (4, TRUE, 'crisis_team', 50.0)) v(id, s136, referral, minutes)"
    )
    columns = {"s136": "s136", "referral": "referral", "officer_minutes": "minutes"}

    def ids(where):
        sql = f"SELECT id FROM t WHERE {filter_sql(where, columns)} ORDER BY id"
        return [r[0] for r in con.execute(sql).fetchall()]

    assert ids({}) == [1, 2, 3, 4]
    assert ids({"s136": True}) == [1, 4]
    assert ids({"s136": False}) == [2]  # a missing flag is not "false"
    assert ids({"referral": ["gp", "crisis_team"]}) == [1, 4]
    assert ids({"referral": []}) == []
    assert ids({"officer_minutes": Comparison(gt=10, le=50)}) == [3, 4]
    assert ids({"officer_minutes": Comparison(ne=30)}) == [1, 4]  # missing never matches
    assert ids({"s136": True, "officer_minutes": Comparison(ge=50)}) == [4]
    assert ids({"officer_minutes": 10}) == [1]


def test_conditions_take_the_type_of_their_field():
    assert normalise_condition("force", 1234) == "1234"
    assert normalise_condition("person_id", [1, "a"]) == ["1", "a"]
    assert normalise_condition("officer_minutes", "12.5") == 12.5
    with pytest.raises(ProtocolError, match="officer_minutes"):
        normalise_condition("officer_minutes", "lots")
    with pytest.raises(ProtocolError, match="timestamp"):
        normalise_condition("timestamp", "2016-01-01")


def test_user_strings_in_filters_are_data_not_sql():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES ('a'), ('x''; DROP TABLE t; --')) v(force)"
    )
    sql = filter_sql({"force": "x'; DROP TABLE t; --"}, {"force": "force"})
    assert con.execute(f"SELECT count(*) FROM t WHERE {sql}").fetchone() == (1,)
    assert con.execute("SELECT count(*) FROM t").fetchone() == (2,)
