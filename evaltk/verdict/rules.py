"""The verdict: does the scheme resolve crises, displace them, or refer them on?

The rule is fixed by the protocol's ``decision`` section before the data are seen:

1. The primary outcome is tested at ``alpha`` (primaries Holm-corrected among themselves).
   Not significant: *No detectable change* if its interval excludes any change as large as
   ``minimum_important_change`` either way, otherwise *Inconclusive*. Significant in the harmful
   direction: *Worsens*.
2. A beneficial primary change is not enough. Every displacement outcome is then examined:
   one that rose significantly (after the multiplicity correction) gives *Displaces*.
3. Otherwise every referral outcome likewise: a significant rise gives *Refers on*.
4. Otherwise *Resolves* only if every displacement and referral outcome is *shown* not to have
   risen by ``minimum_important_change`` or more: the upper one-sided (1 - alpha) confidence
   bound of its ratio lies below 1 + margin (the upper half of a TOST equivalence test).
   The absence of a significant rise is not evidence of no rise; where a rise cannot be ruled
   out the verdict is *Inconclusive*, naming the outcomes.

Outcomes on the difference scale (Gaussian models) have no relative margin; they count as
"cannot rule out" in step 4.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

from evaltk.protocol.spec import Decision
from evaltk.results.schema import OutcomeResult, Verdict
from evaltk.verdict.headline import lower_first

_WATCHED = ("displacement", "referral")


@dataclass(frozen=True)
class _Reading:
    result: OutcomeResult
    significant: bool
    beneficial: bool


def _read(result: OutcomeResult, alpha: float) -> _Reading | None:
    if result.estimate is None:
        return None
    p = result.p_adjusted if result.p_adjusted is not None else result.p_value
    null = 1.0 if result.scale == "ratio" else 0.0
    lower = result.estimate < null
    beneficial = lower if result.direction == "decrease" else not lower
    return _Reading(result, p is not None and p < alpha, beneficial)


def _upper_bound(result: OutcomeResult, alpha: float, interval_level: float) -> float | None:
    """One-sided (1 - alpha) upper bound of a ratio, from its two-sided interval (log scale)."""
    if result.scale != "ratio" or None in (result.estimate, result.ci_low, result.ci_high):
        return None
    assert result.ci_low is not None and result.ci_high is not None
    if result.ci_low <= 0 or result.ci_high <= 0:
        return None
    z_two_sided = stats.norm.ppf(0.5 + interval_level / 2)
    se = (math.log(result.ci_high) - math.log(result.ci_low)) / (2 * z_two_sided)
    assert result.estimate is not None
    return math.exp(math.log(result.estimate) + stats.norm.ppf(1 - alpha) * se)


def _harmful_rise(result: OutcomeResult) -> bool:
    # Displacement and referral outcomes are counts where "increase" is the harm, whatever
    # direction the protocol calls beneficial for them.
    null = 1.0 if result.scale == "ratio" else 0.0
    return result.estimate is not None and result.estimate > null


def _names(results: Sequence[OutcomeResult]) -> str:
    labels = [r.label for r in results]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def decide(results: Sequence[OutcomeResult], decision: Decision) -> Verdict:
    """Apply the rule above to the outcome results of one analysis."""
    alpha, margin = decision.alpha, decision.minimum_important_change
    primaries = [r for r in results if r.role == "primary"]
    primary = _read(primaries[0], alpha) if primaries else None
    if primary is None:
        return Verdict(
            label="Inconclusive",
            rule="The primary outcome could not be estimated.",
            sentence="The primary outcome could not be estimated, so no verdict is possible.",
        )
    name = primary.result.label
    if not primary.significant:
        low, high = primary.result.ci_low, primary.result.ci_high
        null = 1.0 if primary.result.scale == "ratio" else 0.0
        bounds = (1 - margin, 1 + margin) if null == 1.0 else None
        if bounds and low is not None and high is not None and bounds[0] < low and high < bounds[1]:
            return Verdict(
                label="No detectable change",
                rule=f"Primary not significant at alpha {alpha}; its interval excludes a change "
                f"of {margin:.0%} either way.",
                sentence=f"{name} did not change by as much as {margin:.0%} either way.",
            )
        return Verdict(
            label="Inconclusive",
            rule=f"Primary not significant at alpha {alpha}, and its interval does not exclude "
            f"a change of {margin:.0%}.",
            sentence=f"The data cannot tell whether {lower_first(name)} changed by an important "
            "amount: the interval is too wide.",
        )
    if not primary.beneficial:
        return Verdict(
            label="Worsens",
            rule=f"Primary significant at alpha {alpha} in the harmful direction.",
            sentence=f"{name} moved in the wrong direction after the scheme began.",
        )
    watched = [r for r in results if r.role == "secondary" and r.outcome_class in _WATCHED]
    for outcome_class, label in (("displacement", "Displaces"), ("referral", "Refers on")):
        risen = [
            r
            for r in watched
            if r.outcome_class == outcome_class
            and _harmful_rise(r)
            and (r.p_adjusted if r.p_adjusted is not None else 1.0) < alpha
        ]
        if risen:
            return Verdict(
                label=label,
                rule=f"Primary fell significantly, but {outcome_class} outcomes rose "
                f"significantly after {decision.multiplicity} correction: {_names(risen)}.",
                sentence=f"{name} fell, but demand moved elsewhere: {lower_first(_names(risen))} "
                "rose." if label == "Displaces" else f"{name} fell, but more people were "
                f"referred on: {lower_first(_names(risen))} rose.",
            )
    unresolved = [
        r
        for r in watched
        if (bound := _upper_bound(r, alpha, decision.interval_level)) is None
        or bound >= 1 + margin
    ]
    if unresolved:
        return Verdict(
            label="Inconclusive",
            rule=f"Primary fell significantly and no displacement or referral outcome rose "
            f"significantly, but a rise of {margin:.0%} or more cannot be ruled out for: "
            f"{_names(unresolved)}.",
            sentence=f"{name} fell; whether demand moved to {lower_first(_names(unresolved))} "
            "cannot yet be ruled out.",
        )
    return Verdict(
        label="Resolves",
        rule=f"Primary fell significantly, and every displacement and referral outcome is shown "
        f"(one-sided test at alpha {alpha}) not to have risen by {margin:.0%} or more.",
        sentence=f"{name} fell, and the data rule out demand moving to the other services "
        "measured.",
    )
