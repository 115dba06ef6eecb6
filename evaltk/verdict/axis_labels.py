"""What the y axis of an outcome's figure measures, in the outcome's own units.

The estimators label their axes generically ("events", "difference"): they do not know the
measure. Here the measure is known, so each figure says what is plotted and in which unit.
What is plotted depends on the model, not only on the measure:

- An interrupted time series (and a comparative one) with a count family is fitted to the
  monthly *numerator* (events, or the field summed over incidents), with the population or the
  denominator as an offset (:mod:`evaltk.estimate.its`): its figure shows that numerator, not
  the rate the outcome's label names, and says so.
- With the Gaussian family the series is the measure itself (a rate per 100,000, a share, a
  mean per incident).
- A staggered or event-study figure shows effects: a difference in the measure's units.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evaltk.protocol.aggregates import aggregate_kind
from evaltk.results.schema import OutcomeResult

if TYPE_CHECKING:
    # Only named as a type: evaltk book (publish) reads these labels without the estimators.
    from evaltk.estimate.fit import OutcomeFit

#: Designs whose main figure is the observed series with the model (level plots).
SERIES_DESIGNS = ("its", "cits", "synthetic_control", "synthetic_did")
#: Designs whose main figure shows effects by event time (or extra figure of that kind).
EFFECT_DESIGNS = ("staggered_did", "event_study")


def field_unit(field: str | None) -> str:
    """The unit of a summed or averaged field: ``minutes`` when the field is in minutes."""
    name = field or "the field"
    return "minutes" if name.endswith("minutes") else f"units of {name.replace('_', ' ')}"


def measure_unit(aggregate: str, field: str | None = None, per: int = 100_000) -> str:
    """The unit of one value of a measure, as its label would be read."""
    kind = aggregate_kind(aggregate)
    if kind.per_population:
        return f"events per {per:,} residents per month"
    if aggregate == "share":
        return "share (proportion, 0.1 = 10 %)"
    if aggregate == "mean":
        return f"{field_unit(field)} per incident"
    if kind.per_person:
        return f"{field_unit(field)} per person"
    if kind.sums_a_field:
        return f"{field_unit(field)} per month"
    return "events per month"


def numerator_unit(aggregate: str, field: str | None = None) -> str:
    """The unit of the monthly numerator a count model is fitted to."""
    if aggregate_kind(aggregate).sums_a_field:
        return f"{field_unit(field)} per month (all incidents, summed)"
    if aggregate == "share":
        return "events per month (the share's numerator)"
    return "events per month (count)"


def axis_label(
    design: str,
    aggregate: str,
    scale: str,
    kind: str = "main",
    field: str | None = None,
    per: int = 100_000,
) -> str | None:
    """The y label of an outcome's figure of ``kind``, or None to keep the estimator's.

    A heatmap's y axis is the cohort and a groups figure is labelled by its estimator, so
    only series and effect figures are relabelled.
    """
    if kind == "main" and design in SERIES_DESIGNS:
        return (
            numerator_unit(aggregate, field)
            if scale == "ratio"
            else measure_unit(aggregate, field, per)
        )
    if kind == "placebo":
        return f"gap: difference in {measure_unit(aggregate, field, per)}"
    if (kind == "main" and design in EFFECT_DESIGNS) or kind == "event_study":
        if scale == "ratio":
            return "rate ratio (1 = no change)"
        return f"difference in {measure_unit(aggregate, field, per)}"
    return None


def y_label(fit: OutcomeFit, kind: str = "main") -> str | None:
    """:func:`axis_label` of a fit, with its measure's field and population base."""
    measure = fit.outcome.measure
    # A ready series has no measure; its outcome id then names what it sums.
    field = (measure.field if measure else None) or fit.outcome.id
    per = measure.per if measure else 100_000
    return axis_label(fit.design, fit.aggregate, fit.scale, kind, field, per)


def result_y_label(outcome: OutcomeResult, kind: str = "main") -> str | None:
    """:func:`axis_label` from results.json alone (figures redrawn by ``evaltk book``): the
    field is known only as far as the totals' unit says (minutes) and rates are per 100,000,
    the project's convention."""
    minutes = outcome.cumulative is not None and outcome.cumulative.unit == "minutes"
    field = "minutes" if minutes or outcome.outcome.endswith("minutes") else None
    return axis_label(outcome.design, outcome.aggregate, outcome.scale, kind, field)
