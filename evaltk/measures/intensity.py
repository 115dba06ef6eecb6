"""High-intensity users: who carries the demand, per unit and month, by DuckDB SQL.

For a measure with ``high_intensity`` (``min_contacts`` k, ``months`` M; see
:class:`~evaltk.protocol.spec.HighIntensity`), a person's *contacts* in a unit are the unit's
episodes of that person that match the measure's ``where`` and pass every data-quality check,
at any date (so that the months before the window count towards its first months). A person
is a high-intensity user of unit u in month m when they have at least k contacts in u in the
M calendar months ending with m (m included). Then, per unit and month of the window:

* ``high_intensity_people``: the number of such people (whether or not they had a contact in
  m itself; one person is counted in every month they stay above k);
* ``high_intensity_share``: their contacts in m over all the unit's episodes in m that match
  ``where`` (episodes without a person count in the denominator and are nobody's);
* ``high_intensity_field_share``: the same with ``field`` summed instead of counted (missing
  values add nothing to either side).

One statement per outcome, apart from the main query (:mod:`evaltk.measures.query`) because it
groups by person and month rather than flags episodes: the episodes are grouped to person x
unit x month contact counts, each count is spread over the M months whose window holds it
(a join with the M month lags), and a person-month is high-intensity where the spread counts add
up to k or more. Persons are grouped by their id itself, so no two persons can ever mix.
:func:`evaltk.measures.reference.high_intensity_reference` is the pandas oracle it is tested
against.
"""

from __future__ import annotations

import datetime as dt

from evaltk.ingest.field_sql import FieldColumn
from evaltk.ingest.source import EpisodeFile
from evaltk.ingest.sql import literal, quote_ident
from evaltk.measures.accounting import ExclusionContext, exclusion_sql
from evaltk.measures.filters import filter_columns, filter_sql
from evaltk.measures.grid import month_floor
from evaltk.protocol.spec import Measure, Protocol

#: Months far enough apart that the window rule excludes no row: contacts are taken at any
#: date, the window is applied to the months reported.
_ALL_TIME = (dt.date(1, 1, 1), dt.date(9999, 12, 1))


def contacts_cte(
    protocol: Protocol,
    measure: Measure,
    file: EpisodeFile,
    fields: dict[str, FieldColumn],
    *,
    duplicates: bool = False,
) -> str:
    """``WITH canon AS (...), contacts AS (...)``: person x unit x month contact counts ``n``
    and the measure's field summed ``v`` (NULL without a field), over every date; a NULL
    person holds the episodes that are nobody's."""
    ts = fields["timestamp"].value
    canon = [f"{fc.value} AS {quote_ident(name)}" for name, fc in fields.items()]
    canon.append(f"CAST(date_trunc('month', {ts}) AS DATE) AS period")
    units = ", ".join(literal(u) for u in protocol.units)
    canon.append(f"enum_code(try_cast({fields['force'].value} AS ENUM({units}))) AS unit_code")
    ctx = ExclusionContext(
        first_month=_ALL_TIME[0],
        last_month=_ALL_TIME[1],
        fields=frozenset(fields),
        duplicates=duplicates,
    )
    where = filter_sql(measure.where, filter_columns(fields))
    value = (
        f"sum(CAST({quote_ident(measure.field)} AS DOUBLE))"
        if measure.field is not None
        else "CAST(NULL AS DOUBLE)"
    )
    return (
        f"WITH canon AS (SELECT {', '.join(canon)} FROM {file.scan_sql()}),\n"
        f"contacts AS (SELECT unit_code, {quote_ident('person_id')} AS person, period, "
        f"count(*) AS n, {value} AS v FROM canon "
        f"WHERE {exclusion_sql(ctx)} IS NULL AND ({where}) GROUP BY ALL)"
    )


def high_intensity_query(
    protocol: Protocol,
    measure: Measure,
    file: EpisodeFile,
    fields: dict[str, FieldColumn],
    *,
    duplicates: bool = False,
) -> str:
    """SQL giving ``unit_code, period, numerator, denominator`` for one high-intensity measure,
    one row per unit and month of the window that has any contact or high-intensity person
    (months with neither are zero; ``denominator`` is NULL for ``high_intensity_people``)."""
    assert measure.high_intensity is not None and measure.kind.over_people
    k, months = measure.high_intensity.min_contacts, measure.high_intensity.months
    first = literal(month_floor(protocol.window.start).isoformat())
    last = literal(month_floor(protocol.window.end).isoformat())
    in_window = f"period BETWEEN DATE {first} AND DATE {last}"
    lags = ", ".join(f"({lag})" for lag in range(int(months)))
    head = (
        contacts_cte(protocol, measure, file, fields, duplicates=duplicates) + ",\n"
        # Each month's count spread over the M months whose window holds it.
        # (A VALUES list and a month interval rather than DuckDB's range() and to_months(),
        # so that the statement also compiles for Spark: evaltk.ingest.dialect.)
        f"spread AS (SELECT unit_code, person, CAST(period + INTERVAL (r.lag) MONTH "
        f"AS DATE) AS period, n FROM contacts CROSS JOIN (VALUES {lags}) AS r(lag) "
        "WHERE person IS NOT NULL),\n"
        "high AS (SELECT unit_code, person, period FROM spread GROUP BY ALL "
        f"HAVING sum(n) >= {int(k)})\n"
    )
    if measure.aggregate == "high_intensity_people":
        return (
            head + "SELECT unit_code, period, count(*) AS numerator, "
            f"CAST(NULL AS DOUBLE) AS denominator FROM high WHERE {in_window} GROUP BY ALL"
        )
    part = "n" if measure.aggregate == "high_intensity_share" else "v"
    return (
        head + f"SELECT c.unit_code, c.period, "
        f"coalesce(sum(c.{part}) FILTER (WHERE h.person IS NOT NULL), 0) AS numerator, "
        f"coalesce(sum(c.{part}), 0) AS denominator "
        "FROM contacts c LEFT JOIN high h "
        "ON c.unit_code = h.unit_code AND c.person = h.person AND c.period = h.period "
        f"WHERE c.{in_window} GROUP BY ALL"
    )
