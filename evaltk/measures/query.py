"""The one SQL statement that turns an episode file into grouped outcome aggregates.

Shape of the statement (each step a CTE, all streamed by DuckDB in one scan of the file):

1. ``canon`` — the file's columns mapped onto canonical fields and types, with flags for
   values that cannot be read (:mod:`evaltk.ingest.field_sql`), and the month of each row;
2. ``marked`` — per row: its exclusion reason (:mod:`evaltk.measures.accounting`), unit (as
   its position in ``protocol.units``), month, unreadable-value flags and one bit per distinct
   filter of the protocol, all packed into one or a few BIGINT words
   (:mod:`evaltk.measures.cell_key`), so that only those words, the person keys and the
   numbers being averaged travel on through the window (never text). Against a column each
   (a UTINYINT, a UTINYINT, a DATE, a BIGINT of filter bits): about 5 % less CPU time for
   the statement (best of 5 runs, 10 million episodes, 2 threads) and 0.07 GiB less peak
   memory;
3. ``flagged`` — per row, the time of the same person's next episode matching ``among``
   (strictly later: one window aggregate per distinct ``among`` over the rows after the
   current one's peers, :func:`later_frame`; ``first_value`` where any episode counts, else
   ``min`` of the matching ones), and from it one repeat flag per distinct repeat window;
4. ``cells`` — the rows grouped by everything the aggregates can tell apart (the cell words,
   repeat flags; and the person where a measure counts people): a row count and the sum and
   count of each number field; ``grouped`` reads exclusion reason, unit, month and
   unreadable-value flags back out of the words;
5. the final ``GROUP BY`` of exclusion reason, unit and month over those few cells (a
   quarter of a million for 10 million episodes), with one ``sum(...) FILTER`` per numerator
   and denominator. Filtering every row once per outcome instead took about a sixth of the
   query (EXPLAIN ANALYZE, 1 million episodes), the cells under a tenth. Sums of minutes are
   added in another order than row by row: means may differ in the last bits (1e-15).

Persons are partitioned by a 64-bit hash of ``person_id`` unless the ids are integers: the
window runs about 1.6 times faster on an integer key than on 16-character text. Within a
partition, episodes are ordered by a 128-bit key: a second 63-bit hash of the person (of the
id behind a prefix, so that its collisions are unrelated to the first's) above the time in
microseconds (:func:`person_time`). Two persons who share the first hash (for 10 million
persons, about 1 chance in 400,000) still cannot mix: their order keys are at least 2^63
microseconds apart, so the repeat window of one never reaches the other. Only persons who
share both hashes (odds around 1 in 10^24 for 10 million persons) could. The second hash and
the wider order key cost about a sixth of the statement's CPU time (10 million episodes, 2
threads, best of 4: 5.1 s against 4.2-4.4 s with one hash and a BIGINT order key), less than
an exact text key or a separate collision check (each 15-30 % of the whole run). Checking
instead whether a partition holds two second hashes (``min <> max`` over the partition, to
run again exactly when it does) cost about a third more than the two-hash key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from evaltk.ingest.field_sql import FieldColumn, is_integer_type
from evaltk.ingest.source import EpisodeFile
from evaltk.ingest.sql import literal, quote_ident
from evaltk.measures.accounting import EXCLUSION_RULES, ExclusionContext, exclusion_sql
from evaltk.measures.cell_key import CellKey, Slot
from evaltk.measures.filters import filter_columns, filter_sql
from evaltk.measures.grid import month_floor
from evaltk.protocol.spec import Comparison, Filter, Measure, Protocol, RepeatWindow

MICROSECONDS_PER_DAY = 86_400 * 10**6
MONTH_BITS, MONTH_OFFSET = 23, 2**22  # a packed month: see _Groups.place
PERSON_SALT = "evaltk::"  # 8 bytes: shifts the id into different hash blocks and state


@dataclass(frozen=True)
class RepeatFlag:
    """One distinct repeat window of the protocol, computed once however many outcomes use it."""

    name: str  # SQL column holding the per-episode flag
    window: RepeatWindow


def filter_key(where: Filter) -> str:
    """A canonical text form of a filter, so equal filters are computed once."""
    plain = {k: v.model_dump() if isinstance(v, Comparison) else v for k, v in where.items()}
    return json.dumps(plain, sort_keys=True, default=str)


def repeat_flags(protocol: Protocol) -> dict[tuple[int, str], RepeatFlag]:
    """The distinct repeat windows, keyed by (within_days, among), named in protocol order."""
    flags: dict[tuple[int, str], RepeatFlag] = {}
    for outcome in protocol.outcomes:
        if outcome.measure is None or outcome.measure.repeat is None:
            continue
        window = outcome.measure.repeat
        key = (window.within_days, filter_key(window.among))
        if key not in flags:
            flags[key] = RepeatFlag(f"repeat__{len(flags)}", window)
    return flags


class _Predicates:
    """Distinct filters of the protocol, each evaluated once per row into one bit of the cell
    key (:mod:`evaltk.measures.cell_key`); :meth:`test` gives the SQL that reads a filter's bit
    back."""

    def __init__(self, columns: dict[str, str], key: CellKey) -> None:
        self._columns = columns
        self._key = key
        self._slots: dict[str, Slot] = {}  # filter SQL -> its bit

    def test(self, where: Filter) -> str:
        """SQL, valid where the cell words are columns, that is TRUE where the row meets
        ``where``."""
        text = filter_sql(where, self._columns)
        if text == "TRUE":
            return "TRUE"
        if text not in self._slots:
            self._slots[text] = self._key.add(text, 1)  # filter_sql is never NULL
        return self._key.test(self._slots[text])


@dataclass(frozen=True)
class _Groups:
    """Where the grouping values lie in the cell key: exclusion reason, unit and month (each
    0 for NULL), and the unreadable-value flags by column name; and the number of units."""

    units: int
    excluded: Slot
    unit: Slot
    month: Slot
    invalid: dict[str, Slot]

    @classmethod
    def place(cls, key: CellKey, excluded: str, units: int, invalid: list[str]) -> _Groups:
        """Make room for them in ``key`` (before any filter, so they share the first word):
        ``excluded`` is the SQL of the exclusion code, ``units`` the number of units."""
        # Months are counted from year 0 and shifted up by MONTH_OFFSET: positive for every
        # date a TIMESTAMP can hold (about 294,000 years either side), inside MONTH_BITS bits.
        month = f"coalesce(year(period) * 12 + month(period) - 1 + {MONTH_OFFSET}, 0)"  # 0: NULL
        return cls(
            units=units,
            excluded=key.add(f"coalesce({excluded}, 0)", len(EXCLUSION_RULES).bit_length()),
            unit=key.add("coalesce(unit_code + 1, 0)", units.bit_length()),
            month=key.add(month, MONTH_BITS),
            invalid={col: key.add(f"coalesce({col}, FALSE)", 1) for col in invalid},
        )

    def columns(self) -> list[str]:
        """Select items, over the cells, reading the grouping values back as ``marked`` had
        them (NULL where packed as 0)."""
        unit = CellKey.read(self.unit)
        # The type enum_code gives the position among that many units, as before packing.
        n = self.units
        unit_type = "UTINYINT" if n < 2**8 else "USMALLINT" if n < 2**16 else "UINTEGER"
        month = CellKey.read(self.month)
        first = 1970 * 12 + MONTH_OFFSET  # the packed value of January 1970
        return [
            f"CAST(nullif({CellKey.read(self.excluded)}, 0) AS UTINYINT) AS excluded",
            f"CAST(nullif({unit}, 0) - 1 AS {unit_type}) AS unit_code",
            f"CASE WHEN {month} > 0 THEN "
            f"CAST(DATE '1970-01-01' + INTERVAL ({month} - {first}) MONTH AS DATE) END AS period",
            *(f"{CellKey.test(slot)} AS {col}" for col, slot in self.invalid.items()),
        ]


def person_hash(person: str) -> str:
    """SQL: the 64-bit key persons are partitioned by (NULL for a missing person)."""
    return f"CASE WHEN {person} IS NOT NULL THEN hash({person}) END"


def person_time(person: str, micros: str) -> str:
    """SQL: the order key within a partition, a second hash of the person above the time.

    ``(hash2 >> 1) * 2^64 + microseconds``: episodes of one person are ordered by time, and
    two persons who share a partition key lie at least 2^63 microseconds apart, far beyond
    any repeat window, so one can never be counted as the other's repeat.

    The second hash is of the id behind a fixed prefix. It must not be ``hash(id, salt)``:
    DuckDB combines the hashes of its arguments, so that is a function of ``hash(id)`` and
    collides exactly when the first hash does (a test constructs such a collision).
    """
    second = f"hash({literal(PERSON_SALT)} || CAST({person} AS VARCHAR)) >> 1"
    return f"CASE WHEN {person} IS NOT NULL THEN (CAST({second} AS HUGEINT) << 64) + {micros} END"


def person_keys(fields: dict[str, FieldColumn], dialect: str) -> tuple[str, str]:
    """SQL of a row's person key (what windows over a person's episodes partition by) and its
    order key within the partition (episodes of one person in time order), over the canonical
    ``person_id`` and ``timestamp`` columns; both NULL without a person.

    The id itself and the time in microseconds where the ids are integers, and on Spark
    (which has no 128-bit integers); else :func:`person_hash` and :func:`person_time`. Either
    way ``next - order key <= microseconds`` holds only for a later episode of the same
    person within that many microseconds.
    """
    person, micros = quote_ident("person_id"), f"epoch_us({quote_ident('timestamp')})"
    if dialect == "spark" or is_integer_type(fields["person_id"].type):
        return person, micros
    return person_hash(person), person_time(person, micros)


def later_frame(dialect: str) -> str:
    """SQL: the window frame of a person's episodes strictly later than the current one.

    On DuckDB, the rows after the current row's peers (the same person key and time): the
    window reads that frame off the sort's peer boundaries, where ``RANGE BETWEEN 1
    FOLLOWING`` first searches each row's value bound, which made the window about a quarter
    dearer (10 million episodes, one thread). Both frames hold the same rows, as the order
    key is an integer. Spark has no ``EXCLUDE`` clause and keeps the ``RANGE`` frame.
    """
    if dialect == "spark":
        return "RANGE BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING"
    return "ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE GROUP"


def _count(match: str) -> str:
    """SQL, over ``cells``: the rows meeting ``match`` (0 where none; BIGINT as count(*) is)."""
    return f"CAST(coalesce(sum(n__rows) FILTER (WHERE {match}), 0) AS BIGINT)"


def _outcome_aggregates(
    outcome_id: str,
    measure: Measure,
    predicates: _Predicates,
    flags: dict[tuple[int, str], RepeatFlag],
) -> list[str]:
    if measure.kind.over_people:  # per person, not per episode: measures/intensity.py
        return []
    match = predicates.test(measure.where)
    if measure.repeat is not None:
        flag = flags[(measure.repeat.within_days, filter_key(measure.repeat.among))]
        match = f"{match} AND {flag.name}"
    num, den = quote_ident(f"num__{outcome_id}"), quote_ident(f"den__{outcome_id}")
    if measure.kind.counts_events:
        parts = [f"{_count(match)} AS {num}"]
        if measure.aggregate == "share":
            denominator = predicates.test(measure.denominator or {})
            parts.append(f"{_count(denominator)} AS {den}")
        return parts
    assert measure.field is not None
    total, present = quote_ident(f"sum__{measure.field}"), quote_ident(f"count__{measure.field}")
    parts = [f"coalesce(sum({total}) FILTER (WHERE {match}), 0) AS {num}"]
    if measure.aggregate == "mean":
        parts.append(f"CAST(coalesce(sum({present}) FILTER (WHERE {match}), 0) AS BIGINT) AS {den}")
    if measure.kind.per_person:
        # Distinct ids themselves (not hashes): two people can never count as one.
        parts.append(f"count(DISTINCT person) FILTER (WHERE {match}) AS {den}")
    return parts


def episode_query(
    protocol: Protocol,
    file: EpisodeFile,
    fields: dict[str, FieldColumn],
    *,
    duplicates: bool = False,
    dialect: str = "duckdb",
) -> str:
    """The SQL statement; see the module docstring for its steps.

    ``duplicates`` says that the temporary table
    :data:`~evaltk.measures.accounting.DUPLICATE_IDS_TABLE` holds duplicated episode ids.
    ``dialect`` is the engine it will run on (the statement is DuckDB SQL either way;
    :func:`evaltk.ingest.dialect.spark_sql` compiles it for ``spark``). It changes one
    physical choice, never a result: on Spark persons are partitioned by their id itself,
    as DuckDB does for integer ids, because the two-hash key needs DuckDB's 128-bit integers.

    Result columns, one row per group:

    * ``excluded`` — exclusion reason code (see
      :func:`~evaltk.measures.accounting.exclusion_sql`), NULL for used rows;
    * ``unit_code`` — position of the force in ``protocol.units``, NULL for other forces;
    * ``period`` — first day of the month (DATE), NULL without a timestamp;
    * ``n_rows``; ``invalid__<field>`` for each field that can hold unreadable values;
    * ``num__<outcome>`` and, for shares and means, ``den__<outcome>``.
    """
    canon = [f"{fc.value} AS {quote_ident(name)}" for name, fc in fields.items()]
    invalid = [quote_ident("invalid__" + n) for n, fc in fields.items() if fc.invalid is not None]
    canon += [
        f"{fc.invalid} AS {quote_ident('invalid__' + name)}"
        for name, fc in fields.items()
        if fc.invalid is not None
    ]
    # Computed from the canonical values, not the file's columns of the same names.
    canon.append(f"CAST(date_trunc('month', {fields['timestamp'].value}) AS DATE) AS period")
    # The unit as a small integer (its position in protocol.units; NULL for other forces) is
    # cheaper to carry through the window and to group by than the text code.
    units = ", ".join(literal(u) for u in protocol.units)
    force = fields["force"].value
    canon.append(f"enum_code(try_cast({force} AS ENUM({units}))) AS unit_code")

    ctx = ExclusionContext(
        first_month=month_floor(protocol.window.start),
        last_month=month_floor(protocol.window.end),
        fields=frozenset(fields),
        duplicates=duplicates,
    )
    cell_key = CellKey()
    groups = _Groups.place(cell_key, exclusion_sql(ctx), len(protocol.units), invalid)
    predicates = _Predicates(filter_columns(fields), cell_key)
    flags = repeat_flags(protocol)
    aggregates = ["CAST(sum(n__rows) AS BIGINT) AS n_rows"]
    aggregates += [f"{_count(col)} AS {col}" for col in invalid]
    number_fields: list[str] = []
    for outcome in protocol.outcomes:
        assert outcome.measure is not None  # validated for episode sources
        if outcome.measure.field is not None and outcome.measure.field not in number_fields:
            number_fields.append(outcome.measure.field)
        aggregates += _outcome_aggregates(outcome.id, outcome.measure, predicates, flags)
    among = {key: predicates.test(flag.window.among) for key, flag in flags.items()}

    # The grouping values and filter bits packed into the cell words (_Groups, _Predicates).
    marked = [
        *cell_key.columns(),
        *(
            f"CAST({quote_ident(f)} AS DOUBLE) AS {quote_ident('value__' + f)}"
            for f in number_fields
        ),
    ]
    per_person = any(o.measure is not None and o.measure.kind.per_person for o in protocol.outcomes)
    if per_person:
        marked.append(f"{quote_ident('person_id')} AS person")
    flagged = "SELECT * FROM marked"
    if flags:
        partition, order = person_keys(fields, dialect)
        marked += [f"{partition} AS person_key", f"{order} AS person_time"]
        # The earliest later episode of the same person matching `among`: one window
        # aggregate per distinct `among`, shared by every repeat window that uses it. The
        # frame holds only strictly later episodes, so those at the same instant never count.
        frame = later_frame(dialect)
        nexts: dict[str, str] = {}
        for key in flags:
            test = among[key]
            if test not in nexts:
                # Every later episode counts without `among`: the frame's first row is the
                # earliest (rows are in time order), which is cheaper to find than a minimum.
                value = (
                    "first_value(person_time)"
                    if test == "TRUE"
                    else f"min(CASE WHEN {test} THEN person_time END)"
                )
                nexts[test] = f"{value} OVER (PARTITION BY person_key ORDER BY person_time {frame})"
        names = {test: f"next__{i}" for i, test in enumerate(nexts)}
        columns = [f"{sql} AS {names[test]}" for test, sql in nexts.items()]
        marked_next = f"SELECT *, {', '.join(columns)} FROM marked"
        flagged_items = []
        for key, flag in flags.items():
            limit = int(flag.window.within_days) * MICROSECONDS_PER_DAY
            nxt = names[among[key]]
            # A row without a person or a time can neither repeat nor be anyone's repeat
            # (NULL arithmetic makes the comparison NULL, hence FALSE).
            flagged_items.append(
                f"coalesce(person_key IS NOT NULL AND {nxt} - person_time <= {limit}, FALSE) "
                f"AS {flag.name}"
            )
        flagged = f"SELECT *, {', '.join(flagged_items)} FROM ({marked_next})"

    # Every row lands in a cell of identical rows as far as the aggregates can tell (same
    # group, filter bits and repeat flags; the same person where a measure counts people):
    # the outcomes' FILTERed aggregates then run over the few cells, not over every row.
    keys = cell_key.names()
    keys += [flag.name for flag in flags.values()]
    if per_person:
        keys.append("person")
    cell_items = [*keys, "count(*) AS n__rows"]
    for f in number_fields:
        value = quote_ident("value__" + f)
        cell_items += [
            f"sum({value}) AS {quote_ident('sum__' + f)}",
            f"count({value}) AS {quote_ident('count__' + f)}",
        ]
    return (
        f"WITH canon AS (SELECT {', '.join(canon)} FROM {file.scan_sql()}),\n"
        f"marked AS (SELECT {', '.join(marked)} FROM canon),\n"
        f"flagged AS ({flagged}),\n"
        f"cells AS (SELECT {', '.join(cell_items)} FROM flagged GROUP BY {', '.join(keys)}),\n"
        f"grouped AS (SELECT {', '.join(groups.columns())}, * FROM cells)\n"
        "SELECT excluded, unit_code, period,\n  "
        + ",\n  ".join(aggregates)
        + "\nFROM grouped GROUP BY ALL"
    )
