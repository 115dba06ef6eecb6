"""Numbers for people: effects, intervals, p-values and counts in plain words.

Conventions a reader could guess wrong:

- A *ratio* is the level change on the rate-ratio scale: 0.72 means 28 % lower than the
  counterfactual, 1.19 means 19 % higher. Percentages below 10 keep one decimal (``4.5 %``),
  larger ones none (``28 %``), because a tenth of a point is noise at that size; with
  ``whole=True`` (the commissioners' section) every percentage is a whole number.
- Every interval is written lower limit first, each end with its own direction, on the scale
  of the quantity it bounds: a rate ratio from 0.64 to 0.81 is ``36 % lower to 19 % lower``,
  pounds (positive = saved) ``£858k added to £57.3k saved``, events averted (positive = fewer)
  ``301 fewer to 521 fewer``. One order everywhere, so that no reader has to work out which
  end is which.
- Money and modelled totals of hours are quoted to three significant figures (``£639k``,
  ``£2.48m``, ``3,960 hours``): a ledger built from modelled effects and illustrative unit
  costs is not known to the pound.
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
from evaltk.results.schema import Cumulative, Interval, OutcomeResult

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
    "synthetic_control": "Synthetic control (Abadie, Diamond & Hainmueller)",
    "synthetic_did": "Synthetic difference-in-differences (Arkhangelsky et al.)",
    "stepped_wedge": "Randomised stepped-wedge trial",
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


def percent(change: float, *, whole: bool = False) -> str:
    """An unsigned percentage: ``28 %``, ``4.5 %``; one decimal below 10 unless ``whole``."""
    size = abs(change)
    if whole:
        return f"{size:.0f} %"
    if round(size, 1) < 10:
        return f"{size:.1f} %"
    return f"{size:.0f} %"


def _signed_change(ratio: float) -> float:
    return (ratio - 1.0) * 100.0


def _is_zero_percent(change: float, whole: bool = False) -> bool:
    return round(abs(change), 0 if whole else 1) == 0


def ratio_change(ratio: float | None, *, whole: bool = False) -> str:
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
    if _is_zero_percent(change, whole):
        return "no change"
    return f"{percent(change, whole=whole)} {'higher' if change > 0 else 'lower'}"


def ratio_interval(low: float | None, high: float | None, *, whole: bool = False) -> str:
    """A rate-ratio interval, lower limit first: ``36 % lower to 19 % lower``,
    ``10 % lower to 4.0 % higher``."""
    low, high = finite(low), finite(high)
    if low is None or high is None:
        return MISSING
    a, b = sorted((low, high))
    return low_to_high(a, b, lambda value: ratio_change(value, whole=whole))


def difference_change(difference: float | None) -> str:
    """A difference in the measure's units in words: ``3.1 higher``, ``12 lower``."""
    difference = finite(difference)
    if difference is None:
        return MISSING
    if difference == 0:
        return "no change"
    return f"{number(abs(difference))} {'higher' if difference > 0 else 'lower'}"


def difference_interval(low: float | None, high: float | None) -> str:
    """A difference interval, lower limit first: ``6.7 lower to 0.5 lower``,
    ``0.5 lower to 6.7 higher``."""
    low, high = finite(low), finite(high)
    if low is None or high is None:
        return MISSING
    a, b = sorted((low, high))
    return low_to_high(a, b, difference_change)


def low_to_high(low: float, high: float, words: Callable[[float], str]) -> str:
    """The one way an interval is written: ``words(lower limit) to words(upper limit)``.

    Each end names its own direction, so the order never depends on which side of no change
    the interval lies (``36 % lower to 19 % lower``, not ``19 % to 36 % lower``).
    """
    a, b = sorted((low, high))
    return f"{words(a)} to {words(b)}"


def change(result: OutcomeResult, *, whole: bool = False) -> str:
    """The outcome's estimate in words, on its own scale."""
    if result.scale == "ratio":
        return ratio_change(result.estimate, whole=whole)
    return difference_change(result.estimate)


def interval(result: OutcomeResult, *, whole: bool = False) -> str:
    """The outcome's confidence interval in words, on its own scale, lower limit first."""
    if result.scale == "ratio":
        return ratio_interval(result.ci_low, result.ci_high, whole=whole)
    return difference_interval(result.ci_low, result.ci_high)


