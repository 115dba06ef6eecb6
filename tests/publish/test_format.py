"""Numbers for people: one rule per test, with the reason where a reader could guess wrong."""

from __future__ import annotations

import math

import pytest

from evaltk.publish import format as fmt
from evaltk.results.schema import Cumulative

from .conftest import make_result


@pytest.mark.parametrize(
    ("ratio", "words"),
    [
        (0.72, "28 % lower"),
        (1.19, "19 % higher"),
        (1.0, "no change"),
        (0.9996, "no change"),  # rounds to 0.0 %
        (0.955, "4.5 % lower"),  # one decimal below 10 %
        (1.0996, "10 % higher"),  # 9.96 rounds up to 10: no decimal
        (2.5, "150 % higher"),
    ],
)
def test_ratio_change(ratio: float, words: str) -> None:
    assert fmt.ratio_change(ratio) == words


@pytest.mark.parametrize(
    ("low", "high", "words"),
    [
        (0.64, 0.81, "36 % lower to 19 % lower"),  # lower limit first, each end its direction
        (0.81, 0.64, "36 % lower to 19 % lower"),  # order of the bounds does not matter
        (1.08, 1.31, "8.0 % higher to 31 % higher"),
        (0.90, 1.04, "10 % lower to 4.0 % higher"),
        (1.0, 1.2, "no change to 20 % higher"),
    ],
)
def test_ratio_interval(low: float, high: float, words: str) -> None:
    assert fmt.ratio_interval(low, high) == words


@pytest.mark.parametrize("bad", [None, math.nan, math.inf])
def test_missing_numbers_are_a_dash_never_nan(bad: float | None) -> None:
    assert fmt.ratio_change(bad) == fmt.MISSING
    assert fmt.ratio_interval(bad, 1.2) == fmt.MISSING
    assert fmt.p_value(bad) == fmt.MISSING
    assert fmt.number(bad) == fmt.MISSING


@pytest.mark.parametrize(
    ("difference", "words"),
    [(3.14159, "3.14 higher"), (-12.04, "12 lower"), (0.0, "no change"), (-1234.5, "1,234 lower")],
)
def test_difference_change(difference: float, words: str) -> None:
    assert fmt.difference_change(difference) == words


def test_difference_interval() -> None:
    assert fmt.difference_interval(-0.5, 6.7) == "0.5 lower to 6.7 higher"
    assert fmt.difference_interval(0.5, 6.7) == "0.5 higher to 6.7 higher"
    assert fmt.difference_interval(-6.7, -0.5) == "6.7 lower to 0.5 lower"


@pytest.mark.parametrize(
    ("p", "table", "prose"),
    [
        (0.00001, "< 0.001", "p < 0.001"),
        (0.001, "0.001", "p = 0.001"),
        (0.0123, "0.012", "p = 0.012"),
        (0.0496, "0.050", "p = 0.050"),  # three decimals below 0.1 keep 0.049 and 0.051 apart
        (0.512, "0.51", "p = 0.51"),
        (0.999, "> 0.99", "p > 0.99"),
    ],
)
def test_p_value(p: float, table: str, prose: str) -> None:
    assert fmt.p_value(p) == table
    assert fmt.p_value(p, prose=True) == prose


def test_change_with_interval_names_the_level() -> None:
    primary = make_result().outcome("s136_rate")
    assert fmt.change_with_interval(primary, 0.95) == (
        "28 % lower (95 % CI 36 % lower to 19 % lower)"
    )
    assert fmt.change_with_interval(primary, 0.9) == "28 % lower (90 % CI 36 % lower to 19 % lower)"
    no_interval = primary.model_copy(update={"ci_low": None})
    assert fmt.change_with_interval(no_interval, 0.95) == "28 % lower"
    no_estimate = primary.model_copy(update={"estimate": None})
    assert fmt.change_with_interval(no_estimate, 0.95) == "not estimated"


@pytest.mark.parametrize(
    ("level", "label"),
    [(0.95, "95 % CI"), (0.9, "90 % CI"), (0.995, "99.5 % CI"), (0.8, "80 % CI")],
)
def test_ci_label_has_no_float_noise(level: float, label: str) -> None:
    assert fmt.ci_label(level) == label


