"""The commissioners' section of a chapter: where demand went, in hours and pounds.

It reads only ``results.json``'s ``ledger``, ``evidence`` and ``not_measured``. Signs follow the
ledger (positive = saved); the words say "saved" or "added" so that no reader has to.
"""

from __future__ import annotations

from typing import Any

from evaltk.publish import format as fmt
from evaltk.publish.chapter import cell
from evaltk.publish.escape import Markup, join
from evaltk.publish.load import LoadedAnalysis
from evaltk.results.schema import Interval

LEDGER_FIGURE = "figures/ledger.png"
#: How a ledger line that the net total leaves out is marked (it is counted inside another).
NOT_IN_NET = "not in the net total"

#: EMMIE's five headings in their own order (results.json stores them sorted by key), with
#: the words shown for each key.
EMMIE_ORDER: tuple[tuple[str, str], ...] = (
    ("Effect", "Effect"),
    ("Mechanism", "Mechanism"),
    ("Moderators", "Moderators"),
    ("Implementation", "Implementation"),
    ("Economics", "Economic cost"),
)
#: Outcome classes that say where demand went when there is no ledger to cost them.
_WHERE_DEMAND_WENT = ("displacement", "referral")


def _money(value: float) -> str:
    return f"£{abs(value):,.0f}"


def pounds(interval: Interval, level: float) -> str:
    """'£744,103 added (95 % CI £360,431 to £1,137,470 added)'."""
    if interval.estimate is None:
        return fmt.MISSING
    words = "saved" if interval.estimate >= 0 else "added"
    text = f"{_money(interval.estimate)} {words}"
    if interval.ci_low is not None and interval.ci_high is not None:
        low, high = interval.ci_low, interval.ci_high
        ends = [f"{_money(v)} {'saved' if v >= 0 else 'added'}" for v in (low, high)]
        text += f" ({fmt.ci_label(level)} {ends[0]} to {ends[1]})"
    return text


def hours(interval: Interval, level: float, *, saved: str = "saved", added: str = "added") -> str:
    if interval.estimate is None:
        return fmt.MISSING

    def words(v: float) -> str:
        return f"{abs(v):,.0f} hours {saved if v >= 0 else added}"

    text = words(interval.estimate)
    if interval.ci_low is not None and interval.ci_high is not None:
        text += f" ({fmt.ci_label(level)} {words(interval.ci_low)} to {words(interval.ci_high)})"
    return text


def per_detention(interval: Interval | None, level: float) -> str:
    if interval is None or interval.estimate is None:
        return (
            "not stated: the interval for detentions averted includes zero, so a cost per "
            "averted detention would be meaningless"
        )
    text = f"£{interval.estimate:,.0f}"
    if interval.ci_low is not None and interval.ci_high is not None:
        text += f" ({fmt.ci_label(level)} £{interval.ci_low:,.0f} to £{interval.ci_high:,.0f})"
    return text


def emmie_rows(emmie: dict[str, str]) -> list[tuple[str, str]]:
    """EMMIE's headings in E-M-M-I-E order; any other key recorded follows, as written."""
    known = {key for key, _ in EMMIE_ORDER}
    rows = [(shown, emmie[key]) for key, shown in EMMIE_ORDER if key in emmie]
    return rows + [(key, text) for key, text in emmie.items() if key not in known]


def _unrated_evidence(design: str) -> str:
    """What to say of evidence when results.json carries no rating (written before it did)."""
    # A single-series ITS has level 2 by its design alone; a comparison design's level depends
    # on its pre-trend tests (evaltk.verdict.evidence), so without them none is claimed.
    if design.strip().lower() == "its":
        return (
            "Maryland Scientific Methods Scale level 2 of 5: a before-after time series with "
            "trend and seasonality controlled, but no comparison area."
        )
    return "The evidence level was not rated for this analysis; see Methods for how to read it."


def commissioners_context(analysis: LoadedAnalysis) -> dict[str, Any]:
    """What the commissioners' section prints; ``ledger`` is None without unit costs."""
    result = analysis.result
    level = result.interval_level
    evidence = result.evidence
    context: dict[str, Any] = {
        "ledger": None,
        "evidence_level": evidence.sms_level if evidence else None,
        "evidence_reason": evidence.reason if evidence else "",
        "emmie": emmie_rows(evidence.emmie) if evidence else [],
        "evidence_fallback": _unrated_evidence(result.design),
        "ledger_note": (
            "No ledger of hours and pounds is given: it is built from the month-by-month "
            "counterfactual of an interrupted time series or a comparative ITS, which this "
            f"design ({fmt.design(result.design)}) does not give."
            if result.ledger_note
            else None
        ),
        "demand": [
            {
                "label": o.label,
                "role": o.role if o.role == "primary" else o.outcome_class.replace("_", " "),
                "change": fmt.change_with_interval(o, level),
                "p": fmt.p_value(o.p_value if o.role == "primary" else o.p_adjusted, prose=True),
                "adjusted": o.role != "primary",
            }
            for o in sorted(result.outcomes, key=lambda o: o.role != "primary")
            if o.role == "primary" or o.outcome_class in _WHERE_DEMAND_WENT
        ],
        "not_measured": list(result.not_measured),
    }
    ledger = result.ledger
    if ledger is None:
        return context
    context["ledger"] = {
        "figure": Markup(LEDGER_FIGURE) if analysis.ledger_figure is not None else None,
        "net_pounds": pounds(ledger.net_pounds, level),
        "net_hours": hours(ledger.net_hours, level),
        "police_hours": hours(ledger.police_hours_released, level, saved="released"),
        "elsewhere": hours(ledger.hours_added_elsewhere, level, saved="added", added="released"),
        "per_detention": per_detention(ledger.cost_per_averted_detention, level),
        "method": ledger.method,
        # Two tables of at most four columns, so that each fits the text column: what each
        # line changed and cost, then the unit costs and their sources.
        "lines": [
            {
                "label": line.label,
                "label_cell": (
                    line.label if line.in_net else join(line.label, Markup(f" *({NOT_IN_NET})*"))
                ),
                "agency": line.agency.replace("_", " "),
                "change": cell(
                    f"{abs(line.averted.estimate or 0):,.0f} {line.unit} "
                    f"{'fewer' if (line.averted.estimate or 0) >= 0 else 'more'}"
                ),
                "pounds": cell(pounds(line.pounds, level)),
                "cost": unit_cost(line.unit_cost_gbp, line.cost_per, line.price_year),
                "source": line.source,
                "in_net": line.in_net,
            }
            for line in ledger.lines
        ],
        "some_not_in_net": not all(line.in_net for line in ledger.lines),
    }
    return context


def unit_cost(amount: float, per: str, price_year: str | None) -> str:
    """A unit cost as its source gives it (pence kept: £36.51 is not £37), with its price
    year: "£114 per event (2013-14 prices)"."""
    pounds = f"£{amount:,.0f}" if float(amount).is_integer() else f"£{amount:,.2f}"
    return f"{pounds} per {per}" + (f" ({price_year} prices)" if price_year else "")