def change_with_interval(result: OutcomeResult, level: float, *, whole: bool = False) -> str:
    """``28 % lower (95 % CI 36 % lower to 19 % lower)``, at the run's ``interval_level``.

    ``whole`` writes every percentage as a whole number (the commissioners' section).
    """
    words = change(result, whole=whole)
    if words == MISSING:
        return "not estimated"
    span = interval(result, whole=whole)
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


def significant(value: float, figures: int = 3) -> float:
    """``value`` rounded to ``figures`` significant figures: 639_408.2 -> 639_000.0."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, figures - 1 - math.floor(math.log10(abs(value))))


def _three_figures(value: float) -> str:
    # 0.0123 -> '0.0123', 57.3 -> '57.3', 639 -> '639': the digits of three significant figures.
    return f"{significant(value):,.{max(0, 2 - math.floor(math.log10(abs(value))))}f}"


def money(value: float | None) -> str:
    """Pounds, unsigned, to three significant figures: ``£639k``, ``£2.48m``, ``£9,860``.

    Below £10,000 the pounds are written out (``£9,860``, ``£45``); from £10,000 in thousands
    (``£57.3k``), from £1m in millions. A ledger from modelled effects and illustrative unit
    costs is not known to the pound, and ``£744,103`` says it is.
    """
    value = finite(value)
    if value is None:
        return MISSING
    size = significant(abs(value))
    if size == 0:
        return "£0"
    if size >= 1e6:
        return f"£{_three_figures(size / 1e6)}m"
    if size >= 1e4:
        return f"£{_three_figures(size / 1e3)}k"
    return f"£{size:,.0f}" if size >= 100 else f"£{size:.3g}"


def total(value: float | None) -> str:
    """A modelled total of hours, events or minutes, unsigned, to three significant figures
    (whole numbers): ``3,960``, ``410``, ``12``."""
    value = finite(value)
    if value is None:
        return MISSING
    size = significant(abs(value))
    return f"{size:,.0f}" if size >= 10 else f"{size:.2g}"


def signed_interval(
    interval: Interval, level: float, words: Callable[[float], str], *, prefix: str = ""
) -> str:
    """``WORDS(estimate) (95 % CI WORDS(low) to WORDS(high))``, lower limit first."""
    if finite(interval.estimate) is None:
        return MISSING
    text = prefix + words(interval.estimate or 0.0)
    low, high = finite(interval.ci_low), finite(interval.ci_high)
    if low is not None and high is not None:
        text += f" ({ci_label(level)} {low_to_high(low, high, words)})"
    return text


def pounds(interval: Interval, level: float) -> str:
    """Pounds with their interval, positive = saved: '£744k added (95 % CI £1.14m added to
    £360k added)'."""

    def words(value: float) -> str:
        return f"{money(value)} {'saved' if value >= 0 else 'added'}"

    return signed_interval(interval, level, words)


def hours(interval: Interval, level: float, *, saved: str = "saved", added: str = "added") -> str:
    """Hours with their interval, positive = ``saved``: '2,810 hours added (95 % CI 5,990 hours
    added to 410 hours released)'."""

    def words(value: float) -> str:
        return f"{total(value)} hours {saved if value >= 0 else added}"

    return signed_interval(interval, level, words)


def cost_per(interval: Interval, level: float) -> str:
    """A cost per unit with its interval: '£9,860 (95 % CI £4,840 to £44,500)'."""
    return signed_interval(interval, level, money)


def unit_cost(value: float) -> str:
    """A unit cost as the protocol states it, to the penny only when it has pence: '£45'."""
    return f"£{value:,.0f}" if float(value).is_integer() else f"£{value:,.2f}"


def count(value: int | None) -> str:
    """A whole count with thousands separators: ``12,345``."""
    if value is None:
        return MISSING
    return f"{value:,}"


def averted(cumulative: Cumulative | None) -> str:
    """Events averted over the post period, in words, with its interval.

    ``about 1,230 fewer events (800 fewer to 1,600 fewer)``; a negative ``averted`` reads as
    ``more``; the interval runs from its lower limit (fewest averted) to its upper. A measure
    that cannot be summed (a mean on the identity scale) says so.
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
    return f"{text} ({low_to_high(low, high, words)})"


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
