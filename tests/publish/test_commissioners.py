"""Words for the commissioners' section: signs become 'saved' and 'added'."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from evaltk.publish.commissioners import per_detention, unit_cost
from evaltk.publish.format import hours, pounds
from evaltk.publish.load import load_analyses
from evaltk.publish.pages import write_pages
from evaltk.results.schema import Interval, Ledger, LedgerLine

from .conftest import make_result, write_analysis


def test_pounds_name_the_direction_at_each_end_to_three_figures() -> None:
    added = Interval(estimate=-744_103.5, ci_low=-1_137_470.3, ci_high=-360_430.7)
    assert pounds(added, 0.95) == "£744k added (95 % CI £1.14m added to £360k added)"
    mixed = Interval(estimate=1_000.0, ci_low=-500.0, ci_high=2_500.0)
    assert pounds(mixed, 0.9) == "£1,000 saved (90 % CI £500 added to £2,500 saved)"


def test_hours_and_missing_cost_per_detention() -> None:
    police = Interval(estimate=-2812.9, ci_low=-5989.4, ci_high=409.5)
    assert hours(police, 0.95, saved="released") == (
        "2,810 hours added (95 % CI 5,990 hours added to 410 hours released)"
    )
    assert per_detention(None, 0.95).startswith("not stated: the interval for detentions")
    assert per_detention(Interval(estimate=11851.2, ci_low=4952.9, ci_high=69793.3), 0.95) == (
        "£11.9k (95 % CI £4,950 to £69.8k)"
    )


def _line(label: str, agency: str, averted: float, pounds_: float, in_net: bool) -> LedgerLine:
    return LedgerLine(
        outcome=label.lower().replace(" ", "_"),
        label=label,
        outcome_class="displacement",
        agency=agency,
        unit="events",
        averted=Interval(estimate=averted, ci_low=averted - 10, ci_high=averted + 10),
        hours=Interval(estimate=averted, ci_low=None, ci_high=None),
        pounds=Interval(estimate=pounds_, ci_low=pounds_ - 100, ci_high=pounds_ + 100),
        unit_cost_gbp=250.0,
        cost_per="event",
        source="Illustrative: replace with | local figure",
        in_net=in_net,
    )


def test_ledger_is_two_narrow_tables(tmp_path: Path, book_dir: Path) -> None:
    """What each line changed and cost (four columns), then the unit costs and sources (three):
    one seven-column table did not fit the text column."""
    total = Interval(estimate=-1_000.0, ci_low=-2_000.0, ci_high=-100.0)
    ledger = Ledger(
        lines=[
            _line("Conveyances to A&E", "emergency_department", -1_047.4, -261_738.0, True),
            _line("Police minutes", "police", 50.0, 2_500.0, False),
        ],
        net_pounds=total,
        net_hours=total,
        police_hours_released=total,
        hours_added_elsewhere=total,
        cost_per_averted_detention=None,
        correlation={},
        method="Joint normal draws.",
    )
    write_analysis(tmp_path / "a" / "x", make_result().model_copy(update={"ledger": ledger}))
    write_pages(load_analyses(tmp_path / "a"), book_dir)
    text = (book_dir / "analyses" / "x" / "index.md").read_text()
    section = text[text.index("## For commissioners") : text.index("## Strength of evidence")]
    nb = "\u00a0"
    assert (
        "| Outcome | Agency | Change over the post period | Pounds |\n"
        "|---|---|---|---|\n"
        "| Conveyances to A&E | emergency department | 1,050 events more "
        f"| £262k added (95{nb}% CI £262k added to £262k added) |\n"
        "| Police minutes *(not in the net total)* | police | 50 events fewer "
        f"| £2,500 saved (95{nb}% CI £2,400 saved to £2,600 saved) |\n"
    ) in section
    assert "A line marked *not in the net total* is, as the protocol says, already counted" in (
        section
    )
    assert (
        "| Outcome | Unit cost | Source |\n"
        "|---|---|---|\n"
        "| Conveyances to A&E | £250 per event | Illustrative: replace with \\| local figure |\n"
        "| Police minutes | £250 per event | Illustrative: replace with \\| local figure |\n"
    ) in section
    assert "In net total" not in section


def _costed(tmp_path: Path, book_dir: Path, *, glossary: bool) -> str:
    total = Interval(estimate=-639_408.2, ci_low=-1_137_470.3, ci_high=57_317.0)
    ledger = Ledger(
        lines=[_line("Conveyances to A&E", "emergency_department", -1_047.4, -261_738.0, True)],
        net_pounds=total,
        net_hours=total,
        police_hours_released=total,
        hours_added_elsewhere=total,
        cost_per_averted_detention=None,
        correlation={},
        method="Totals from 20,000 draws joined by a Gaussian copula of estimating functions.",
    )
    if glossary:
        shutil.copyfile(
            Path(__file__).parents[2] / "book" / "glossary.md", book_dir / "glossary.md"
        )
    write_analysis(tmp_path / "a" / "x", make_result().model_copy(update={"ledger": ledger}))
    write_pages(load_analyses(tmp_path / "a"), book_dir)
    return (book_dir / "analyses" / "x" / "index.md").read_text()


def test_terms_link_to_glossary_entries_that_exist(tmp_path: Path, book_dir: Path) -> None:
    text = _costed(tmp_path, book_dir, glossary=True)
    section = text[text.index("## For commissioners") : text.index("## Registration")]
    entries = set(
        re.findall(
            r"^(\S.*)$",
            (book_dir / "glossary.md").read_text().split("```{glossary}")[1],
            flags=re.MULTILINE,
        )
    )
    linked = set(re.findall(r"\{term\}`[^`<]*<([^>`]+)>`", section))
    assert {"Confidence interval", "Counterfactual", "Net change", "Unit cost"} <= linked
    assert linked <= entries, linked - entries
    # £639,408.2 at three significant figures, the interval lower limit first.
    assert "£639k added (95 % CI £1.14m added to £57.3k saved)" in section


def test_without_a_glossary_no_term_role_and_method_detail_moves_to_results(
    tmp_path: Path, book_dir: Path
) -> None:
    text = _costed(tmp_path, book_dir, glossary=False)
    commissioners = text[text.index("## For commissioners") : text.index("## Registration")]
    assert "{term}" not in text  # a link to a missing glossary fails the strict build
    assert "copula" not in commissioners and "estimating functions" not in commissioners
    results = text[text.index("## Results, outcome by outcome") : text.index("## Diagnostics")]
    assert "### How the ledger's intervals were computed\n\nTotals from 20,000 draws" in results


def test_unit_costs_keep_pence_and_show_their_price_year() -> None:
    assert unit_cost(36.51, "hour", None) == "£36.51 per hour"
    assert unit_cost(114.0, "event", "2013-14") == "£114 per event (2013-14 prices)"
    assert unit_cost(1250.0, "event", "2014") == "£1,250 per event (2014 prices)"


def test_uprated_unit_costs_show_both_price_years() -> None:
    assert (
        unit_cost(114.0, "event", "2013-14", 154.53, "2024")
        == "£154.53 per event at 2024 prices (£114 at 2013-14 prices)"
    )
    assert unit_cost(600.0, "event", None, None, "2024") == "£600 per event, not uprated"


def test_a_summary_line_with_no_costed_time_says_so() -> None:
    """A protocol with no police-time outcome (the synthetic-control template) shows 'not
    measured' for police time, not '0 hours released (0 to 0)'."""
    from evaltk.publish.commissioners import NO_TIME_COSTED, _costs_time

    zero = Interval(estimate=0.0, ci_low=0.0, ci_high=0.0)
    lines = [
        _line("Ambulance conveyances", "ambulance", 30.0, 6_000.0, True),
        _line("Police minutes", "police", 12.0, 400.0, False),  # part of another: not in net
        _line("A&E", "emergency_department", 5.0, 700.0, True).model_copy(update={"hours": zero}),
    ]
    ledger = Ledger(
        lines=lines,
        net_pounds=zero,
        net_hours=zero,
        police_hours_released=zero,
        hours_added_elsewhere=zero,
        cost_per_averted_detention=None,
        correlation={},
        method="",
    )
    assert not _costs_time(ledger, police=True)
    assert _costs_time(ledger, police=False)
    assert NO_TIME_COSTED.startswith("not measured")


def test_landing_headline_of_a_difference_names_its_time_base() -> None:
    from evaltk.publish.pages import primary_text

    result = make_result()
    primary = result.primary[0]
    difference = primary.model_copy(
        update={"scale": "difference", "estimate": -0.445, "ci_low": -1.12, "ci_high": -0.0631}
    )
    outcomes = [difference if o is primary else o for o in result.outcomes]
    text = primary_text(result.model_copy(update={"outcomes": outcomes}))
    assert text.startswith(f"{primary.label} per month: 0.445 lower (95 % CI 1.12 lower")
    # A ratio is a percentage change: no time base is added.
    assert primary_text(result).startswith(f"{primary.label}: ")
