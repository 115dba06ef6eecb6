"""The verdict: does the scheme resolve crises, displace them, or refer them on?

The rules are the protocol's ``decision.rules`` (registered with it; the template carries the
documented defaults, :data:`evaltk.protocol.spec.DEFAULT_RULES`). They are checked in order and
the first rule whose conditions all hold gives the verdict. This module only evaluates the
conditions (see :class:`evaltk.protocol.spec.Rule` for their definitions) on the outcome
results of one run.

Tests use the protocol's alpha. Secondary outcomes use their multiplicity-adjusted p-value for
"rises"; "ruled out" uses the non-inferiority p-value against the outcome's margin, which is
also compared with alpha after the same multiplicity correction (Holm across the watched
outcomes) so that "every displacement outcome is ruled out" is not easier to claim with more
outcomes. Outcomes on the difference scale (Gaussian models) have no relative margin: a rise
cannot be ruled out for them, which the verdict then names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from evaltk.protocol.spec import Decision, Rule
from evaltk.results.schema import OutcomeResult, Verdict
from evaltk.verdict.headline import lower_first
from evaltk.verdict.multiplicity import adjust


def _null(result: OutcomeResult) -> float:
    return 1.0 if result.scale == "ratio" else 0.0


def _harmful(result: OutcomeResult) -> bool:
    """The estimate moved in the harmful direction (opposite of the beneficial one)."""
    assert result.estimate is not None
    lower = result.estimate < _null(result)
    return not lower if result.direction == "decrease" else lower


def _p(result: OutcomeResult) -> float:
    p = result.p_adjusted if result.p_adjusted is not None else result.p_value
    return 1.0 if p is None else p


def _names(results: Sequence[OutcomeResult]) -> str:
    labels = [lower_first(r.label) for r in results]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


@dataclass(frozen=True)
class Evidence:
    """Each condition's truth value, and the outcomes that made it true or false."""

    holds: dict[str, bool]
    named: dict[str, list[OutcomeResult]]


def evaluate(results: Sequence[OutcomeResult], decision: Decision) -> Evidence:
    """Evaluate every rule condition on one run's outcome results."""
    alpha = decision.alpha
    primaries = [r for r in results if r.role == "primary"]
    primary = primaries[0] if primaries else None
    estimated = primary is not None and primary.estimate is not None
    significant = estimated and _p(primary) < alpha  # type: ignore[arg-type]
    holds: dict[str, bool] = {
        "always": True,
        "primary_not_estimated": not estimated,
        "primary_improves": bool(significant and not _harmful(primary)),  # type: ignore[arg-type]
        "primary_worsens": bool(significant and _harmful(primary)),  # type: ignore[arg-type]
        "primary_not_significant": bool(estimated and not significant),
        "primary_equivalent": bool(
            estimated
            and primary.equivalence_p is not None  # type: ignore[union-attr]
            and primary.equivalence_p < alpha  # type: ignore[union-attr]
        ),
    }
    named: dict[str, list[OutcomeResult]] = {"primary": [primary] if primary else []}
    for outcome_class in ("displacement", "referral"):
        watched = [r for r in results if r.role == "secondary" and r.outcome_class == outcome_class]
        risen = [r for r in watched if r.estimate is not None and _harmful(r) and _p(r) < alpha]
        ruled_out_p = adjust([r.harm_ruled_out_p for r in watched], decision.multiplicity)
        open_ = [r for r, p in zip(watched, ruled_out_p, strict=True) if p is None or p >= alpha]
        holds[f"{outcome_class}_rises"] = bool(risen)
        holds[f"{outcome_class}_ruled_out"] = not open_
        named[f"{outcome_class}_rises"] = risen
        named[f"{outcome_class}_open"] = open_
    return Evidence(holds=holds, named=named)


def _sentence(rule: Rule, evidence: Evidence) -> str:
    primary = evidence.named["primary"]
    name = primary[0].label if primary else "The primary outcome"
    elsewhere = evidence.named["displacement_rises"] + evidence.named["referral_rises"]
    still_open = evidence.named["displacement_open"] + evidence.named["referral_open"]
    writers: dict[str, Callable[[], str]] = {
        "Resolves": lambda: (
            f"{name} fell, and the data rule out demand moving to the other services measured."
        ),
        "Displaces": lambda: (
            f"{name} fell, but demand moved elsewhere: "
            f"{_names(evidence.named['displacement_rises'])} rose."
        ),
        "Refers on": lambda: (
            f"{name} fell, but more people were referred on: "
            f"{_names(evidence.named['referral_rises'])} rose."
        ),
        "Worsens": lambda: f"{name} moved in the wrong direction after the scheme began.",
        "No detectable change": lambda: (
            f"{name} did not change by an important amount "
            "either way (shown by an equivalence test)."
        ),
    }
    if rule.verdict in writers:
        return writers[rule.verdict]()
    if not primary or primary[0].estimate is None:
        return f"{name} could not be estimated, so no verdict is possible."
    if evidence.holds["primary_improves"] and still_open and not elsewhere:
        return f"{name} fell; whether demand moved to {_names(still_open)} cannot yet be ruled out."
    return (
        f"The data cannot tell whether {lower_first(name)} changed by an important amount: "
        "the interval is too wide."
    )


def _rule_text(rule: Rule, evidence: Evidence, number: int) -> str:
    detail = rule.reason or ", ".join(rule.when)
    named = []
    for condition in rule.when:
        key = condition if condition.endswith("_rises") else None
        if key and evidence.named.get(key):
            named.append(f"{condition.replace('_', ' ')}: {_names(evidence.named[key])}")
    if rule.when == ["always"] or rule.verdict == "Inconclusive":
        still_open = evidence.named["displacement_open"] + evidence.named["referral_open"]
        if evidence.holds["primary_improves"] and still_open:
            named.append(f"not ruled out: {_names(still_open)}")
    suffix = f" ({'; '.join(named)})" if named else ""
    return f"Rule {number} of the protocol: {detail}{suffix}"


def decide(results: Sequence[OutcomeResult], decision: Decision) -> Verdict:
    """Apply the protocol's rules, in order, to one run's outcome results."""
    evidence = evaluate(results, decision)
    for number, rule in enumerate(decision.rules, start=1):
        if all(evidence.holds[condition] for condition in rule.when):
            return Verdict(
                label=rule.verdict,
                rule=_rule_text(rule, evidence, number),
                sentence=_sentence(rule, evidence),
            )
    raise AssertionError("the protocol's last rule is a catch-all; validation guarantees it")
