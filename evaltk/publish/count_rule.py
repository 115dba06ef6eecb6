"""The one rule by which the book publishes a count of people's records or events.

A count from 1 to ``threshold - 1`` (1-4 by default) is suppressed (``null`` in JSON, empty in
CSV, "suppressed" on a page); zero is published as 0; every other count is rounded to the
nearest ``round_to`` (5 by default, halves up), and never to 0. Totals are rounded from their
own unrounded values, not summed from rounded parts, so a published total may differ from the
sum of its published parts by a few.

This is the rule NHS England (NHS Digital) applies to its secondary-care statistics since 2018
("Disclosure control methodology for Hospital Episode Statistics (HES) and Emergency Care Data
Set (ECDS)", https://digital.nhs.uk/data-and-information/data-tools-and-services/data-services/
hospital-episode-statistics/change-to-disclosure-control-methodology-for-hes-and-ecds-from-
september-2018): small counts replaced by ``*``, every other count below national level
rounded to the nearest 5. That page explains why it replaced manual secondary suppression:
checking by hand that no suppressed value can be recalculated from the others is slow and
error-prone, and rounding every count makes recalculation from differences imprecise by
construction. evaltk keeps the protocol's threshold (suppress 1-4, as the Mental Health
Bulletin and the issue that asked for this rule do; a protocol may raise it to 8 for HES's
1-7) and still proves, table by table, that no suppressed count can be recalculated
(:mod:`evaltk.publish.differencing`).

Zero stays 0: an exact zero identifies nobody (there is no one to find), rounding 0 to the
nearest 5 gives 0 under the NHS rule, and a reader needs to see that an exclusion or a link
never happened. Because 1-4 are suppressed and larger counts never round to 0, a published 0
always means exactly none.

Shares (linked share, excluded share) are computed from the published, rounded counts: a
share of the unrounded counts printed to many digits would give the unrounded numerator back.
"""

from __future__ import annotations

import math

from evaltk.results.schema import DisclosureSettings

#: NHS England's rounding base, used when the protocol names none.
NHS_ROUND_TO = 5

#: What a reader knows of one count: its smallest and largest possible value (None: no bound).
Range = tuple[int, int | None]


def rule_of(settings: DisclosureSettings | None) -> tuple[int, int]:
    """``(threshold, base)`` of the rule: the protocol's values, NHS England's by default."""
    settings = settings or DisclosureSettings()
    return settings.threshold, settings.round_to or NHS_ROUND_TO


def publish_count(value: float | None, settings: DisclosureSettings | None) -> int | None:
    """``value`` as the book publishes it: None (suppressed), 0, or a multiple of the base.

    Parameters
    ----------
    value : float or None
        A whole count of records or events (None: already not published).
    settings : DisclosureSettings or None
        The protocol's ``disclosure`` block (NHS England's 1-4 and 5 when None).

    Returns
    -------
    int or None
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    threshold, base = rule_of(settings)
    count = round(value)
    if count <= 0:
        return count  # 0 is published as 0; a negative count is not a count of people
    if count < threshold:
        return None
    return max(base, math.floor(count / base + 0.5) * base)


def known_range(published: int | None, settings: DisclosureSettings | None) -> Range:
    """What a reader who knows the rule can say of a count from its published value.

    None stands for a count from 1 to ``threshold - 1``; 0 for exactly 0; a rounded ``r`` for
    every count at or above the threshold that rounds to ``r`` (``[r - 2, r + 2]`` with base 5,
    ``[5, 7]`` for 5 since 3 and 4 are suppressed).
    """
    threshold, base = rule_of(settings)
    if published is None:
        return (1, threshold - 1)
    if published <= 0:
        return (published, published)
    high = math.ceil(published + base / 2) - 1
    low = threshold if published == base else max(threshold, math.ceil(published - base / 2))
    return (low, high)


def published_share(numerator: int | None, denominator: int | None) -> float | None:
    """A share of two published counts (None when either is suppressed or the base is 0)."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator
