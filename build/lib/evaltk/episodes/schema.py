"""The canonical episode record every reader maps into and every measure is defined over.

A force's extract uses its own column names; the protocol's ``data.columns`` maps them onto
these. Measures (``evaltk.measures``) and the simulator (``evaltk.simulate``) speak only these
names. Booleans are real booleans; categorical fields take exactly the codes listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldKind = Literal["id", "text", "timestamp", "bool", "category", "number"]


@dataclass(frozen=True)
class EpisodeField:
    name: str
    kind: FieldKind
    description: str
    codes: tuple[str, ...] = ()
    required: bool = True


PLACES_OF_SAFETY = ("health_based_suite", "emergency_department", "police_custody")
REFERRALS = ("none", "gp", "community_team", "crisis_team")

EPISODE_FIELDS: tuple[EpisodeField, ...] = (
    EpisodeField("episode_id", "id", "Unique identifier of the incident (one row each)."),
    EpisodeField("person_id", "id", "Pseudonymous identifier of the person (keyed hash)."),
    EpisodeField("force", "text", "ONS code of the police force (E23000001-W15000004)."),
    EpisodeField("timestamp", "timestamp", "When the incident was logged (local time)."),
    EpisodeField("triage_available", "bool", "A triage nurse was on duty for this incident."),
    EpisodeField("triage_attended", "bool", "The triage nurse attended or advised."),
    EpisodeField("s136", "bool", "The person was detained under section 136 MHA."),
    EpisodeField(
        "place_of_safety",
        "category",
        "First place of safety after an s136 detention; empty when there was none.",
        codes=PLACES_OF_SAFETY,
        required=False,
    ),
    EpisodeField("ae_conveyance", "bool", "The person was taken to an emergency department."),
    EpisodeField("ambulance_conveyance", "bool", "The person was conveyed by ambulance."),
    EpisodeField("referral", "category", "Onward referral made.", codes=REFERRALS),
    EpisodeField("missing_person", "bool", "A missing-person or AWOL report was part of it."),
    EpisodeField("arrest", "bool", "The person was arrested."),
    EpisodeField("officer_minutes", "number", "Officer time, dispatch to clear, in minutes."),
    EpisodeField(
        "hospital_wait_minutes", "number", "Police minutes waiting at hospital (0 if none)."
    ),
    EpisodeField("admitted_72h", "bool", "Admitted to a mental-health bed within 72 hours."),
)

#: Agencies whose extracts can be linked to police incidents (``data.linkage``), in path order.
LINKED_AGENCIES = ("ambulance", "ae", "admission")
_AGENCY_TEXT = {
    "ambulance": "an ambulance service record (dispatch or conveyance)",
    "ae": "an A&E (emergency department) attendance",
    "admission": "a mental-health admission",
}

#: Fields an extract may carry but need not (the simulator does not write them): the
#: admission time, checked against the incident time, and the path flags that
#: :mod:`evaltk.linkage.pipeline` derives by linking agencies' extracts. Measures filter on
#: the flags like on any bool field, e.g. ``where: {linked_ae: true}``.
OPTIONAL_FIELDS: tuple[EpisodeField, ...] = (
    EpisodeField(
        "admission_time",
        "timestamp",
        "When the person was admitted to a mental-health bed after this incident; empty if "
        "not admitted. An admission before the incident is impossible and excludes the row.",
        required=False,
    ),
    *(
        EpisodeField(
            f"linked_{agency}",
            "bool",
            f"Derived by linkage (data.linkage): the same person has {text} within the "
            "protocol's window after this incident.",
            required=False,
        )
        for agency, text in _AGENCY_TEXT.items()
    ),
)

FIELDS_BY_NAME: dict[str, EpisodeField] = {f.name: f for f in EPISODE_FIELDS + OPTIONAL_FIELDS}
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in EPISODE_FIELDS)
#: Every field in schema order: the simulator's fields, then the optional ones.
ALL_FIELD_NAMES: tuple[str, ...] = tuple(FIELDS_BY_NAME)

# The population table (per force and calendar year) that rates and offsets use.
POPULATION_FIELDS = ("force", "year", "population")
