"""The outcomes a simulation can give a true effect, and what each effect ratio means."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

EffectScale = Literal["count", "mean"]


@dataclass(frozen=True)
class EffectKey:
    """One outcome with a configurable true effect.

    ``scale`` says what the ratio compares: ``"count"`` is the expected monthly count in a treated
    force-month over its counterfactual; ``"mean"`` is the expected mean per incident.
    """

    key: str
    scale: EffectScale
    what: str

    @property
    def definition(self) -> str:
        """Plain-English definition of the true ratio, as written to ``truth.json``."""
        if self.scale == "count":
            quantity = f"expected monthly {self.what}"
        else:
            quantity = f"expected mean {self.what}"
        return (
            f"ratio of {quantity} in a treated force-month to the counterfactual without triage "
            "(all incidents, attended or not; the start month is treated)"
        )


EFFECT_KEYS: tuple[EffectKey, ...] = (
    EffectKey("incidents", "count", "mental-health incidents"),
    EffectKey("s136", "count", "s136 detentions"),
    EffectKey(
        "ae_conveyance",
        "count",
        "A&E conveyances (including s136 detentions taken to an emergency department)",
    ),
    EffectKey("ambulance_conveyance", "count", "ambulance conveyances"),
    EffectKey(
        "referral", "count", "incidents with an onward referral (GP, community or crisis team)"
    ),
    EffectKey("missing_person", "count", "missing-person or AWOL reports"),
    EffectKey("arrest", "count", "arrests"),
    EffectKey("admitted_72h", "count", "admissions to a mental-health bed within 72 hours"),
    EffectKey(
        "officer_minutes",
        "mean",
        "officer minutes per incident (dispatch to clear, including any wait at hospital)",
    ),
    EffectKey(
        "scene_minutes",
        "mean",
        "officer minutes per incident other than waiting at hospital (travel and time at the "
        "scene)",
    ),
    EffectKey(
        "hospital_wait_minutes",
        "mean",
        "police minutes waiting at hospital per incident (zero when there was no wait)",
    ),
)

#: Officer minutes are travel and scene time plus the wait at hospital. Unless
#: ``officer_minutes`` itself is configured, its true ratio follows from the other two (a
#: shorter wait shortens officer time by as much): the world stays one set of accounts.
DERIVED_KEYS: frozenset[str] = frozenset({"officer_minutes"})


def derived_keys(configured: Iterable[str]) -> frozenset[str]:
    """The effects whose true ratio follows from others under these configured effects: officer
    minutes by default; scene minutes instead when officer minutes are fixed (scene time then
    takes up the rest, so its ratio varies with each month's share of waiting)."""
    if "officer_minutes" in set(configured):
        return frozenset({"scene_minutes"})
    return DERIVED_KEYS


EFFECTS_BY_KEY: dict[str, EffectKey] = {e.key: e for e in EFFECT_KEYS}
EFFECT_NAMES: tuple[str, ...] = tuple(e.key for e in EFFECT_KEYS)
