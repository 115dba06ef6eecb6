"""Where the demand goes and who carries it: journeys and contacts, by SQL on DuckDB or Spark.

Two tables for the treated units of a protocol with person-level episodes, before and after
each unit's start; both are counts for the book to protect (:mod:`evaltk.publish.demand`),
never person ids.

**Pathways** (:func:`pathway_sql`). Every used episode of a treated unit in the window (rows
that pass every data check; rows without a person are left out: they have no journey) is one
step of its person's journey, read in three stages:

1. *contact*: ``Triage contact`` when ``triage_attended``, else ``Police only``;
2. *outcome*, the first that applies: ``Section 136``, ``Admission`` (``admitted_72h``, or a
   linked admission record), ``A&E`` (``ae_conveyance``, or a linked A&E attendance),
   ``Referral`` (``referral`` other than ``none``), ``No further action``; the linked records
   are ``linked_admission`` and ``linked_ae`` of a run with ``data.linkage``
   (:mod:`evaltk.linkage.pipeline`), which the journeys then follow on the linked file;
3. *next*, what follows for the same person within ``within_days`` days (strictly later,
   looking at every row of the file, any force and date, like a repeat window): a
   ``Missing-person report`` (a later episode with ``missing_person``), else an
   ``Admission`` (a later episode with ``admitted_72h``), else a ``Repeat contact`` (any later
   episode), else ``No contact within N days``.

A field the file does not have counts as false. Grouped by phase (``before``: window start to
the month before the unit's start; ``after``: the start month to the window end), contact,
outcome and next: ``incidents``, distinct ``people`` (per unit, summed over units) and
``officer_minutes`` (summed; NULL without the field).

**Contacts per person** (:func:`contact_sql`). Over the 12 months before each treated unit's
start and the last 12 months of the window: for every person, their contacts (episodes passing
the data checks, at any date in the span) and officer minutes; grouped by phase and number of
contacts to ``people, incidents, minutes`` (and one row with ``contacts`` NULL for the
episodes of nobody). From it follow the concentration of demand (a Lorenz-type curve,
:func:`evaltk.measures.concentration.lorenz_points`) and the high-intensity users of each
year (people with at least k contacts in it; k from the protocol's high-intensity measure, else
6, the default of :class:`~evaltk.protocol.spec.HighIntensity`).

The SQL follows the main query's style (:mod:`evaltk.measures.query`): canonical columns in a
``canon`` CTE, exclusions by :func:`~evaltk.measures.accounting.exclusion_sql`, and the main
query's per-person windows: partitioned and ordered by
:func:`~evaltk.measures.query.person_keys` (a 64-bit hash of a text id, and a second hash above
the time, so that no two persons can mix), over the strictly later rows of
:func:`~evaltk.measures.query.later_frame`. Partitioned by the text id itself, over a ``RANGE``
frame, with every column through the window and people counted by ``count(DISTINCT person)``,
the pathway statement took 6.8 s and 13.5 s of CPU time for 10 million episodes (2 threads),
against 3.4 s and 6.7 s for the measures statement in the same run; now 4.5 s and 8.7 s,
against 2.5 s and 4.7 s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evaltk.ingest.engine import EngineSettings
from evaltk.ingest.field_sql import FieldColumn, field_columns
from evaltk.ingest.source import (
    EpisodeFile,
)
from evaltk.ingest.sql import literal, quote_ident
from evaltk.measures.accounting import ExclusionContext, exclusion_sql
from evaltk.measures.concentration import lorenz_points
from evaltk.measures.episodes import duplicate_ids, open_episodes
from evaltk.measures.grid import month_floor
from evaltk.measures.query import MICROSECONDS_PER_DAY, later_frame, person_keys
from evaltk.protocol.needed_fields import CHECKED_IF_PRESENT, JOURNEY_FIELDS
from evaltk.protocol.spec import EpisodeSource, HighIntensity, Protocol

#: Days after an incident within which the next stage of the journey is looked for (the
#: project's repeat-contact window).
JOURNEY_DAYS = 28
#: Linkage flags that count as a step of the journey when the (linked) file has them.
LINKED_STEPS = ("linked_ae", "linked_admission")
#: Months of each phase of the contacts-per-person table (the high-intensity year).
SPAN_MONTHS = 12

CONTACTS = ("Triage contact", "Police only")
OUTCOMES = ("Section 136", "Admission", "A&E", "Referral", "No further action")
NEXT_STEPS = ("Missing-person report", "Admission", "Repeat contact", "No contact")


@dataclass(frozen=True)
class Phase:
    """One treated unit's months of one phase (both ends the first day of a month)."""

    unit_code: int
    phase: str  # "before" or "after"
    first: dt.date
    last: dt.date

    @property
    def months(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def pathway_phases(protocol: Protocol) -> list[Phase]:
    """Each treated unit's months before its start and from its start, within the window."""
    first, last = month_floor(protocol.window.start), month_floor(protocol.window.end)
    phases = []
    for code, unit in enumerate(protocol.units):
        if unit not in protocol.intervention.start:
            continue
        start = month_floor(protocol.intervention.start[unit])
        if start > first:
            phases.append(Phase(code, "before", first, _add_months(start, -1)))
        if start <= last:
            phases.append(Phase(code, "after", max(start, first), last))
    return phases


def span_phases(protocol: Protocol, months: int = SPAN_MONTHS) -> list[Phase]:
    """Each treated unit's ``months`` months before its start and last ``months`` months of the
    window (from the start, when fewer have passed)."""
    last = month_floor(protocol.window.end)
    phases = []
    for code, unit in enumerate(protocol.units):
        if unit not in protocol.intervention.start:
            continue
        start = month_floor(protocol.intervention.start[unit])
        phases.append(Phase(code, "before", _add_months(start, -months), _add_months(start, -1)))
        if start <= last:
            phases.append(Phase(code, "after", max(start, _add_months(last, 1 - months)), last))
    return phases


def _phases_sql(phases: list[Phase]) -> str:
    rows = ", ".join(
        f"({p.unit_code}, {literal(p.phase)}, DATE {literal(p.first.isoformat())}, "
        f"DATE {literal(p.last.isoformat())})"
        for p in phases
    )
    return f"(VALUES {rows}) AS ph(unit_code, phase, first_month, last_month)"


def _flag(fields: dict[str, FieldColumn], name: str) -> str:
    """A bool field as SQL that is never NULL (absent or missing: false)."""
    return f"coalesce({quote_ident(name)}, FALSE)" if name in fields else "FALSE"


def _either(fields: dict[str, FieldColumn], *names: str) -> str:
    """True where any of the bool fields is (those the file has; none: false)."""
    present = [_flag(fields, n) for n in names if n in fields]
    return " OR ".join(present) if present else "FALSE"


def _canon(protocol: Protocol, file: EpisodeFile, fields: dict[str, FieldColumn]) -> str:
    canon = [f"{fc.value} AS {quote_ident(name)}" for name, fc in fields.items()]
    canon.append(f"CAST(date_trunc('month', {fields['timestamp'].value}) AS DATE) AS period")
    units = ", ".join(literal(u) for u in protocol.units)
    canon.append(f"enum_code(try_cast({fields['force'].value} AS ENUM({units}))) AS unit_code")
    return f"canon AS (SELECT {', '.join(canon)} FROM {file.scan_sql()})"


def pathway_sql(
    protocol: Protocol,
    file: EpisodeFile,
    fields: dict[str, FieldColumn],
    *,
    within_days: int = JOURNEY_DAYS,
    duplicates: bool = False,
    dialect: str = "duckdb",
) -> str:
    """SQL giving ``phase, contact, outcome, next, incidents, people, officer_minutes``;
    ``dialect`` is the engine it will run on (as for
    :func:`~evaltk.measures.query.episode_query`)."""
    phases = pathway_phases(protocol)
    ctx = ExclusionContext(
        first_month=month_floor(protocol.window.start),
        last_month=month_floor(protocol.window.end),
        fields=frozenset(fields),
        duplicates=duplicates,
    )
    person, ts = quote_ident("person_id"), quote_ident("timestamp")
    referral = (
        f"coalesce({quote_ident('referral')} <> 'none', FALSE)" if "referral" in fields else "FALSE"
    )
    minutes = (
        f"CAST({quote_ident('officer_minutes')} AS DOUBLE)"
        if "officer_minutes" in fields
        else "CAST(NULL AS DOUBLE)"
    )
    key, order = person_keys(fields, dialect)
    window = f"OVER (PARTITION BY person_key ORDER BY t {later_frame(dialect)})"
    missing, admitted = _flag(fields, "missing_person"), _flag(fields, "admitted_72h")
    limit = int(within_days) * MICROSECONDS_PER_DAY
    # A linked agency record (data.linkage) counts as the step it records.
    admitted_here = _either(fields, "admitted_72h", "linked_admission")
    contact = _code([_flag(fields, "triage_attended")])
    outcome = _code(
        [
            _flag(fields, "s136"),
            admitted_here,
            _either(fields, "ae_conveyance", "linked_ae"),
            referral,
        ]
    )
    following = [f"{column} - t <= {limit}" for column in ("next_missing", "next_admission")]
    next_step = _code([*following, f"next_any - t <= {limit}"])
    return (
        f"WITH {_canon(protocol, file, fields)},\n"
        # Every row with a person and a time is a possible next step, whatever its checks.
        # Only what the steps are grouped by travels through the window, as small codes:
        # its sort moves every column it carries.
        f"timed AS (SELECT {key} AS person_key, {order} AS t, {missing} AS is_missing, "
        f"{admitted} AS is_admitted, unit_code, period, {exclusion_sql(ctx)} AS excluded, "
        f"{contact} AS contact, {outcome} AS outcome, {person} AS person, {minutes} AS minutes "
        f"FROM canon WHERE {person} IS NOT NULL AND {ts} IS NOT NULL),\n"
        # The later rows are in time order: the first of them is the next of any kind.
        "nexts AS (SELECT *, "
        f"min(CASE WHEN is_missing THEN t END) {window} AS next_missing, "
        f"min(CASE WHEN is_admitted THEN t END) {window} AS next_admission, "
        f"first_value(t) {window} AS next_any FROM timed),\n"
        f"steps AS (SELECT n.unit_code, ph.phase, contact, outcome, {next_step} AS next, "
        f"person, minutes FROM nexts n JOIN {_phases_sql(phases)} "
        "ON n.unit_code = ph.unit_code AND n.period BETWEEN ph.first_month AND ph.last_month "
        "WHERE n.excluded IS NULL),\n"
        # Each person's incidents in each group, then the people of each group per unit (a
        # person in two forces is two journeys), then summed over units. One grouping by
        # person: a count(DISTINCT person) beside the incidents made DuckDB keep every step
        # and group them twice (about a third of the statement's CPU time).
        "per_person AS (SELECT unit_code, phase, contact, outcome, next, count(*) AS incidents, "
        "sum(minutes) AS minutes FROM steps GROUP BY unit_code, phase, contact, outcome, next, "
        "person),\n"
        "per_unit AS (SELECT phase, contact, outcome, next, sum(incidents) AS incidents, "
        "count(*) AS people, sum(minutes) AS officer_minutes "
        "FROM per_person GROUP BY unit_code, phase, contact, outcome, next)\n"
        f"SELECT phase, {_label('contact', CONTACTS)} AS contact, "
        f"{_label('outcome', OUTCOMES)} AS outcome, {_label('next', NEXT_STEPS)} AS next, "
        "sum(incidents) AS incidents, sum(people) AS people, "
        "sum(officer_minutes) AS officer_minutes FROM per_unit GROUP BY ALL"
    )


def _code(conditions: list[str]) -> str:
    """SQL: the position of the first of ``conditions`` that holds (their number when none
    does), a code for a label of :data:`CONTACTS`, :data:`OUTCOMES` or :data:`NEXT_STEPS`."""
    cases = " ".join(f"WHEN {condition} THEN {i}" for i, condition in enumerate(conditions))
    return f"CAST(CASE {cases} ELSE {len(conditions)} END AS TINYINT)"


def _label(column: str, labels: tuple[str, ...]) -> str:
    """SQL: the label of the code in ``column`` (its position in ``labels``)."""
    cases = " ".join(f"WHEN {i} THEN {literal(label)}" for i, label in enumerate(labels))
    return f"CASE {column} {cases} END"


def contact_sql(
    protocol: Protocol,
    file: EpisodeFile,
    fields: dict[str, FieldColumn],
    *,
    months: int = SPAN_MONTHS,
    duplicates: bool = False,
) -> str:
    """SQL giving ``phase, contacts, people, incidents, minutes`` (see the module)."""
    phases = span_phases(protocol, months)
    ctx = ExclusionContext(
        first_month=dt.date(1, 1, 1),
        last_month=dt.date(9999, 12, 1),
        fields=frozenset(fields),
        duplicates=duplicates,
    )
    minutes = (
        f"CAST({quote_ident('officer_minutes')} AS DOUBLE)"
        if "officer_minutes" in fields
        else "CAST(NULL AS DOUBLE)"
    )
    return (
        f"WITH {_canon(protocol, file, fields)},\n"
        f"used AS (SELECT unit_code, period, {quote_ident('person_id')} AS person, "
        f"{minutes} AS minutes FROM canon WHERE {exclusion_sql(ctx)} IS NULL),\n"
        "per_person AS (SELECT u.unit_code, ph.phase, u.person, count(*) AS contacts, "
        "sum(u.minutes) AS minutes "
        f"FROM used u JOIN {_phases_sql(phases)} "
        "ON u.unit_code = ph.unit_code AND u.period BETWEEN ph.first_month AND ph.last_month "
        "GROUP BY ALL)\n"
        # The episodes of nobody (no person id) make one row with contacts NULL.
        "SELECT phase, CASE WHEN person IS NOT NULL THEN contacts END AS contacts, "
        "count(person) AS people, sum(contacts) AS incidents, sum(minutes) AS minutes "
        "FROM per_person GROUP BY ALL"
    )


@dataclass(frozen=True)
class DemandTables:
    """The two tables, as counts (never person ids), what follows from the second, and what
    they were computed with."""

    pathways: pd.DataFrame  # phase, contact, outcome, next, incidents, people, officer_minutes
    contacts: pd.DataFrame  # phase, contacts, people, incidents, minutes
    phase_months: dict[str, int]  # unit-months of each pathway phase, summed over units
    min_contacts: int  # k of the high-intensity users
    min_people: int  # smallest group of people a Lorenz point may describe
    within_days: int = JOURNEY_DAYS
    span_months: int = SPAN_MONTHS

    @property
    def lorenz(self) -> pd.DataFrame:
        """``phase`` and :func:`~evaltk.measures.concentration.lorenz_points` of each phase
        (people with a person id; groups of fewer than ``min_people`` merged)."""
        frames = []
        for phase in ("before", "after"):
            rows = self.contacts[
                (self.contacts["phase"] == phase) & self.contacts["contacts"].notna()
            ]
            if rows.empty:
                continue
            points = lorenz_points(rows[["contacts", "people"]], self.min_people)
            frames.append(points.assign(phase=phase))
        columns = ["phase", "people_share", "contact_share", "people", "contacts"]
        return (
            pd.concat(frames, ignore_index=True)[columns]
            if frames
            else pd.DataFrame(columns=columns)
        )

    @property
    def high_intensity(self) -> pd.DataFrame:
        """Per phase: ``people`` with at least ``min_contacts`` contacts in its months, their
        ``incidents`` and officer ``minutes``, and every incident's (``all_incidents``,
        ``all_minutes``; episodes of nobody included)."""
        rows = []
        for phase in ("before", "after"):
            part = self.contacts[self.contacts["phase"] == phase]
            if part.empty:
                continue
            high = part[part["contacts"].notna() & (part["contacts"] >= self.min_contacts)]
            rows.append(
                {
                    "phase": phase,
                    "people": int(high["people"].sum()),
                    "incidents": int(high["incidents"].sum()),
                    "all_incidents": int(part["incidents"].sum()),
                    "minutes": float(high["minutes"].sum()),
                    "all_minutes": float(part["minutes"].sum()),
                }
            )
        return pd.DataFrame(
            rows,
            columns=["phase", "people", "incidents", "all_incidents", "minutes", "all_minutes"],
        )


def high_intensity_k(protocol: Protocol) -> int:
    """k of the protocol's first high-intensity measure, else the registered default (6)."""
    for outcome in protocol.outcomes:
        if outcome.measure is not None and outcome.measure.high_intensity is not None:
            return outcome.measure.high_intensity.min_contacts
    return HighIntensity().min_contacts


def demand_tables(
    protocol: Protocol,
    folder: Path,
    *,
    linked_file: Path | None = None,
    settings: EngineSettings | None = None,
) -> DemandTables | None:
    """Both tables from the protocol's episode file (the linked file when given); None when
    the data are not episodes, no unit is treated, or the file has no person ids."""
    source = protocol.data
    if not isinstance(source, EpisodeSource) or not protocol.treated_units:
        return None
    present = (*CHECKED_IF_PRESENT, *JOURNEY_FIELDS, *LINKED_STEPS)
    backend, file, mapping = open_episodes(
        protocol, source, Path(folder), settings, linked_file, read_if_present=present
    )
    try:
        if "person_id" not in mapping:
            return None
        fields = field_columns(file, mapping, source)
        duplicates = duplicate_ids(backend, file, fields)
        pathways = backend.query(
            pathway_sql(protocol, file, fields, duplicates=duplicates, dialect=backend.dialect)
        )
        contacts = backend.query(contact_sql(protocol, file, fields, duplicates=duplicates))
    finally:
        backend.close()
    months: dict[str, int] = {}
    for phase in pathway_phases(protocol):
        months[phase.phase] = months.get(phase.phase, 0) + phase.months
    order = {name: i for i, name in enumerate(("before", "after"))}
    pathways = pathways.sort_values(
        ["phase", "contact", "outcome", "next"],
        key=lambda c: c.map(order) if c.name == "phase" else c,
    ).reset_index(drop=True)
    pathways = pathways.astype({"incidents": "int64", "people": "int64"})
    contacts = contacts.sort_values(
        ["phase", "contacts"], key=lambda c: c.map(order) if c.name == "phase" else c
    ).reset_index(drop=True)
    contacts = contacts.astype({"contacts": "Int64", "people": "int64", "incidents": "int64"})
    return DemandTables(
        pathways, contacts, months, high_intensity_k(protocol), protocol.disclosure.threshold
    )
