"""How strong is the evidence? The Maryland Scientific Methods Scale level and EMMIE headings.

The level follows from the design (What Works centres' reading of the scale): a single-series
interrupted time series has no comparison group, so it is level 2 however long the series; a
comparison with untreated units reaches level 3 only with evidence on pre-intervention trends.
"""

from __future__ import annotations

from evaltk.protocol.spec import Protocol
from evaltk.results.schema import EvidenceLevel, Ledger

_LEVELS = {
    "its": (
        2,
        "A single time series before and after the scheme, with trend and seasonality "
        "modelled but no comparison area: other changes at the same time (policy, "
        "commissioning, recording practice) cannot be ruled out.",
    ),
}


def evidence_level(protocol: Protocol, ledger: Ledger | None) -> EvidenceLevel:
    """The SMS level of this design, and what the report says under each EMMIE heading."""
    level, reason = _LEVELS[protocol.design.kind]
    return EvidenceLevel(
        sms_level=level,
        reason=reason,
        emmie={
            "Effect": "Estimated for every registered outcome, with intervals and a verdict.",
            "Mechanism": "Not tested: the data record what happened, not why.",
            "Moderators": "Not tested: effects are for the whole force, not by group or time.",
            "Implementation": "Not assessed beyond the start date"
            + ("; see the protocol's description." if protocol.intervention.description else "."),
            "Economics": "Whole-system ledger in hours and pounds."
            if ledger is not None
            else "Not assessed: no outcome carries a unit cost.",
        },
    )
