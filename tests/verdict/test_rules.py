"""The verdict rule, one branch at a time, on hand-made outcome results."""

from __future__ import annotations

import pytest

from evaltk.estimators.effect import std_error_from_interval
from evaltk.protocol.spec import Decision
from evaltk.results.schema import OutcomeResult
from evaltk.verdict.equivalence import equivalence_fields, tost_p
from evaltk.verdict.headline import headline, percent_change
from evaltk.verdict.multiplicity import adjust
from evaltk.verdict.rules import decide

DECISION = Decision(alpha=0.05, minimum_important_change=0.10)


def outcome(
    name: str,
    estimate: float,
    ci: tuple[float, float],
    p: float,
    *,
    role: str = "secondary",
    outcome_class: str = "displacement",
    scale: str = "ratio",
) -> OutcomeResult:
    se = std_error_from_interval(*ci, 0.95, "ratio") if scale == "ratio" else None
    return OutcomeResult(
        std_error=se,
        **equivalence_fields(estimate, se, scale, "decrease", DECISION.minimum_important_change),
        outcome=name,
        label=name.replace("_", " ").capitalize(),
        role=role,  # type: ignore[arg-type]
        outcome_class=outcome_class,  # type: ignore[arg-type]
        direction="decrease",
        aggregate="count",
        design="its",
        estimator="test",
        estimate=estimate,
        ci_low=ci[0],
        ci_high=ci[1],
        p_value=p,
        p_adjusted=p,
        scale=scale,  # type: ignore[arg-type]
        n_units=1,
        n_periods=72,
        slope_change=None,
        trend_per_year=None,
        cumulative=None,
        diagnostics=None,
        figure=None,
    )


PRIMARY_DOWN = outcome("s136", 0.70, (0.62, 0.79), 1e-6, role="primary", outcome_class="resolution")


def test_displacement_rising_significantly_gives_displaces() -> None:
    verdict = decide([PRIMARY_DOWN, outcome("ae", 1.2, (1.1, 1.31), 0.001)], DECISION)
    assert verdict.label == "Displaces"
    assert verdict.rule.startswith("Rule 3 of the protocol")
    assert "displacement rises: ae" in verdict.rule


def test_referral_rising_gives_refers_on() -> None:
    results = [
        PRIMARY_DOWN,
        outcome("ae", 1.0, (0.97, 1.03), 0.9),
        outcome("referrals", 1.25, (1.15, 1.36), 1e-5, outcome_class="referral"),
    ]
    assert decide(results, DECISION).label == "Refers on"


def test_resolves_needs_displacement_ruled_out_not_just_insignificant() -> None:
    tight = outcome("ae", 1.01, (0.97, 1.05), 0.6)
    assert decide([PRIMARY_DOWN, tight], DECISION).label == "Resolves"
    wide = outcome("ae", 1.05, (0.85, 1.30), 0.6)  # not significant, but +30 % not excluded
    verdict = decide([PRIMARY_DOWN, wide], DECISION)
    assert verdict.label == "Inconclusive"
    assert "not ruled out: ae" in verdict.rule
    assert "cannot yet be ruled out" in verdict.sentence


def test_primary_not_significant() -> None:
    narrow = outcome("s136", 1.0, (0.95, 1.05), 0.9, role="primary", outcome_class="resolution")
    assert decide([narrow], DECISION).label == "No detectable change"
    wide = outcome("s136", 0.9, (0.7, 1.15), 0.4, role="primary", outcome_class="resolution")
    assert decide([wide], DECISION).label == "Inconclusive"


def test_primary_worse() -> None:
    up = outcome("s136", 1.3, (1.1, 1.5), 0.001, role="primary", outcome_class="resolution")
    assert decide([up], DECISION).label == "Worsens"


def test_holm_adjustment_matches_hand_computation() -> None:
    # Holm: sorted p (0.01, 0.02, 0.04) * (3, 2, 1) = (0.03, 0.04, 0.04 after monotonicity).
    assert adjust([0.04, 0.01, None, 0.02], "holm") == pytest.approx([0.04, 0.03, None, 0.04])
    assert adjust([0.04, 0.01], "none") == [0.04, 0.01]


def test_headline_words() -> None:
    assert percent_change(0.72) == "28 % lower"
    assert percent_change(1.19) == "19 % higher"
    text = headline(
        [PRIMARY_DOWN, outcome("ae", 1.2, (1.1, 1.31), 0.001)],
        scheme="street triage",
        start=__import__("datetime").date(2016, 4, 1),
        places="Nottinghamshire",
        alpha=0.05,
        level=0.95,
    )
    assert text.startswith("After street triage began in Nottinghamshire in April 2016, s136")
    assert "30 % lower than expected without the scheme (95 % CI 38 % lower to 21 % lower)" in text
    assert "ae were 20 % higher" in text


def test_tost_matches_hand_computation() -> None:
    # log(1.01) = 0.00995; se 0.02; margin 0.10: upper z = (0.00995 - 0.09531) / 0.02 = -4.268,
    # lower z = (0.00995 + 0.10536) / 0.02 = 5.766; TOST p = max(Phi(-4.268), 1 - Phi(5.766)).
    import math

    from scipy import stats

    p = tost_p(math.log(1.01), 0.02, 0.10)
    assert p == pytest.approx(stats.norm.cdf(-4.2679), rel=1e-3)
    assert tost_p(math.log(1.15), 0.02, 0.10) > 0.5  # outside the margin: not equivalent


def test_custom_rules_from_the_protocol_are_followed() -> None:
    from evaltk.protocol.spec import Rule

    strict = DECISION.model_copy(
        update={
            "rules": [
                Rule(verdict="Resolves", when=["primary_improves"]),
                Rule(verdict="Inconclusive", when=["always"]),
            ]
        }
    )
    displaced = [PRIMARY_DOWN, outcome("ae", 1.2, (1.1, 1.31), 0.001)]
    assert decide(displaced, strict).label == "Resolves"
    assert decide(displaced, DECISION).label == "Displaces"


def test_protocol_rules_must_end_with_a_catch_all() -> None:
    from pydantic import ValidationError

    from evaltk.protocol.spec import Rule

    with pytest.raises(ValidationError, match="catch-all"):
        Decision(rules=[Rule(verdict="Resolves", when=["primary_improves"])])
