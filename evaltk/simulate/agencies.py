"""Agencies' extracts with known true links, made from simulated police episodes.

Real linkage is judged against a truth nobody has; here the truth is built in. From canonical
episodes (:func:`evaltk.simulate.iter_episode_chunks`), every incident with
``ambulance_conveyance`` gets an ambulance record, every ``ae_conveyance`` an A&E attendance,
and every ``admitted_72h`` an admission, each some hours after the incident and carrying the
person's "NHS number". Then the mess of real extracts is added: records of people never in
police data and of the same people days away from any incident, one agency typing NHS numbers
with spaces, and a share of agency records with no NHS number at all (these cannot be linked,
so they cost recall). The true links say which incident each genuine record belongs to, so a
linked analysis can be checked against them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Hours after the incident at which each agency's genuine record is timed (uniform).
DELAYS_HOURS = {"ambulance": (0.1, 2.0), "ae": (0.5, 8.0), "admission": (2.0, 60.0)}
#: With ``chained``: hours after the earlier agency's record (e.g. an A&E arrival after the
#: ambulance's dispatch) at which a chained record is timed.
CHAIN_DELAYS_HOURS = {"ae": (0.3, 3.0), "admission": (1.0, 24.0), "ambulance": (0.1, 2.0)}
_FLAGS = {"ambulance": "ambulance_conveyance", "ae": "ae_conveyance", "admission": "admitted_72h"}
_PREFIX = {"ambulance": "AMB", "ae": "ED", "admission": "ADM"}


@dataclass(frozen=True)
class AgencyExtracts:
    """The police extract and each agency's, with raw NHS numbers, and the true links."""

    police: pd.DataFrame  # canonical episode columns; person_id replaced by an NHS number
    agencies: dict[str, pd.DataFrame]  # agency -> columns record_id, nhs_number, time
    truth: pd.DataFrame  # episode_id, agency, record_id: every genuine record's incident


def nhs_numbers(person_ids: pd.Series) -> pd.Series:
    """A made-up 10-digit "NHS number" per distinct person (sorted, so it is reproducible)."""
    people = sorted(person_ids.dropna().astype(str).unique())
    numbers = {p: f"{9_400_000_000 + 7_919 * i}" for i, p in enumerate(people)}
    return person_ids.astype(str).map(numbers)


def agency_extracts(
    episodes: pd.DataFrame,
    seed: int = 0,
    *,
    unrelated_share: float = 0.3,
    missing_id_share: float = 0.02,
    spaced_ids: str = "ambulance",
    chained: dict[str, str] | None = None,
) -> AgencyExtracts:
    """Police, ambulance, A&E and admission extracts from canonical ``episodes``.

    Parameters
    ----------
    episodes
        Canonical episodes (at least ``episode_id``, ``person_id``, ``timestamp`` and the
        three flags ``ambulance_conveyance``, ``ae_conveyance``, ``admitted_72h``).
    seed
        Seed of the delays and of the noise.
    unrelated_share
        Extra records per agency, as a share of its genuine ones: half of people never in
        the police data, half of police-known people 5-40 days after one of their incidents.
    missing_id_share
        Share of each agency's records whose NHS number is blank (never linkable).
    spaced_ids
        The agency that writes NHS numbers as ``943 476 5919``.
    chained
        Agency -> the earlier agency it follows (``{"ae": "ambulance"}``: conveyed to A&E):
        where the incident has the earlier agency's genuine record, this agency's genuine
        record is timed :data:`CHAIN_DELAYS_HOURS` after that record rather than after the
        incident. The earlier agency must come first in ambulance, ae, admission order.
    """
    rng = np.random.default_rng(seed)
    police = episodes.copy()
    police["person_id"] = nhs_numbers(police["person_id"])
    times = pd.to_datetime(police["timestamp"])
    agencies: dict[str, pd.DataFrame] = {}
    truths = []
    genuine_times: dict[str, pd.Series] = {}
    for agency, flag in _FLAGS.items():
        chosen = np.flatnonzero(police[flag].fillna(False).to_numpy(bool))
        low, high = DELAYS_HOURS[agency]
        delay = pd.to_timedelta(rng.uniform(low, high, len(chosen)), unit="h")
        when = times.to_numpy()[chosen] + delay.to_numpy()
        earlier_agency = (chained or {}).get(agency)
        if earlier_agency is not None:
            # After the earlier agency's genuine record, where the incident has one.
            earlier = genuine_times[earlier_agency]
            at = earlier.reindex(police["episode_id"].to_numpy()[chosen]).to_numpy()
            low, high = CHAIN_DELAYS_HOURS[agency]
            step = pd.to_timedelta(rng.uniform(low, high, len(chosen)), unit="h").to_numpy()
            when = np.where(pd.notna(at), at + step, when)
        genuine = pd.DataFrame(
            {
                "nhs_number": police["person_id"].to_numpy()[chosen],
                "time": when,
                "episode_id": police["episode_id"].to_numpy()[chosen],
            }
        )
        genuine_times[agency] = genuine.set_index("episode_id")["time"]
        n_extra = round(unrelated_share * len(chosen))
        strangers = n_extra // 2
        known = n_extra - strangers
        start, end = times.min(), times.max()
        span_hours = max((end - start).total_seconds() / 3600, 1.0)
        stranger_rows = pd.DataFrame(
            {
                "nhs_number": [f"{8_100_000_000 + 13 * i}" for i in range(strangers)],
                "time": start + pd.to_timedelta(rng.uniform(0, span_hours, strangers), unit="h"),
                "episode_id": None,
            }
        )
        pick = rng.integers(0, len(police), known) if len(police) else np.array([], int)
        later = pd.to_timedelta(rng.uniform(5 * 24, 40 * 24, known), unit="h")
        known_rows = pd.DataFrame(
            {
                "nhs_number": police["person_id"].to_numpy()[pick],
                "time": times.to_numpy()[pick] + later.to_numpy(),
                "episode_id": None,
            }
        )
        table = pd.concat([genuine, stranger_rows, known_rows], ignore_index=True)
        table = table.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        table.insert(0, "record_id", [f"{_PREFIX[agency]}{i:07d}" for i in range(len(table))])
        blank = rng.random(len(table)) < missing_id_share
        table.loc[blank, "nhs_number"] = None
        if agency == spaced_ids:
            table["nhs_number"] = table["nhs_number"].str.replace(
                r"^(\d{3})(\d{3})(\d{4})$", r"\1 \2 \3", regex=True
            )
        real = table[table["episode_id"].notna()]
        truths.append(
            pd.DataFrame(
                {"episode_id": real["episode_id"], "agency": agency, "record_id": real["record_id"]}
            )
        )
        agencies[agency] = table[["record_id", "nhs_number", "time"]].copy()
    truth = pd.concat(truths, ignore_index=True)
    return AgencyExtracts(police=police, agencies=agencies, truth=truth)


def true_path_flags(extracts: AgencyExtracts) -> pd.DataFrame:
    """Per police episode, whether it truly has each agency's record (``linked_<agency>``).

    Only records that kept their NHS number count: a record without one belongs to the
    incident but no linkage could find it, so the truth a perfect linkage can reach is this.
    """
    police = extracts.police[["episode_id"]].copy()
    for agency, table in extracts.agencies.items():
        with_id = set(table.loc[table["nhs_number"].notna(), "record_id"])
        links = extracts.truth[
            (extracts.truth["agency"] == agency) & extracts.truth["record_id"].isin(with_id)
        ]
        police[f"linked_{agency}"] = police["episode_id"].isin(set(links["episode_id"]))
    return police
