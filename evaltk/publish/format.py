"""Numbers for people: effects, intervals, p-values and counts in plain words.

Conventions a reader could guess wrong:

- A *ratio* is the level change on the rate-ratio scale: 0.72 means 28 % lower than the
  counterfactual, 1.19 means 19 % higher. Percentages below 10 keep one decimal (``4.5 %``),
  larger ones none (``28 %``), because a tenth of a point is noise at that size.
- Intervals name the smaller change first and the direction once when both ends agree
  (``19 % to 36 % lower``); when they straddle no change, each end carries its own direction
  (``10 % lower to 4.0 % higher``).
- ``averted`` is counterfactual minus observed, so a positive number is *fewer* events.
- A missing or non-finite number is shown as an en dash, never as ``nan``.

Every function returns plain text. Escaping for Markdown happens later, in the templates.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence

from evaltk.episodes.forces import force_name
from evaltk.estimators.render import format_level
from evaltk.results.schema import Cumulative, OutcomeResult

MISSING = "–"

_CLASS_WORDS = {
    "resolution": "Resolution",
    "displacement": "Displacement",
    "referral": "Referral",
    "cost": "Cost",
    "safety": "Safety",
}

_DESIGN_WORDS = {
    "its": "Interrupted time series",
    "cits": "Comparative interrupted time series",
    "did": "Difference-in-differences",
    "did_2x2": "Difference-in-differences (2×2)",
    "twfe": "Difference-in-differences (two-way fixed effects)",
    "event_study": "Event study",
    "staggered": "Staggered difference-in-differences (Callaway & Sant'Anna)",
    "staggered_did": "Staggered difference-in-differences (Callaway & Sant'Anna)",
}

_INTERVENTION_WORDS = {
    "street_triage": "Street triage",
    "control_room_nurse": "Control-room nurse",
    "right_care_right_person": "Right Care, Right Person",
    "other": "Other scheme",
}

_MULTIPLICITY_WORDS = {
    "holm": "the Holm step-down method",
    "benjamini_hochberg": "the Benjamini–Hochberg method (false discovery rate)",
}

_REGISTRATION_WORDS = {
    "registered": "Registered",
    "unregistered": "Not registered",
    "exploratory": "Exploratory (not confirmatory)",
}


def finite(value: float | None) -> float | None:
    """``value`` if it is a finite number, else None (NaN and infinities count as missing)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def percent(change: float) -> str:
    """An unsigned percentage: ``28 %``, ``4.5 %``; one decimal below 10."""
    size = abs(change)
    if round(size, 1) < 10:
        return f"{size:.1f} %"
    return f"{size:.0f} %"


def _signed_change(ratio: float) -> float:
    return (ratio - 1.0) * 100.0


def _is_zero_percent(change: float) -> bool:
    return round(abs(change), 1) == 0


def ratio_change(ratio: float | None) -> str:
    """A rate ratio as a change in words.

    Examples
    --------
    >>> ratio_change(0.72)
    '28 % lower'
    >>> ratio_change(1.19)
    '19 % higher'
    >>> ratio_change(1.0)
    'no change'
    """
    ratio = finite(ratio)
    if ratio is None:
        return MISSING
    change = _signed_change(ratio)
    if _is_zero_percent(change):
        return "no change"
    return f"{percent(change)} {'higher' if change > 0 else 'lower'}"


def ratio_interval(low: float | None, high: float | None) -> str:
    """A rate-ratio interval in words: ``19 % to 36 % lower``, ``10 % lower to 4.0 % higher``."""
    low, high = finite(low), finite(high)
    if low is None or high is None:
        return MISSING
    a, b = sorted((_signed_change(low), _signed_change(high)))
    return _signed_interval(a, b, percent, lambda value: ratio_change(1 + value / 100))


def difference_change(difference: float | None) -> str:
    """A difference in the measure's units in words: ``3.1 higher``, ``12 lower``."""
    difference = finite(difference)
    if difference is None:
        return MISSING
    if difference == 0:
        return "no change"
    return f"{number(abs(difference))} {'higher' if difference > 0 else 'lower'}"


def difference_interval(low: float | None, high: float | None) -> str:
    """A difference interval in words: ``0.5 to 6.7 higher``, ``0.5 lower to 6.7 higher``."""
    low, high = finite(low), finite(high)
    if low is None or high is None:
        return MISSING
    a, b = sorted((low, high))
    return _signed_interval(a, b, lambda value: number(abs(value)), difference_change)


def _signed_interval(
    a: float, b: float, size: Callable[[float], str], words: Callable[[float], str]
) -> str:
    # Both ends on one side: say the direction once, smaller change first. An end that rounds
    # to no change is not on either side, so it falls through to the two-direction form.
    if a > 0 and words(a) != "no change":
        return f"{size(a)} to {size(b)} higher"
    if b < 0 and words(b) != "no change":
        return f"{size(b)} to {size(a)} lower"
    return f"{words(a)} to {words(b)}"


def change(result: OutcomeResult) -> str:
    """The outcome's estimate in words, on its own scale."""
    if result.scale == "ratio":
        return ratio_change(result.estimate)
    return difference_change(result.estimate)


def interval(result: OutcomeResult) -> str:
    """The outcome's confidence interval in words, on its own scale."""
    if result.scale == "ratio":
        return ratio_interval(result.ci_low, result.ci_high)
    return difference_interval(result.ci_low, result.ci_high)


