"""The headline: the answer in plain words, for a commissioner with five minutes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from evaltk.estimators.render import format_level
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
    """0.72 -> '28% lower'; 1.19 -> '19% higher'; 1.0 -> 'unchanged'."""
    change = (ratio - 1) * 100
    if round(abs(change)) == 0:
        return "unchanged"
    return f"{abs(change):.0f}% {'higher' if change > 0 else 'lower'}"


def interval_text(result: OutcomeResult, level: float) -> str:
    """'95 % CI 19% lower to 36% lower' for a ratio, '95 % CI -3.1 to 4.2' for a difference
    (the level written as everywhere else: 97.5 %, never 98%)."""
    if result.ci_low is None or result.ci_high is None:
        return "interval not available"
    if result.scale == "ratio":
        low, high = percent_change(result.ci_low), percent_change(result.ci_high)
        return f"{format_level(level)} CI {low} to {high}"
    return f"{format_level(level)} CI {result.ci_low:+.3g} to {result.ci_high:+.3g}"


def effect_text(result: OutcomeResult) -> str:
    if result.estimate is None:
        return "could not be estimated"
    if result.scale == "ratio":
        return f"were {percent_change(result.estimate)} than expected without the scheme"
    return f"changed by {result.estimate:+.3g} compared with what was expected"


def headline(
    results: Sequence[OutcomeResult],
    *,
    scheme: str,
    start: dt.date,
    places: str,
    alpha: float,
    level: float,
    began: str | None = None,
) -> str:
    """One paragraph: the primary outcome, then every secondary outcome that changed.

    ``began`` replaces "in PLACES in MONTH" when units started at different dates (e.g. "in
    E23000021 from October 2015 and E23000019 from April 2016").
    """
    when = began or f"in {places} in {start.strftime('%B %Y')}"
    sentences = []
    for result in (r for r in results if r.role == "primary"):
        sentence = (
            f"After {scheme} began {when}, {lower_first(result.label)} "
            f"{effect_text(result)} ({interval_text(result, level)})"
        )
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
        parts = [
            f"{lower_first(r.label)} {effect_text(r)} ({interval_text(r, level)})" for r in changed
        ]
        sentences.append("Elsewhere in the system, " + "; ".join(parts) + ".")
    else:
        sentences.append(
            "No secondary outcome changed significantly after correction for multiple testing."
        )
    return " ".join(sentences)
