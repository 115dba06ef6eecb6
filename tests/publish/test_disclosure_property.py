"""Property tests of the book's one count rule and of its defence against differencing.

The adversary here is independent of :mod:`evaltk.publish.differencing` (which solves integer
programmes): it enumerates every true table that publishes as the book did, and asks whether a
suppressed count takes a single value in all of them.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from evaltk.errors import PublishError
from evaltk.publish.count_rule import known_range, publish_count
from evaltk.publish.differencing import SCOPE_REASONS, check_tables, published_tables
from evaltk.publish.disclosure import protect_data, protect_result
from evaltk.results.schema import DataSummary, DisclosureSettings

from .conftest import make_result

NHS = DisclosureSettings()


@given(st.integers(min_value=0, max_value=2_000_000))
def test_never_a_published_1_to_4_and_every_count_a_multiple_of_5(value):
    shown = publish_count(value, NHS)
    if 1 <= value <= 4:
        assert shown is None
    else:
        assert shown is not None and shown % 5 == 0 and abs(shown - value) <= 2
        assert (shown == 0) == (value == 0)  # a published 0 is exactly none
    low, high = known_range(shown, NHS)
    assert low <= value and (high is None or value <= high)


REASONS = ("unit not in protocol", "timestamp missing", "duplicate episode id", "code not allowed")


@st.composite
def exclusion_tables(draw):
    """rows used up to a few thousand; two to four reasons with 0-6 rows each."""
    used = draw(st.integers(min_value=0, max_value=3_000))
    reasons = REASONS[: draw(st.integers(min_value=2, max_value=4))]
    excluded = {r: draw(st.integers(min_value=0, max_value=6)) for r in reasons}
    quality = sum(n for r, n in excluded.items() if r not in SCOPE_REASONS)
    in_scope = used + quality
    return DataSummary(
        path="episodes.csv",
        sha256="0" * 64,
        rows_in=used + sum(excluded.values()),
        rows_used=used,
        excluded=excluded,
        in_scope=in_scope,
        excluded_share=quality / in_scope if in_scope else 0.0,
    )


def _candidates(published, withheld: bool, ceiling: int):
    if withheld:  # the strongest reader is told it was withheld: at least 5
        return range(5, ceiling + 1)
    low, high = known_range(published, NHS)
    return range(low, (high if high is not None else low) + 1)


def _same(value: int, published: int | None) -> bool:
    """Whether a true total ``value`` is consistent with what was published for it (a null
    is a small count, or a withheld one)."""
    return value >= 1 if published is None else publish_count(value, NHS) == published


def _adversary(shown: DataSummary, truth: DataSummary) -> dict[str, set[int]]:
    """Every value each exclusion reason takes over all true tables consistent with what was
    published (rows read, used, in scope, each reason, and the excluded share). The
    adversary is told which counts were withheld by secondary suppression (more than a real
    reader knows)."""
    reasons = list(shown.excluded)
    ceiling = 3_100 if shown.rows_in is None else known_range(shown.rows_in, NHS)[1] or 0
    quality_published = (
        round(shown.excluded_share * shown.in_scope)
        if shown.excluded_share is not None and shown.in_scope
        else None
    )

    def withheld(published, true):
        return published is None and true >= 5

    # Stronger than a real reader again: told that no reason has more than 6 rows, and a
    # withheld rows-used count is derived from rows read instead of searched for.
    seen: dict[str, set[int]] = {r: set() for r in reasons}
    used_withheld = withheld(shown.rows_used, truth.rows_used)
    reason_values = [
        _candidates(shown.excluded[r], withheld(shown.excluded[r], truth.excluded[r]), 6)
        for r in reasons
    ]
    for values in itertools.product(*reason_values):
        if used_withheld:
            low, high = known_range(shown.rows_in, NHS) if shown.rows_in else (5, ceiling)
            used_values = range(max(5, low - sum(values)), (high or ceiling) - sum(values) + 1)
        else:
            used_values = _candidates(shown.rows_used, False, ceiling)
        for used in used_values:
            quality = sum(v for r, v in zip(reasons, values, strict=True) if r not in SCOPE_REASONS)
            if not _same(used + sum(values), shown.rows_in):
                continue
            if not _same(used + quality, shown.in_scope):
                continue
            if quality_published is not None and publish_count(quality, NHS) != quality_published:
                continue
            for r, v in zip(reasons, values, strict=True):
                seen[r].add(v)
    return seen


@settings(max_examples=60, deadline=None)
@given(exclusion_tables())
# HiGHS's presolve answers "infeasible or unbounded" for the largest possible excluded count
# here (nothing bounds rows read); the check must tell the two apart, not stop the build.
@example(
    DataSummary(
        path="episodes.csv",
        sha256="0" * 64,
        rows_in=12,
        rows_used=1,
        excluded={"unit not in protocol": 1, "timestamp missing": 5, "duplicate episode id": 5},
        in_scope=11,
        excluded_share=11 / 12,
    )
)
def test_no_difference_of_published_totals_pins_a_suppressed_reason(data):
    quality = data.in_scope - data.rows_used
    try:
        shown = protect_data("probe", data, NHS)
    except PublishError as error:
        # Refused only where a total is itself suppressed, so nothing rounded is left to
        # withhold (four reasons of 1 row each, 4 rows read: all four are 1).
        assert min(data.rows_in, data.in_scope, quality or 5) < 5, error
        assert str(error).startswith("probe: data report") and "\n" not in str(error)
        return
    for value in [shown.rows_in, shown.rows_used, shown.in_scope, *shown.excluded.values()]:
        assert value is None or value % 5 == 0
    seen = _adversary(shown, data)
    for reason, true in data.excluded.items():
        assert true in seen[reason]  # the adversary's model is right
        if 1 <= true <= 4:  # a small count (a withheld larger one may be pinned: not small)
            assert shown.excluded[reason] is None
            assert len(seen[reason]) >= 2, (reason, true, seen[reason], shown)
    # The published copy passes the book's own check.
    result = make_result().model_copy(update={"data": shown})
    check_tables(published_tables(result, None, "probe"))


@settings(max_examples=25, deadline=None)
@given(exclusion_tables())
@example(
    # Found by hypothesis: four rows read, one reason each; every total is small, nothing
    # rounded is left to withhold, so both refuse the table, with the same message.
    DataSummary(
        path="episodes.csv",
        sha256="0" * 64,
        rows_in=4,
        rows_used=1,
        excluded={"unit not in protocol": 1, "timestamp missing": 1, "duplicate episode id": 1},
        in_scope=3,
        excluded_share=3 / 4,
    )
)
def test_protect_result_publishes_the_same_data_report(data):
    result = make_result().model_copy(update={"data": data})
    try:
        expected = protect_data(result.analysis, data, NHS)
    except PublishError as refused:
        with pytest.raises(PublishError) as raised:
            protect_result(result)
        assert str(raised.value) == str(refused)
        return
    assert protect_result(result).data == expected