def change_with_interval(result: OutcomeResult, level: float) -> str:
    """``28 % lower (95 % CI 19 % to 36 % lower)``, at the run's ``interval_level``."""
    words = change(result)
    if words == MISSING:
        return "not estimated"
    span = interval(result)
    if span == MISSING:
        return words
    return f"{words} ({ci_label(level)} {span})"


def share_percent(share: float) -> str:
    """A proportion as a percentage to at most six decimals, never rounded to whole percents:
    ``0.8`` -> ``80 %`` (a target power), ``0.975`` -> ``97.5 %``."""
    return format_level(share)


def ci_label(level: float) -> str:
    """``95 % CI`` for ``interval_level`` 0.95."""
    return f"{format_level(level)} CI"


def p_value(p: float | None, *, prose: bool = False) -> str:
    """A p-value as people write it.

    Below 0.001 it is written ``< 0.001``; below 0.1 with three decimals (so that 0.049 and
    0.051 stay apart); otherwise with two; above 0.99 as ``> 0.99``. With ``prose=True`` the
    ``p`` is included: ``p < 0.001``, ``p = 0.012``.

    Examples
    --------
    >>> p_value(0.0004)
    '< 0.001'
    >>> p_value(0.0123, prose=True)
    'p = 0.012'
    """
    p = finite(p)
    if p is None:
        return MISSING
    if p < 0.001:
        text, sign = "0.001", "<"
    elif p > 0.99:
        text, sign = "0.99", ">"
    elif p < 0.1:
        text, sign = f"{p:.3f}", "="
    else:
        text, sign = f"{p:.2f}", "="
    if prose:
        return f"p {sign} {text}"
    return text if sign == "=" else f"{sign} {text}"


def number(value: float | None) -> str:
    """A quantity for people: thousands separated, whole above 100, three figures below."""
    value = finite(value)
    if value is None:
        return MISSING
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}".removesuffix(".0")
    if size == 0:
        return "0"
    return f"{value:.3g}"


def amount(value: float | None) -> str:
    """A modelled total, rounded as a person would quote it: whole above 10, else one decimal.

    Totals of events and minutes come from a model; ``4.86 events`` suggests a precision that
    is not there.
    """
    value = finite(value)
    if value is None:
        return MISSING
    if abs(value) >= 10:
        return f"{value:,.0f}"
    return f"{value:.1f}"


def count(value: int | None) -> str:
    """A whole count with thousands separators: ``12,345``."""
    if value is None:
        return MISSING
    return f"{value:,}"


def averted(cumulative: Cumulative | None) -> str:
    """Events averted over the post period, in words, with its interval.

    ``about 1,230 fewer events (800 to 1,600 fewer)``; a negative ``averted`` reads as
    ``more``. A measure that cannot be summed (a mean on the identity scale) says so.
    """
    if cumulative is None or cumulative.unit == "not additive":
        return "not additive" if cumulative is not None else MISSING
    value = finite(cumulative.averted)
    if value is None:
        return MISSING
    unit = cumulative.unit

    def words(total: float) -> str:
        if total == 0:
            return "no difference"
        return f"{amount(abs(total))} {'fewer' if total > 0 else 'more'}"

    text = "no difference" if words(value) == "no difference" else f"about {words(value)} {unit}"
    low, high = finite(cumulative.ci_low), finite(cumulative.ci_high)
    if low is None or high is None:
        return text
    a, b = sorted((low, high))
    if a > 0 and words(a) != "no difference":
        span = f"{amount(a)} to {amount(b)} fewer"
    elif b < 0 and words(b) != "no difference":
        span = f"{amount(abs(b))} to {amount(abs(a))} more"
    else:
        span = f"{words(a)} to {words(b)}"
    return f"{text} ({span})"


def outcome_class(name: str) -> str:
    """``displacement`` -> ``Displacement``."""
    return _CLASS_WORDS.get(name, name.replace("_", " ").capitalize())


def good_direction(direction: str) -> str:
    """The direction that would be good, as a verb: ``fall`` or ``rise``."""
    return {"decrease": "fall", "increase": "rise"}.get(direction, direction)


def design(name: str) -> str:
    """A design code in words: ``its`` -> ``Interrupted time series``; unknown codes unchanged."""
    return _DESIGN_WORDS.get(name.strip().lower(), name)


def intervention(kind: str) -> str:
    """The scheme's kind code in words: ``street_triage`` -> ``Street triage``.

    Unknown codes are shown with spaces for underscores.
    """
    return _INTERVENTION_WORDS.get(kind, kind.replace("_", " ").capitalize())


def multiplicity(method: str) -> str | None:
    """The correction across secondary outcomes, as a noun phrase; None for ``none``.

    ``holm`` -> ``the Holm step-down method``; an unknown code is named as it is.
    """
    if method == "none":
        return None
    return _MULTIPLICITY_WORDS.get(method, f"the {method.replace('_', ' ')} method")


def registration(status: str) -> str:
    """``unregistered`` -> ``Not registered``."""
    return _REGISTRATION_WORDS.get(status, status)


def month(iso_date: str) -> str:
    """``2016-04-01`` -> ``April 2016``; anything unparseable is returned unchanged."""
    try:
        return dt.date.fromisoformat(iso_date[:10]).strftime("%B %Y")
    except ValueError:
        return iso_date


def units(codes: Sequence[str]) -> str:
    """'Nottinghamshire (E23000019), Derbyshire (E23000018)'; unknown codes stay as they are."""
    return ", ".join(
        f"{force_name(code)} ({code})" if force_name(code) != code else code for code in codes
    )
