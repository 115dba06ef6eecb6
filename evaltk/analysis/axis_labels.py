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

from evaltk.estimate.fit import OutcomeFit
from evaltk.protocol.aggregates import aggregate_kind

#: Designs whose main figure is the observed series with the model (level plots).
SERIES_DESIGNS = ("its", "cits")
#: Designs whose main figure shows effects by event time (or extra figure of that kind).
EFFECT_DESIGNS = ("staggered_did", "event_study")


def field_unit(fit: OutcomeFit) -> str:
    """The unit of the summed or averaged field: ``minutes`` when the field is in minutes."""
    measure = fit.outcome.measure
    name = (measure.field if measure else None) or fit.outcome.id
    return "minutes" if name.endswith("minutes") else f"units of {name.replace('_', ' ')}"


def measure_unit(fit: OutcomeFit) -> str:
    """The unit of one value of the outcome's measure, as its label would be read."""
    aggregate = fit.aggregate
    measure = fit.outcome.measure
    kind = aggregate_kind(aggregate)
    if kind.per_population:
        per = measure.per if measure else 100_000
        return f"events per {per:,} residents per month"
    if aggregate == "share":
        return "share (proportion, 0.1 = 10 %)"
    if aggregate == "mean":
        return f"{field_unit(fit)} per incident"
    if kind.sums_a_field:
        return f"{field_unit(fit)} per month"
    return "events per month"


def numerator_unit(fit: OutcomeFit) -> str:
    """The unit of the monthly numerator a count model is fitted to."""
    if aggregate_kind(fit.aggregate).sums_a_field:
        return f"{field_unit(fit)} per month (all incidents, summed)"
    if fit.aggregate == "share":
        return "events per month (the share's numerator)"
    return "events per month (count)"


def y_label(fit: OutcomeFit, kind: str = "main") -> str | None:
    """The y label of the outcome's figure of ``kind``, or None to keep the estimator's.

    A heatmap's y axis is the cohort and a groups figure is labelled by its estimator, so
    only series and effect figures are relabelled.
    """
    if kind == "main" and fit.design in SERIES_DESIGNS:
        return numerator_unit(fit) if fit.scale == "ratio" else measure_unit(fit)
    if (kind == "main" and fit.design in EFFECT_DESIGNS) or kind == "event_study":
        if fit.scale == "ratio":
            return "rate ratio (1 = no change)"
        return f"difference in {measure_unit(fit)}"
    return None
