"""One crisis feeding another: missing-person reports that follow a detention or an admission.

The person pool (:mod:`evaltk.simulate.people`) already gives each person repeat crises over
their active spell. This adds the follow-on the people at the table described: a person
detained under s136, or admitted and then leaving hospital, becomes a missing person. For each
incident of a force-year, from its own random stream (``Stream.JOURNEYS``, so every other draw
and row is unchanged):

* with probability ``journey_missing_after_s136``, an s136 detention is followed by a
  missing-person report of the same person, uniformly 1 to 23 hours later;
* with probability ``journey_missing_after_admission``, an incident with ``admitted_72h``
  and no s136 detention is followed by one uniformly 24 to 72 hours later (after discharge).

A report is a police incident of its own: ``missing_person`` true, no detention, conveyance,
referral, arrest or admission, officer minutes drawn as any incident's scene time (no hospital
wait), and the nurse attending as at any incident of that force-month. Reports are not parents
of further reports (the chain stops), so the truth is exact: the share of s136 detentions
followed within 24 hours by a missing-person report has expectation
``journey_missing_after_s136`` plus the chance that an unrelated report of the same person falls
in those 24 hours (about 0 in the demo data: none of 6,100 detentions), and triage does not
change it (:func:`journey_truth`).

Both probabilities are 0 by default: the demo's data, truth and every golden stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from evaltk.simulate.config import SimulationConfig
from evaltk.simulate.randomness import Stream, rng

#: Hours after the parent incident at which each kind of report falls (uniform).
S136_DELAY_HOURS = (1.0, 23.0)
ADMISSION_DELAY_HOURS = (24.0, 72.0)


def journeys_on(config: SimulationConfig) -> bool:
    """Whether the configuration adds any follow-on report."""
    return config.journey_missing_after_s136 > 0 or config.journey_missing_after_admission > 0


@dataclass(frozen=True)
class FollowOns:
    """The follow-on reports of one force-year: which incidents they follow, and when."""

    parent: np.ndarray  # index of the parent incident in the year's arrays
    delay_seconds: np.ndarray  # after the parent's time
    attended_u: np.ndarray  # uniform draws deciding whether the nurse attends
    minutes_z: np.ndarray  # normal draws of the officer minutes


def draw_follow_ons(
    config: SimulationConfig,
    force_no: int,
    year_key: int,
    s136: np.ndarray,
    admitted: np.ndarray,
) -> FollowOns:
    """Which of the year's incidents are followed by a missing-person report, from the
    journeys' own stream (keyed like the episodes' by force and year)."""
    draw = rng(config.seed, Stream.JOURNEYS, force_no, year_key)
    n = len(s136)
    u = draw.random((4, n))  # choose, delay, nurse, (spare: one draw per incident and purpose)
    z = draw.standard_normal(n)
    after_s136 = s136 & (u[0] < config.journey_missing_after_s136)
    after_admission = admitted & ~s136 & (u[0] < config.journey_missing_after_admission)
    low = np.where(s136, S136_DELAY_HOURS[0], ADMISSION_DELAY_HOURS[0])
    high = np.where(s136, S136_DELAY_HOURS[1], ADMISSION_DELAY_HOURS[1])
    hours = low + (high - low) * u[1]
    parent = np.flatnonzero(after_s136 | after_admission)
    return FollowOns(
        parent=parent,
        delay_seconds=np.floor(hours[parent] * 3600).astype(np.int64),
        attended_u=u[2][parent],
        minutes_z=z[parent],
    )


def journey_truth(config: SimulationConfig) -> dict[str, Any]:
    """What ``truth.json`` says of the journeys (only written when they are on)."""
    return {
        "missing_within_24h_of_s136": {
            "share": config.journey_missing_after_s136,
            "definition": (
                "share of s136 detentions followed by a missing-person report of the same "
                "person within 24 hours, before and after the start alike (triage does not "
                "change it); measured shares also count any unrelated report of the person "
                "in those 24 hours"
            ),
            "delay_hours": list(S136_DELAY_HOURS),
        },
        "missing_within_72h_of_admission": {
            "share": config.journey_missing_after_admission,
            "definition": (
                "share of incidents with admitted_72h and no s136 detention followed by a "
                "missing-person report of the same person within 72 hours"
            ),
            "delay_hours": list(ADMISSION_DELAY_HOURS),
        },
        "note": (
            "follow-on reports are incidents of their own: incident and missing-person totals "
            "include them, while effects.*.expected_* (from the monthly expectations) do not"
        ),
    }
