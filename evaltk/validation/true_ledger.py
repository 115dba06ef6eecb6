"""The true whole-system ledger of a simulated dataset, for a protocol: what its ledger estimates.

The simulator knows, for every force-month, the expected totals with and without triage
(:func:`evaltk.simulate.expected_outcomes`, conditional on the latent monthly incident rate).
Summed over the protocol's treated force-months (each treated unit from its start, INCLUSIVE,
washout left out, inside the window), counterfactual minus expected is the true change each
costed outcome's ledger line estimates: events (counts, rates) or minutes (means and sums of a
minutes field). Hours and pounds follow by the ledger's own conversion
(:func:`evaltk.protocol.prices.unit_rates`), and the totals by the ledger's own rules (a line
``part_of`` another is left out; police hours are the police lines in the net).

An outcome is matched to the simulator's effect key by its measure: the field it sums or
averages (``officer_minutes``), the one flag it counts (``s136: true``), the onward referrals
of any kind, or every incident (no ``where``). An outcome the simulator does not generate
(a share, a repeat, a place of safety) has no true line; the caller sees it in ``missing``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaltk.episodes.schema import REFERRALS
from evaltk.protocol.aggregates import total_unit
from evaltk.protocol.prices import unit_rates
from evaltk.protocol.spec import Outcome, Protocol
from evaltk.simulate import EFFECT_NAMES, SimulationConfig, expected_outcomes

_ANY_REFERRAL = frozenset(r for r in REFERRALS if r != "none")


def effect_key(outcome: Outcome) -> str | None:
    """The simulator's effect key that ``outcome`` measures, or None when it measures none."""
    measure = outcome.measure
    if measure is None:
        return outcome.id if outcome.id in EFFECT_NAMES else None
    if measure.repeat is not None or measure.denominator is not None:
        return None
    if measure.field is not None:
        return measure.field if measure.field in EFFECT_NAMES and not measure.where else None
    if not measure.where:
        return "incidents"
    if len(measure.where) != 1:
        return None
    (name, value), *_ = measure.where.items()
    if name == "referral" and isinstance(value, list | tuple) and set(value) == _ANY_REFERRAL:
        return "referral"
    if name in EFFECT_NAMES and value is True:
        return name
    return None


@dataclass(frozen=True)
class TrueLine:
    """One costed outcome's true change over the treated force-months (positive: averted)."""

    outcome: str
    key: str
    unit: str
    agency: str
    in_net: bool
    averted: float
    hours: float
    pounds: float


@dataclass(frozen=True)
class TrueLedger:
    """The true ledger: its lines and the totals the estimated ledger reports."""

    lines: tuple[TrueLine, ...]
    force_months: int
    missing: tuple[str, ...]  # costed outcomes the simulator gives no truth for

    @property
    def net_pounds(self) -> float:
        return float(sum(line.pounds for line in self.lines if line.in_net))

    @property
    def net_hours(self) -> float:
        return float(sum(line.hours for line in self.lines if line.in_net))

    @property
    def police_hours_released(self) -> float:
        return float(
            sum(line.hours for line in self.lines if line.in_net and line.agency == "police")
        )

    @property
    def hours_added_elsewhere(self) -> float:
        return -float(
            sum(line.hours for line in self.lines if line.in_net and line.agency != "police")
        )

    def to_dict(self) -> dict[str, Any]:
        """The form written to ``truth.json`` (``true_ledgers``)."""
        return {
            "force_months": self.force_months,
            "lines": [
                {
                    "outcome": line.outcome,
                    "effect_key": line.key,
                    "unit": line.unit,
                    "agency": line.agency,
                    "in_net": line.in_net,
                    "averted": round(line.averted, 3),
                    "hours": round(line.hours, 3),
                    "pounds": round(line.pounds, 2),
                }
                for line in self.lines
            ],
            "net_pounds": round(self.net_pounds, 2),
            "net_hours": round(self.net_hours, 3),
            "police_hours_released": round(self.police_hours_released, 3),
            "hours_added_elsewhere": round(self.hours_added_elsewhere, 3),
            "no_truth_for": list(self.missing),
        }


def treated_force_months(expected: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    """The rows of ``expected`` that the protocol's ledger covers: each of its units with a
    start, from that month (inclusive) plus the washout, inside the window."""
    window = protocol.window
    period = pd.to_datetime(expected["period"])
    first = pd.Timestamp(window.start).to_period("M").to_timestamp()
    last = pd.Timestamp(window.end).to_period("M").to_timestamp()
    keep = np.zeros(len(expected), dtype=bool)
    for unit, start in protocol.intervention.start.items():
        if unit not in protocol.units:
            continue
        begin = pd.Timestamp(start).to_period("M").to_timestamp() + pd.DateOffset(
            months=window.washout_months
        )
        keep |= (
            (expected["force"] == unit).to_numpy()
            & (period >= max(begin, first)).to_numpy()
            & (period <= last).to_numpy()
        )
    return expected[keep]


def true_ledger(config: SimulationConfig, protocol: Protocol) -> TrueLedger:
    """The true ledger of ``protocol``'s costed outcomes on the data ``config`` simulates."""
    rows = treated_force_months(expected_outcomes(config), protocol)
    lines = []
    missing = []
    for outcome in protocol.outcomes:
        cost = outcome.cost
        if cost is None:
            continue
        key = effect_key(outcome)
        if key is None:
            missing.append(outcome.id)
            continue
        aggregate = outcome.measure.aggregate if outcome.measure else "count"
        unit = total_unit(outcome, aggregate, True)
        averted = float(rows[f"{key}_counterfactual"].sum() - rows[key].sum())
        hours_per, pounds_per = unit_rates(cost, unit, protocol.decision.price_year)
        lines.append(
            TrueLine(
                outcome=outcome.id,
                key=key,
                unit=unit,
                agency=cost.agency,
                in_net=cost.in_net and cost.part_of is None,
                averted=averted,
                hours=averted * hours_per,
                pounds=averted * pounds_per,
            )
        )
    return TrueLedger(lines=tuple(lines), force_months=len(rows), missing=tuple(missing))
