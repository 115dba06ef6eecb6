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
per_person the field, summed          people with such an incident numerator / denominator
========= ========================== ============================ ==========================

``per_person`` follows people rather than incidents: "officer hours per person in crisis" is
``officer_minutes`` summed over the month's matching incidents over the distinct people
(``person_id``) who had one (a journey measure, issue 18: the cost of a person's crisis to the
services, whichever of their contacts it fell on).

and three measures of high-intensity users, computed over each person's contacts in the
rolling months ending each month (``Measure.high_intensity``; :mod:`evaltk.measures.intensity`):

========================== ============================= ========================= ==========
aggregate                  numerator                     denominator               value
========================== ============================= ========================= ==========
high_intensity_people      people with >= k contacts     none                      numerator
high_intensity_share       their incidents in the month  incidents in the month    ratio
high_intensity_field_share their field (minutes), summed  the field over incidents  ratio
========================== ============================= ========================= ==========

A count of people is not additive over months (one person is counted in every month of the
year in which they stay above k), so a ledger must not total it.

From that table follow the questions the other steps ask: whether the measure has a
denominator (the models then use it as an exposure offset), whether monthly values add up over
forces and months (a ledger can then total them), whether the numerator counts people's
incidents (disclosure control must then see it), and whether it is a rate per population.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from evaltk.protocol.spec import Outcome

AggregateName = Literal[
    "count",
    "rate",
    "share",
    "mean",
    "sum",
    "per_person",
    "high_intensity_people",
    "high_intensity_share",
    "high_intensity_field_share",
]


@dataclass(frozen=True)
class Aggregate:
    """One kind of measure: what its numerator and denominator are."""

    name: AggregateName
    #: ``events``: a count of matching incidents; ``field``: a sum of a number field;
    #: ``people``: a count of distinct people.
    numerator: Literal["events", "field", "people"]
    #: ``population``: resident population; ``incidents``: a count of incidents; ``field``:
    #: the field summed over incidents; ``people``: distinct people with a matching incident;
    #: ``none``.
    denominator: Literal["none", "population", "incidents", "field", "people"]
    #: Computed over each person's contacts in rolling months (``Measure.high_intensity``),
    #: not incident by incident.
    over_people: bool = False

    @property
    def has_denominator(self) -> bool:
        """The value is a ratio: models take the denominator as exposure (log offset)."""
        return self.denominator != "none"

    @property
    def additive(self) -> bool:
        """Monthly values add up over forces and months (a count or a sum; not a count of
        people, who stay counted in every month they remain high-intensity users)."""
        return self.denominator == "none" and self.numerator != "people"

    @property
    def numerator_adds_over_months(self) -> bool:
        """Monthly numerators add up to a total over months (not a count of people, each
        counted again in every month they remain high-intensity users)."""
        return self.numerator != "people"

    @property
    def counts_events(self) -> bool:
        """The numerator counts incidents (``count(*)`` of matching rows)."""
        return self.numerator == "events"

    @property
    def about_people(self) -> bool:
        """The numerator counts people or their incidents: disclosure control must see it."""
        return self.numerator in ("events", "people")

    @property
    def proportion(self) -> bool:
        """The value is a part of a whole (0 to 1): its differences read in percentage points."""
        return (self.numerator, self.denominator) in (("events", "incidents"), ("field", "field"))

    @property
    def event_total(self) -> bool:
        """The numerator is every matching incident of the unit and month (count, rate), not
        a part of another count (share) or a sum of a field."""
        return self.numerator == "events" and self.denominator != "incidents"

    @property
    def sums_a_field(self) -> bool:
        """The numerator is a number field summed over incidents (mean, sum, field share)."""
        return self.numerator == "field"

    @property
    def per_population(self) -> bool:
        """A rate per ``per`` residents (per 100,000 by default)."""
        return self.denominator == "population"

    @property
    def per_incident(self) -> bool:
        """A ratio to a monthly total over incidents (share, mean; a field share's sum of the
        field) or over the people who had them (per person): undefined in a month without
        any. Its value is numerator / denominator."""
        return self.denominator in ("incidents", "field", "people")

    @property
    def per_person(self) -> bool:
        """The denominator counts distinct people with a matching incident in the month."""
        return self.denominator == "people"


AGGREGATES: dict[str, Aggregate] = {
    a.name: a
    for a in (
        Aggregate("count", "events", "none"),
        Aggregate("rate", "events", "population"),
        Aggregate("share", "events", "incidents"),
        Aggregate("mean", "field", "incidents"),
        Aggregate("sum", "field", "none"),
        Aggregate("per_person", "field", "people"),
        Aggregate("high_intensity_people", "people", "none", over_people=True),
        Aggregate("high_intensity_share", "events", "incidents", over_people=True),
        Aggregate("high_intensity_field_share", "field", "field", over_people=True),
    )
}


def aggregate_kind(name: str) -> Aggregate:
    """The :class:`Aggregate` of a measure's ``aggregate`` name (KeyError for an unknown one:
    the protocol's schema admits only the nine above)."""
    return AGGREGATES[name]


def total_unit(outcome: Outcome, aggregate: str, additive: bool) -> str:
    """What a post-period total of the modelled series counts: events, the field's units
    (minutes when the field is), or ``not additive`` when the modelled values do not add up
    over months."""
    if not additive or not aggregate_kind(aggregate).numerator_adds_over_months:
        return "not additive"
    if aggregate_kind(aggregate).sums_a_field:
        # A ready series has no measure; its outcome id then names what it sums.
        name = outcome.measure.field if outcome.measure else outcome.id
        return "minutes" if name and name.endswith("minutes") else "units of the field"
    return "events"