def _cumulative(averted: float, low: float, high: float, unit: str = "events") -> Cumulative:
    return Cumulative(
        averted=averted, ci_low=low, ci_high=high, observed=1.0, counterfactual=1.0, unit=unit
    )


def test_averted_reads_positive_as_fewer_and_negative_as_more() -> None:
    assert fmt.averted(_cumulative(412.6, 301.2, 520.9)) == (
        "about 413 fewer events (301 fewer to 521 fewer)"
    )
    assert fmt.averted(_cumulative(-160.4, -231.0, -88.5)) == (
        "about 160 more events (231 more to 88 more)"
    )
    assert fmt.averted(_cumulative(120, -50, 290, "minutes")) == (
        "about 120 fewer minutes (50 more to 290 fewer)"
    )


def test_averted_not_additive_and_missing() -> None:
    assert fmt.averted(_cumulative(1.0, 0.0, 2.0, "not additive")) == "not additive"
    assert fmt.averted(None) == fmt.MISSING


def test_averted_small_totals_keep_one_decimal_only() -> None:
    assert fmt.averted(_cumulative(-4.86, -70.1, 60.4)) == (
        "about 4.9 more events (70 more to 60 fewer)"
    )


def test_number_amount_and_count() -> None:
    assert fmt.amount(1462.6) == "1,463"
    assert fmt.amount(9.42) == "9.4"
    assert fmt.number(12345.6) == "12,346"
    assert fmt.number(0.0123) == "0.0123"
    assert fmt.count(1234567) == "1,234,567"


def test_whole_percentages_for_commissioners() -> None:
    primary = (
        make_result()
        .outcome("s136_rate")
        .model_copy(update={"estimate": 0.955, "ci_low": 0.912, "ci_high": 1.004})
    )
    assert fmt.change_with_interval(primary, 0.95) == (
        "4.5 % lower (95 % CI 8.8 % lower to 0.4 % higher)"
    )
    assert fmt.change_with_interval(primary, 0.95, whole=True) == (
        "5 % lower (95 % CI 9 % lower to no change)"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (639_408.2, "£639k"),
        (-639_408.2, "£639k"),  # unsigned: the words say saved or added
        (57_317.0, "£57.3k"),
        (2_484_683.0, "£2.48m"),
        (999_999.0, "£1.00m"),  # rounds up across the unit
        (9_863.0, "£9,860"),
        (45.0, "£45"),
        (0.0, "£0"),
    ],
)
def test_money_to_three_significant_figures(value: float, text: str) -> None:
    assert fmt.money(value) == text


def test_totals_to_three_significant_figures() -> None:
    assert fmt.total(3_958.7) == "3,960"
    assert fmt.total(-410.2) == "410"
    assert fmt.total(272_073.0) == "272,000"
    assert fmt.total(4.86) == "4.9"


def test_words_for_codes() -> None:
    assert fmt.design("its") == "Interrupted time series"
    assert fmt.design("something-new") == "something-new"  # unknown codes shown as they are
    assert fmt.registration("unregistered") == "Not registered"
    assert fmt.intervention("street_triage") == "Street triage"
    assert fmt.intervention("control_room_nurse") == "Control-room nurse"
    assert fmt.intervention("right_care_right_person") == "Right Care, Right Person"
    assert fmt.intervention("other") == "Other scheme"
    assert fmt.intervention("crisis_cafe") == "Crisis cafe"  # a future code stays readable
    assert fmt.multiplicity("holm") == "the Holm step-down method"
    assert fmt.multiplicity("benjamini_hochberg") == (
        "the Benjamini–Hochberg method (false discovery rate)"
    )
    assert fmt.multiplicity("none") is None
    assert fmt.outcome_class("displacement") == "Displacement"
    assert fmt.good_direction("decrease") == "fall"
    assert fmt.month("2016-04-01") == "April 2016"
    assert fmt.month("spring") == "spring"


def test_units_name_known_forces_and_keep_other_codes() -> None:
    assert fmt.units(["E23000019", "sicily"]) == "Nottinghamshire (E23000019), sicily"
