"""Link police, ambulance and A&E extracts about the same person, by pseudonym and time.

Each extract is a table with a record id, a person identifier and a time. Identifiers are
pseudonymised with the shared key first (:func:`pseudonymise`), so the link never handles a
raw identity after that step. A police incident is linked to the agency record of the same
pseudonym whose time falls in the window after it (e.g. an ambulance dispatch 0-6 hours after
the incident was logged; an A&E arrival 0-12 hours after); where several do, the nearest in time
is taken, and each agency record is used at most once (first come, first served in incident
time order). An agency may instead follow another agency's records (``after``: the chain
ambulance -> A&E, :mod:`evaltk.linkage.chain`). The linkage rate of each agency is reported
both ways: incidents linked, and agency records linked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from evaltk.errors import DataError
from evaltk.ingest.engine import DuckDBBackend
from evaltk.ingest.pseudonyms import LinkKey
from evaltk.linkage.chain import link_tables
from evaltk.linkage.match import US_PER_HOUR


@dataclass(frozen=True)
class Extract:
    """One agency's extract: which columns hold the record id, the person and the time."""

    frame: pd.DataFrame
    record: str
    person: str
    time: str
    name: str = "extract"


def pseudonymise(extract: Extract, key: LinkKey) -> pd.DataFrame:
    """``record``, ``pseudonym`` and ``time`` of an extract; the raw identifier is dropped."""
    frame = extract.frame
    for column in (extract.record, extract.person, extract.time):
        if column not in frame:
            raise DataError(f"{extract.name}: no column '{column}'")
    times = pd.to_datetime(frame[extract.time], errors="coerce", dayfirst=True)
    return pd.DataFrame(
        {
            "record": frame[extract.record].to_numpy(),
            "pseudonym": key.pseudonyms(frame[extract.person].tolist()),
            "time": times.to_numpy(),
        }
    )


@dataclass(frozen=True)
class PairCount:
    """How many records of one agency pair (police and one agency) could be and were linked.

    Records without an identifier or a readable time cannot be linked; they stay in the
    denominators, so a rate says what share of each extract found its partner.
    """

    agency: str
    incidents: int  # police rows
    records: int  # agency rows
    incidents_unlinkable: int  # police rows without an identifier or a time
    records_unlinkable: int
    incidents_linked: int
    records_linked: int

    @property
    def incidents_share(self) -> float:
        return self.incidents_linked / self.incidents if self.incidents else 0.0

    @property
    def records_share(self) -> float:
        return self.records_linked / self.records if self.records else 0.0


@dataclass(frozen=True)
class LinkResult:
    links: pd.DataFrame  # police record, agency, agency record, hours after
    rates: dict[str, dict[str, float]]  # agency -> {'incidents_linked', 'records_linked'}
    counts: dict[str, PairCount] = field(default_factory=dict)


def link(
    police: Extract,
    agencies: Mapping[str, Extract],
    key: LinkKey,
    windows_hours: Mapping[str, tuple[float, float]],
    after: Mapping[str, str | None] | None = None,
) -> LinkResult:
    """Link every agency's records to police incidents (see the module docstring)."""
    return link_pseudonymised(
        pseudonymise(police, key),
        {agency: pseudonymise(extract, key) for agency, extract in agencies.items()},
        windows_hours,
        after,
    )


def link_pseudonymised(
    incidents: pd.DataFrame,
    agencies: Mapping[str, pd.DataFrame],
    windows_hours: Mapping[str, tuple[float, float]],
    after: Mapping[str, str | None] | None = None,
) -> LinkResult:
    """Link tables already holding ``record``, ``pseudonym`` and ``time`` (no raw identity).

    ``record`` must be unique within each table (the pipeline uses row numbers). Ties are
    broken by incident time, then hours after, then record, so the links never depend on the
    order of the rows. The matching runs as set operations in DuckDB
    (:func:`evaltk.linkage.chain.link_tables`, the SQL Spark runs too), times to the
    microsecond. ``after`` maps an agency to the agency whose records it follows (the chain
    ambulance -> A&E), ``None`` or absent for the incidents themselves.
    """
    usable = incidents.dropna(subset=["pseudonym", "time"])
    rows = []
    rates: dict[str, dict[str, float]] = {}
    counts: dict[str, PairCount] = {}
    con = duckdb.connect()
    try:
        backend = DuckDBBackend(con)
        con.register("__evaltk_incidents", _in_microseconds(usable))
        views = {}
        usable_records = {}
        for number, (agency, table) in enumerate(agencies.items()):
            views[agency] = f"__evaltk_agency_{number}"
            records = table.dropna(subset=["pseudonym", "time"])
            con.register(views[agency], _in_microseconds(records))
            usable_records[agency] = len(records)
        tables = link_tables(backend, "__evaltk_incidents", views, windows_hours, after)
        for agency, table in agencies.items():
            found = backend.query(f"SELECT r, ar, d FROM {tables[agency]} ORDER BY r")
            rows.append(
                pd.DataFrame(
                    {
                        "police_record": found["r"].to_numpy(),
                        "agency": agency,
                        "agency_record": found["ar"].to_numpy(),
                        "hours_after": found["d"].to_numpy(dtype=float) / US_PER_HOUR,
                    }
                )
            )
            count = PairCount(
                agency=agency,
                incidents=len(incidents),
                records=len(table),
                incidents_unlinkable=len(incidents) - len(usable),
                records_unlinkable=len(table) - usable_records[agency],
                incidents_linked=len(found),
                records_linked=len(found),
            )
            counts[agency] = count
            rates[agency] = {
                "incidents_linked": count.incidents_share,
                "records_linked": count.records_share,
            }
    finally:
        con.close()
    columns = ["police_record", "agency", "agency_record", "hours_after"]
    links = pd.concat(rows, ignore_index=True)[columns] if rows else pd.DataFrame(columns=columns)
    return LinkResult(links, rates, counts)


def _in_microseconds(table: pd.DataFrame) -> pd.DataFrame:
    """``record, pseudonym, time`` with the time as a microsecond timestamp (the engines')."""
    return pd.DataFrame(
        {
            "record": table["record"].to_numpy(),
            "pseudonym": table["pseudonym"].astype(str).to_numpy(),
            "time": pd.to_datetime(table["time"])
            .dt.floor("us")
            .astype("datetime64[us]")
            .to_numpy(),
        }
    )


def precision_recall(
    links: pd.DataFrame, truth: set[tuple[object, str, object]]
) -> tuple[float, float]:
    """Precision and recall of ``links`` against the true (police, agency, record) triples."""
    found = set(zip(links["police_record"], links["agency"], links["agency_record"], strict=True))
    right = len(found & truth)
    precision = right / len(found) if found else 1.0
    recall = right / len(truth) if truth else 1.0
    return precision, recall
