"""Words for the commissioners' section: signs become 'saved' and 'added'."""

from __future__ import annotations

from evaltk.publish.commissioners import hours, per_detention, pounds
from evaltk.results.schema import Interval


def test_pounds_name_the_direction_at_each_end() -> None:
    added = Interval(estimate=-744_103.5, ci_low=-1_137_470.3, ci_high=-360_430.7)
    assert pounds(added, 0.95) == "£744,104 added (95 % CI £1,137,470 added to £360,431 added)"
    mixed = Interval(estimate=1_000.0, ci_low=-500.0, ci_high=2_500.0)
    assert pounds(mixed, 0.9) == "£1,000 saved (90 % CI £500 added to £2,500 saved)"


def test_hours_and_missing_cost_per_detention() -> None:
    police = Interval(estimate=-2812.9, ci_low=-5989.4, ci_high=409.5)
    assert hours(police, 0.95, saved="released") == (
        "2,813 hours added (95 % CI 5,989 hours added to 410 hours released)"
    )
    assert per_detention(None, 0.95).startswith("not stated: the interval for detentions")
    assert per_detention(Interval(estimate=11851.2, ci_low=4952.9, ci_high=69793.3), 0.95) == (
        "£11,851 (95 % CI £4,953 to £69,793)"
    )
