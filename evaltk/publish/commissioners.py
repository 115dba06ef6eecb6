"""The commissioners' section of a chapter: where demand went, in hours and pounds.

It reads only ``results.json``'s ``ledger``, ``evidence``, primary outcomes' pre-trend p-values
and ``not_measured``. Signs follow the ledger (positive = saved); the words say "saved" or
"added" so that no reader has to. Written for a reader without statistical training: whole
percentages, money to three significant figures (:mod:`evaltk.publish.format`), terms linked
to the glossary, and no method names (the ledger's method and the full evidence reason are in
the chapter's Results and Diagnostics).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaltk.publish import format as fmt
from evaltk.publish.chapter import cell
from evaltk.publish.escape import Markup, join, md
from evaltk.publish.load import LoadedAnalysis
from evaltk.results.schema import AnalysisResult, Interval, Ledger

LEDGER_FIGURE = "figures/ledger.png"
#: The hand-written glossary page (``book/glossary.md``) that terms link to.
GLOSSARY = "glossary"
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


def per_detention(interval: Interval | None, level: float) -> str:
    if interval is None or interval.estimate is None:
        return (
            "not stated: the interval for detentions averted includes zero, so a cost per "
            "averted detention would be meaningless"
        )
    return fmt.cost_per(interval, level)


def has_glossary(book_dir: Path) -> bool:
    """Whether the book has its glossary page, so that terms may link to it."""
    return (book_dir / f"{GLOSSARY}.md").is_file()


def term(words: str, entry: str, glossary: bool) -> Markup:
    """``words`` linked to the glossary's ``entry`` (a MyST ``{term}`` role), or plain text
    when the book has no glossary (a link to a missing term fails the strict build)."""
    if not glossary:
        return md(words)
    return Markup(f"{{term}}`{md(words)} <{entry}>`")


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


#: What each design compares, in words without method names (the method is under Results).
_PLAIN_DESIGN = {
    "stepped_wedge": "A randomised trial in which every area got the scheme in turn",
    "its": "One area's monthly figures before and after the scheme, with the trend and the "
    "seasons allowed for, but no comparison area",
    "cits": "The areas with the scheme compared, month by month, with areas without it",
    "did": "The areas with the scheme compared with areas without it, before and after",
    "event_study": "The areas with the scheme compared with areas without it, month by month "
    "around the start",
    "staggered_did": "Each group of forces that started the scheme at the same time compared "
    "with forces that had not (yet) started",
    "synthetic_control": "The area with the scheme compared with a mix of areas without it, "
    "chosen to match it in the years before",
    "synthetic_did": "The area with the scheme compared with a mix of areas without it, "
    "chosen to move like it in the years before",
}


def _p_term(p: float | None, link: Markup, glossary: bool) -> Markup | str:
    """``p = 0.012`` with its ``p`` linked to the glossary."""
    text = fmt.p_value(p, prose=True)
    if not glossary or not text.startswith("p "):
        return text
    return join(link, text[1:])


def plain_evidence(result: AnalysisResult) -> str:
    """Why the evidence has its Maryland level, in words a commissioner reads without help.

    The full reason (test statistics, degrees of freedom, models) stays in results.json and is
    printed under Diagnostics; here only what it means and the p-value, as a number.
    """
    design = _PLAIN_DESIGN.get(result.design, fmt.design(result.design))
    if result.design == "its":
        return (
            f"{design}: other changes at the same time (policy, commissioning, recording "
            "practice) cannot be ruled out."
        )
    if result.design == "stepped_wedge":
        return (
            f"{design}: the order in which the areas started was drawn at random and registered "
            "before any outcome was looked at, so areas that had the scheme and areas that did "
            "not yet are alike but for chance, which the p-values and ranges allow for."
        )
    tests = [(o.label, o.pretrend) for o in result.primary if o.pretrend is not None]
    p_values = [t.p_value for _, t in tests if t.p_value is not None]
    if not p_values:
        return (
            f"{design}. Whether the two groups moved in step before the scheme was not tested, "
            "so the comparison is not shown to be fair."
        )
    shown = "; ".join(
        f"{label}: {fmt.p_value(t.p_value, prose=True)}"
        for label, t in tests
        if t.p_value is not None
    )
    if any(p < result.alpha for p in p_values):
        return (
            f"{design}. Before the scheme started the two groups did not move in step "
            f"({shown}), so the comparison areas are not a fair guide to what would have "
            "happened without it."
        )
    return (
        f"{design}. Before the scheme started the two groups moved in step as far as a test "
        f"can tell ({shown}); with few forces that test can miss a difference. The test is "
        "under Diagnostics."
    )


def commissioners_context(analysis: LoadedAnalysis, *, glossary: bool = False) -> dict[str, Any]:
    """What the commissioners' section prints; ``ledger`` is None without unit costs.

    Percentages are whole numbers, money is to three significant figures, and method detail
    (models, tests, how the ledger's intervals are drawn) is left to the statisticians'
    sections further down the chapter. With ``glossary`` the section's terms link to the
    book's glossary page.
    """
    result = analysis.result
    level = result.interval_level
    evidence = result.evidence
    terms = {
        key: term(words, entry, glossary)
        for key, (words, entry) in {
            "ci": (fmt.ci_label(level), "Confidence interval"),
            "counterfactual": ("expected without the scheme", "Counterfactual"),
            "net": ("Net change to the system", "Net change"),
            "unit_costs": ("unit costs", "Unit cost"),
            "sms": ("Maryland Scientific Methods Scale", "Maryland Scientific Methods Scale"),
            "emmie": ("EMMIE", "EMMIE"),
            "s136": ("section 136", "Section 136"),
            "displacement": ("displacement", "Displacement"),
            "ledger": ("ledger", "Whole-system ledger"),
            "adjusted": ("adjusted", "Adjusted p-value"),
            "p": ("p", "p-value"),
        }.items()
    }
    context: dict[str, Any] = {
        "terms": terms,
        "ledger": None,
        "evidence_level": evidence.sms_level if evidence else None,
        "evidence_reason": plain_evidence(result) if evidence else "",
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
                "change": fmt.change_with_interval(o, level, whole=True),
                "p": _p_term(
                    o.p_value if o.role == "primary" else o.p_adjusted, terms["p"], glossary
                ),
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
        "net_pounds": fmt.pounds(ledger.net_pounds, level),
        "net_hours": fmt.hours(ledger.net_hours, level),
        "police_hours": police_time(ledger, level),
        "elsewhere": (
            fmt.hours(ledger.hours_added_elsewhere, level, saved="added", added="released")
            if _costs_time(ledger, police=False)
            else NO_TIME_COSTED
        ),
        "per_detention": per_detention(ledger.cost_per_averted_detention, level),
        "ci_label": fmt.ci_label(level),
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
                    f"{fmt.total(line.averted.estimate or 0)} {line.unit} "
                    f"{'fewer' if (line.averted.estimate or 0) >= 0 else 'more'}"
                ),
                "pounds": cell(fmt.pounds(line.pounds, level)),
                "cost": unit_cost(
                    line.unit_cost_gbp,
                    line.cost_per,
                    line.price_year,
                    line.uprated_unit_cost_gbp,
                    ledger.price_year,
                ),
                "source": line.source,
                "in_net": line.in_net,
            }
            for line in ledger.lines
        ],
        "some_not_in_net": not all(line.in_net for line in ledger.lines),
        "price_year": ledger.price_year,
        "prices": ledger.prices,
    }
    return context


#: A summary line with no costed outcome behind it: say so rather than "0 hours (0 to 0)".
NO_TIME_COSTED = "not measured: no outcome in the total carries this time"


def _costs_time(ledger: Ledger, police: bool) -> bool:
    """Whether any line in the net total carries staff time of the police (or of others)."""
    return any(
        line.in_net
        and (line.agency == "police") == police
        and (line.hours.estimate or line.hours.ci_low or line.hours.ci_high)
        for line in ledger.lines
    )


def police_time(ledger: Ledger, level: float) -> str:
    """Police hours released with their interval, or that no costed outcome carries them
    (the same words on the landing page and the chapter)."""
    if not _costs_time(ledger, police=True):
        return NO_TIME_COSTED
    return fmt.hours(ledger.police_hours_released, level, saved="released")


def unit_cost(
    amount: float,
    per: str,
    price_year: str | None,
    uprated: float | None = None,
    to_year: str | None = None,
) -> str:
    """A unit cost as the ledger used it and as its source gives it (pence kept: £36.51 is not
    £37): "£155 per event at 2024 prices (£114 at 2013-14 prices)", or, not uprated,
    "£114 per event (2013-14 prices)"."""
    if uprated is not None and to_year is not None and price_year is not None:
        return (
            f"{fmt.unit_cost(uprated)} per {per} at {to_year} prices "
            f"({fmt.unit_cost(amount)} at {price_year} prices)"
        )
    given = f" ({price_year} prices)" if price_year else ""
    kept = ", not uprated" if to_year is not None else ""
    return f"{fmt.unit_cost(amount)} per {per}{given}{kept}"
