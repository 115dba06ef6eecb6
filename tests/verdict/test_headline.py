"""Headlines of difference-scale effects say what was measured, per what, per month, and
against what pre-start level; intervals read low to high in words."""

from __future__ import annotations

import datetime as dt

from evaltk.results.schema import OutcomeResult
from evaltk.verdict.headline import (
    difference_interval,
    headline,
    measure_phrase,
    measured,
    outcome_text,
)
from tests.verdict.test_rules import outcome


def difference(
    label: str, aggregate: str, estimate: float, ci: tuple[float, float], baseline: float | None
) -> OutcomeResult:
    base = outcome("x", estimate, ci, 0.01, role="primary", scale="difference")
    return base.model_copy(update={"label": label, "aggregate": aggregate, "baseline": baseline})


def test_measure_phrase_by_kind() -> None:
    assert measure_phrase("rate") == ("per 100,000 residents", "per month")
    assert measure_phrase("rate", 1000) == ("per 1,000 residents", "per month")
    assert measure_phrase("count") == ("per month",)
    assert measure_phrase("sum") == ("per month",)
    assert measure_phrase("mean") == ("per incident",)
    assert measure_phrase("share") == ()


def test_label_gains_only_what_it_does_not_say() -> None:
    phrase = measure_phrase("rate")
    assert measured("Section 136 detentions per 100,000 residents", phrase) == (
        "Section 136 detentions per 100,000 residents per month"
    )
    assert measured("Section 136 detentions", phrase) == (
        "Section 136 detentions per 100,000 residents per month"
    )
    assert measured("Detentions per month", ("per month",)) == "Detentions per month"


def test_intervals_read_low_to_high_in_words() -> None:
    # Lower limit first, each end with its direction, as the book writes every interval.
    assert difference_interval(-1.12, -0.0631, "rate") == "1.12 lower to 0.0631 lower"
    assert difference_interval(-0.0631, -1.12, "rate") == "1.12 lower to 0.0631 lower"
    assert difference_interval(0.2, 0.9, "count") == "0.2 higher to 0.9 higher"
    assert difference_interval(0.0, 0.9, "count") == "no change to 0.9 higher"
    assert difference_interval(-0.3, 0.2, "count") == "0.3 lower to 0.2 higher"
    assert difference_interval(-0.017, 0.349, "share") == (
        "1.7 percentage points lower to 34.9 percentage points higher"
    )


def test_rate_difference_headline_states_unit_time_base_and_baseline() -> None:
    # 0.445 / 1.474 = 30.2 % of the pre-start level.
    result = difference(
        "Section 136 detentions per 100,000 residents", "rate", -0.445, (-1.12, -0.0631), 1.474
    )
    assert outcome_text(result, 0.95, None) == (
        "Section 136 detentions per 100,000 residents per month were 0.445 lower than "
        "expected without the scheme (95 % CI 1.12 lower to 0.0631 lower; 30 % of the pre-start "
        "level of 1.47)"
    )
    # The run passes each outcome's own phrase (its measure's `per`).
    text = headline(
        [result.model_copy(update={"label": "Section 136 detentions"})],
        scheme="the scheme",
        start=dt.date(2016, 4, 1),
        places="Leicestershire",
        alpha=0.05,
        level=0.95,
        phrases={"x": measure_phrase("rate", 10_000)},
    )
    assert text.startswith(
        "After the scheme began in Leicestershire in April 2016, Section 136 detentions per "
        "10,000 residents per month were 0.445 lower"
    )


def test_share_difference_reads_in_percentage_points() -> None:
    # 0.0777 / 0.322 = 24 % of the pre-start share.
    result = difference("Share of s136 detentions at A&E", "share", 0.0777, (-0.017, 0.349), 0.322)
    assert outcome_text(result, 0.95, None) == (
        "share of s136 detentions at A&E was 7.77 percentage points higher than expected "
        "without the scheme (95 % CI 1.7 percentage points lower to 34.9 percentage points "
        "higher; 24 % of the pre-start level of 32.2 %)"
    )


def test_without_baseline_no_percentage_and_ratio_unchanged() -> None:
    result = difference("Officer minutes", "mean", 5.0, (1.0, 9.0), None)
    assert outcome_text(result, 0.95, None) == (
        "officer minutes per incident were 5 higher than expected without the scheme "
        "(95 % CI 1 higher to 9 higher)"
    )
    ratio = outcome("s136", 0.8, (0.7, 0.9), 0.01)
    assert outcome_text(ratio, 0.95, None) == (
        "s136 were 20 % lower than expected without the scheme (95 % CI 30 % lower to 10 % lower)"
    )
