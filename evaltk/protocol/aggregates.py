"""What each measure ``aggregate`` means, declared once for every step that reads it.

A measure is a monthly numerator over an optional denominator:

========= ========================== ============================ ==========================
aggregate numerator (summed monthly)  denominator                  value
========= ========================== ============================ ==========================
count     matching incidents          none                         numerator
rate      matching incidents          population (resident)        numerator / population * per
share     matching incidents          incidents in the denominator numerator / denominator
mean      the field, summed           incidents with the field     numerator / denominator
sum       the field, summed           none                         numerator
========= ========================== ============================ ==========================

From that table follow the questions the other steps ask: whether the measure has a
denominator (the models then use it as an exposure offset), whether monthly values add up over
forces and months (a ledger can then total them), whether the numerator counts people's
incidents (disclosure control must then see it), and whether it is a rate per population.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AggregateName = Literal["count", "rate", "share", "mean", "sum"]


@dataclass(frozen=True)
class Aggregate:
    """One kind of measure: what its numerator and denominator are."""

    name: AggregateName
    #: ``events``: a count of matching incidents; ``field``: a sum of a number field.
    numerator: Literal["events", "field"]
    #: ``population``: resident population; ``incidents``: a count of incidents; ``none``.
    denominator: Literal["none", "population", "incidents"]

    @property
    def has_denominator(self) -> bool:
        """The value is a ratio: models take the denominator as exposure (log offset)."""
        return self.denominator != "none"

    @property
    def additive(self) -> bool:
        """Monthly values add up over forces and months (a count or a sum)."""
        return self.denominator == "none"

    @property
    def counts_events(self) -> bool:
        """The numerator counts people's incidents: disclosure control must see it."""
        return self.numerator == "events"

    @property
    def event_total(self) -> bool:
        """The numerator is every matching incident of the unit and month (count, rate), not
        a part of another count (share) or a sum of a field."""
        return self.numerator == "events" and self.denominator != "incidents"

    @property
    def sums_a_field(self) -> bool:
        """The numerator is a number field summed over incidents (mean, sum)."""
        return self.numerator == "field"

    @property
    def per_population(self) -> bool:
        """A rate per ``per`` residents (per 100,000 by default)."""
        return self.denominator == "population"

    @property
    def per_incident(self) -> bool:
        """A ratio to a count of incidents (share, mean): undefined in a month without any."""
        return self.denominator == "incidents"


AGGREGATES: dict[str, Aggregate] = {
    a.name: a
    for a in (
        Aggregate("count", "events", "none"),
        Aggregate("rate", "events", "population"),
        Aggregate("share", "events", "incidents"),
        Aggregate("mean", "field", "incidents"),
        Aggregate("sum", "field", "none"),
    )
}


def aggregate_kind(name: str) -> Aggregate:
    """The :class:`Aggregate` of a measure's ``aggregate`` name (KeyError for an unknown one:
    the protocol's schema admits only the five above)."""
    return AGGREGATES[name]
