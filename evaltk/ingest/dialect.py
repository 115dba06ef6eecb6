"""The one SQL source, compiled for Spark: DuckDB SQL transpiled to Spark SQL by SQLGlot.

Every statement evaltk runs on episode rows (measures, row accounting, high-intensity users,
linkage) is written once, in DuckDB's dialect, by the modules that own it. DuckDB runs it as
it is; for Spark, :func:`spark_sql` parses it with SQLGlot and writes it back in Spark's
dialect. SQLGlot translates the common ground (quoting, types, ``date_trunc``, ``FILTER``
clauses, bit shifts, ``sha256``); the handful of DuckDB functions it leaves as they are get
their Spark equivalents here, each with the reason it is equivalent:

* ``enum_code(try_cast(x AS ENUM(...)))`` (the position of a force among the protocol's units,
  NULL for any other) -> ``nullif(array_position(array(...), x), 0) - 1``;
* ``epoch_us(ts)`` -> ``unix_micros(CAST(ts AS TIMESTAMP_LTZ))``: the session time zone is UTC
  (:mod:`evaltk.ingest.spark`), so a wall-clock time counts the same microseconds in both;
* ``hash(x)`` -> ``xxhash64(x)``: both 64-bit (Spark's own ``hash`` is 32-bit, which would
  make the duplicate-id pre-pass find collisions in every large file);
* ``try_strptime(t, [formats])`` -> ``coalesce(try_to_timestamp(t, format), ...)`` with each
  strftime format rewritten in Java's pattern letters;
* ``timezone(zone, ts)`` -> ``from_utc_timestamp(ts, zone)`` (UTC session: the same local time);
* ``date + INTERVAL (n) MONTH`` -> ``add_months(date, n)``.

A DuckDB function used in that SQL and not listed here is left as it is, and Spark then
refuses the statement naming it: the parity tests (tests/spark) run every statement on both.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.time import format_time


def _java_format(strftime: str) -> str:
    return format_time(strftime, Spark.INVERSE_TIME_MAPPING, Spark.INVERSE_TIME_TRIE) or strftime


def _call(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _enum_code(node: exp.Anonymous) -> exp.Expression | None:
    [arg] = node.expressions
    if not (isinstance(arg, exp.Cast) and arg.to.this == exp.DataType.Type.ENUM):
        return None
    values = exp.Array(expressions=[v.copy() for v in arg.to.expressions])
    position = _call("ARRAY_POSITION", values, arg.this.copy())
    return exp.Sub(
        this=exp.Nullif(this=position, expression=exp.Literal.number(0)),
        expression=exp.Literal.number(1),
    )


def _try_strptime(node: exp.Anonymous) -> exp.Expression:
    text, formats = node.expressions
    items = formats.expressions if isinstance(formats, exp.Array) else [formats]
    tries = [
        _call("TRY_TO_TIMESTAMP", text.copy(), exp.Literal.string(_java_format(f.name)))
        for f in items
    ]
    # TRY_TO_TIMESTAMP gives Spark's session-zone TIMESTAMP; DuckDB's strptime a wall-clock
    # TIMESTAMP (Spark's TIMESTAMP_NTZ). In a UTC session the cast keeps the wall clock.
    ntz = exp.DataType.build("TIMESTAMPNTZ")
    if len(tries) == 1:
        return exp.Cast(this=tries[0], to=ntz)
    return exp.Cast(this=exp.Coalesce(this=tries[0], expressions=tries[1:]), to=ntz)


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        if name == "enum_code":
            return _enum_code(node) or node
        if name == "epoch_us":
            [ts] = node.expressions
            return _call(
                "UNIX_MICROS", exp.Cast(this=ts.copy(), to=exp.DataType.build("TIMESTAMPLTZ"))
            )
        if name == "hash" and len(node.expressions) == 1:
            return _call("XXHASH64", node.expressions[0].copy())
        if name == "try_strptime":
            return _try_strptime(node)
        if name == "timezone" and len(node.expressions) == 2:
            zone, ts = node.expressions
            return _call("FROM_UTC_TIMESTAMP", ts.copy(), zone.copy())
    if isinstance(node, exp.Add) and isinstance(node.expression, exp.Interval):
        interval = node.expression
        unit = interval.unit.name.upper() if interval.unit else ""
        if unit in ("MONTH", "MONTHS"):
            months: exp.Expression = interval.this
            if isinstance(months, exp.Paren):
                months = months.this
            return _call("ADD_MONTHS", node.this.copy(), months.copy())
    return node


def spark_sql(duckdb_sql: str) -> str:
    """``duckdb_sql`` (one statement, DuckDB's dialect) as Spark SQL."""
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    return tree.transform(_rewrite).sql(dialect="spark")
