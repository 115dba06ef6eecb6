"""Which canonical fields a protocol reads from its episode file, and who needs each.

Measures map exactly these fields onto the file's columns; linkage stages them (and only them)
when it writes the police file with its ``linked_<agency>`` flags.
"""

from __future__ import annotations

from collections.abc import Iterable

from evaltk.protocol.spec import EpisodeSource, Protocol


def required_fields(protocol: Protocol) -> dict[str, list[str]]:
    """Canonical fields the protocol needs -> the outcomes (or roles) that need them."""
    needed: dict[str, list[str]] = {
        "episode_id": ["every episode"],
        "force": ["every episode"],
        "timestamp": ["every episode"],
    }

    def need(fields: Iterable[str], why: str) -> None:
        for name in fields:
            needed.setdefault(name, [])
            if why not in needed[name]:
                needed[name].append(why)

    for outcome in protocol.outcomes:
        measure = outcome.measure
        if measure is None:
            continue
        need(measure.where, outcome.id)
        need(measure.denominator or {}, outcome.id)
        if measure.field is not None:
            need([measure.field], outcome.id)
        if measure.repeat is not None:
            need(["person_id", *measure.repeat.among], outcome.id)
        if measure.high_intensity is not None or measure.kind.per_person:
            need(["person_id"], outcome.id)
    if isinstance(protocol.data, EpisodeSource) and protocol.data.linkage is not None:
        need(["person_id"], "data.linkage")
    return needed


#: Fields read when the file has them (or data.columns maps them) though no outcome needs
#: them, because a check looks at them: an admission before its incident is excluded.
CHECKED_IF_PRESENT = ("admission_time",)

#: Fields people's journeys read when the file has them (evaltk.measures.journeys: the
#: pathway table and who carries the demand); linkage stages them too, so that journeys can
#: be followed on the linked file. None of them is required: without person_id there are no
#: journeys, and a missing flag counts as false.
JOURNEY_FIELDS = (
    "person_id",
    "triage_attended",
    "s136",
    "admitted_72h",
    "ae_conveyance",
    "referral",
    "missing_person",
    "officer_minutes",
)


def provided_by_linkage(protocol: Protocol) -> set[str]:
    """Canonical fields that linkage derives (``linked_<agency>``) rather than the file holds."""
    source = protocol.data
    if not isinstance(source, EpisodeSource) or source.linkage is None:
        return set()
    return {f"linked_{agency}" for agency in source.linkage.agencies}
