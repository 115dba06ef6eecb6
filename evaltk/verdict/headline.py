"""The headline: the answer in plain words, for a commissioner with five minutes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from evaltk.estimators.render import format_level
from evaltk.protocol.aggregates import aggregate_kind
from evaltk.results.schema import OutcomeResult


def lower_first(label: str) -> str:
    """'Section 136 detentions' stays; 'Conveyances to A&E' -> 'conveyances to A&E'."""
    first = label.split(" ", 1)[0]
    return (
        label
        if first[1:2].isupper() or first[:1].isdigit() or first in _PROPER
        else (label[:1].lower() + label[1:])
    )


_PROPER = frozenset({"Section", "A&E", "GP"})


def percent_change(ratio: float) -> str:
    """0.72 -> '28 % lower'; 1.19 -> '19 % higher'; 1.0 -> 'unchanged'.

    Whole percentages with a space before the sign, as the book writes them
    (:mod:`evaltk.publish.format`) and as the level is written (``95 %``).
    """
    change = (ratio - 1) * 100
    if round(abs(change)) == 0:
        return "unchanged"
    return f"{abs(change):.0f} % {'higher' if change > 0 else 'lower'}"


def measure_phrase(aggregate: str, per: int = 100_000) -> tuple[str, ...]:
    """What one value of a measure is per, in the words a headline adds after the label.

    A rate is per ``per`` residents per month, a count or sum per month, a mean per incident;
    a share needs nothing (its differences are read in percentage points). Every value in the
    panel is monthly, also in a staggered design's quarters or years (their monthly average).
    """
    kind = aggregate_kind(aggregate)
    if kind.per_population:
        return (f"per {per:,} residents", "per month")
    if kind.per_person:
        return ("per person",)
    if kind.per_incident:
        return () if kind.proportion else ("per incident",)
    return ("per month",)


def measured(label: str, phrase: Sequence[str]) -> str:
    """The label with each part of ``phrase`` it does not already say: 'Section 136 detentions
    per 100,000 residents' + per month."""
    return " ".join([label, *(p for p in phrase if p.lower() not in label.lower())])


def _amount(value: float, aggregate: str) -> str:
    # A difference of two shares reads in percentage points (0.05 -> '5 percentage points').
    if aggregate_kind(aggregate).proportion:
        return f"{abs(value) * 100:.3g} percentage points"
    return f"{abs(value):.3g}"


def _side(value: float) -> str:
    return "higher" if value > 0 else "lower"


def difference_interval(low: float, high: float, aggregate: str) -> str:
    """Lower limit first, each end with its direction: '1.12 lower to 0.0631 lower',
    '0.3 lower to 0.2 higher' (the order the book writes every interval in)."""
    low, high = sorted((low, high))

    def end(value: float) -> str:
        return "no change" if value == 0 else f"{_amount(value, aggregate)} {_side(value)}"

    return f"{end(low)} to {end(high)}"


def interval_text(result: OutcomeResult, level: float) -> str:
    """'95 % CI 36 % lower to 19 % lower' for a ratio, '95 % CI 1.12 lower to 0.0631 lower' for
    a difference: lower limit first (the level written as everywhere else: 97.5 %, never 98%)."""
    if result.ci_low is None or result.ci_high is None:
        return "interval not available"
    if result.scale == "ratio":
        low, high = percent_change(result.ci_low), percent_change(result.ci_high)
        return f"{format_level(level)} CI {low} to {high}"
    return (
        f"{format_level(level)} CI "
        f"{difference_interval(result.ci_low, result.ci_high, result.aggregate)}"
    )


def effect_text(result: OutcomeResult) -> str:
    if result.estimate is None:
        return "could not be estimated"
    if result.scale == "ratio":
        return f"were {percent_change(result.estimate)} than expected without the scheme"
    verb = "was" if aggregate_kind(result.aggregate).proportion else "were"
    if result.estimate == 0:
        return f"{verb} unchanged compared with what was expected"
    return (
        f"{verb} {_amount(result.estimate, result.aggregate)} {_side(result.estimate)} "
        "than expected without the scheme"
    )


def baseline_text(result: OutcomeResult) -> str:
    """'; 30 % of the pre-start level of 1.47' for a difference with a positive baseline."""
    if result.scale != "difference" or result.estimate is None or result.baseline is None:
        return ""
    if result.baseline <= 0:
        return ""
    share = abs(result.estimate) / result.baseline
    level = (
        f"{result.baseline * 100:.3g} %"
        if aggregate_kind(result.aggregate).proportion
        else f"{result.baseline:.3g}"
    )
    return f"; {share * 100:.0f} % of the pre-start level of {level}"


def outcome_text(
    result: OutcomeResult, level: float, phrases: Mapping[str, Sequence[str]] | None
) -> str:
    """'LABEL [per WHAT per month] EFFECT (INTERVAL[; N % of the pre-start level of B])'.

    A ratio needs no unit (it is a percentage); a difference is read in the measure's units,
    so it says what was measured, per what and over what period.
    """
    label = lower_first(result.label)
    if result.scale == "difference":
        phrase = (phrases or {}).get(result.outcome, measure_phrase(result.aggregate))
        label = measured(label, phrase)
    interval = interval_text(result, level) + baseline_text(result)
    return f"{label} {effect_text(result)} ({interval})"


def headline(
    results: Sequence[OutcomeResult],
    *,
    scheme: str,
    start: dt.date,
    places: str,
    alpha: float,
    level: float,
    began: str | None = None,
    phrases: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """One paragraph: the primary outcome, then every secondary outcome that changed.

    ``began`` replaces "in PLACES in MONTH" when units started at different dates (e.g. "in
    E23000021 from October 2015 and E23000019 from April 2016"). ``phrases`` maps an outcome
    id to its :func:`measure_phrase` (default: from its aggregate, rates per 100,000).
    """
    when = began or f"in {places} in {start.strftime('%B %Y')}"
    sentences = []
    for result in (r for r in results if r.role == "primary"):
        sentence = f"After {scheme} began {when}, {outcome_text(result, level, phrases)}"
        cumulative = result.cumulative
        if cumulative and cumulative.averted is not None and cumulative.unit == "events":
            amount = abs(cumulative.averted)
            sentence += (
                f": about {amount:,.0f} {'fewer' if cumulative.averted > 0 else 'more'} "
                "over the months that followed"
            )
        sentences.append(sentence + ".")
    changed = [
        r
        for r in results
        if r.role == "secondary" and r.p_adjusted is not None and r.p_adjusted < alpha
    ]
    if changed:
        parts = [outcome_text(r, level, phrases) for r in changed]
        sentences.append("Elsewhere in the system, " + "; ".join(parts) + ".")
    else:
        sentences.append(
            "No secondary outcome changed significantly after correction for multiple testing."
        )
    return " ".join(sentences)
