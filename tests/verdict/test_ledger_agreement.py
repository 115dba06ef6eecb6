"""Every number on a chapter agrees with its effect: the events averted, the ledger's events,
hours and pounds are the headline's estimate and interval mapped onto the treated
force-months, so they agree in sign and significance for every outcome of every example.

The examples' results are the goldens, which `tests/analysis/test_demo.py -k golden` checks
`evaltk demo` reproduces byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parents[1] / "golden"
EXAMPLES = sorted(p.name for p in GOLDEN.iterdir() if (p / "results.json").is_file())


def _results(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((GOLDEN / name / "results.json").read_text(encoding="utf-8"))


def _null(scale: str) -> float:
    return 1.0 if scale == "ratio" else 0.0


@pytest.mark.parametrize("name", EXAMPLES)
def test_events_averted_agree_with_the_effect(name: str) -> None:
    results = _results(name)
    checked = 0
    for outcome in results["outcomes"]:
        cumulative = outcome.get("cumulative")
        if outcome["estimate"] is None or not cumulative or cumulative["averted"] is None:
            continue
        null = _null(outcome["scale"])
        low, high = outcome["ci_low"], outcome["ci_high"]
        averted, a_low, a_high = cumulative["averted"], cumulative["ci_low"], cumulative["ci_high"]
        assert a_low <= averted <= a_high, outcome["outcome"]
        # Sign: an effect below the null is demand averted.
        assert (outcome["estimate"] < null) == (averted > 0), outcome["outcome"]
        # Significance: the effect's interval excludes the null iff the events' excludes 0.
        assert (low > null or high < null) == (a_low > 0 or a_high < 0), outcome["outcome"]
        if outcome["scale"] == "ratio" and cumulative["counterfactual"] is not None:
            # The total with the scheme is held and the counterfactual moves with the ratio:
            # averted = with_scheme (1 / ratio - 1), so the ends are with_scheme (1 / high - 1)
            # and with_scheme (1 / low - 1).
            with_scheme = cumulative["counterfactual"] * outcome["estimate"]
            assert a_low == pytest.approx(with_scheme * (1 / high - 1), rel=1e-9)
            assert a_high == pytest.approx(with_scheme * (1 / low - 1), rel=1e-9)
        checked += 1
    # Every example has at least six additive outcomes, but for the synthetic control (three)
    # and the stepped-wedge trial (four: its series holds counts only).
    assert checked >= min(6, len(results["outcomes"]))


@pytest.mark.parametrize("name", EXAMPLES)
def test_ledger_lines_are_the_events_averted_in_hours_and_pounds(name: str) -> None:
    results = _results(name)
    ledger = results["ledger"]
    assert ledger is not None, "every design has a ledger"
    outcomes = {o["outcome"]: o for o in results["outcomes"]}
    for line in ledger["lines"]:
        cumulative = outcomes[line["outcome"]]["cumulative"]
        for key in ("estimate", "ci_low", "ci_high"):
            events = cumulative["averted" if key == "estimate" else key]
            assert line["averted"][key] == pytest.approx(events, rel=1e-9)
        per = line["pounds"]["estimate"] / line["averted"]["estimate"]
        assert per >= 0
        for key in ("ci_low", "ci_high"):
            assert line["pounds"][key] == pytest.approx(line["averted"][key] * per, rel=1e-9)
    # Time counted once: a part is never in a total, and police hours are the police lines
    # in the net.
    # (The synthetic-control example costs no time that is part of another line.)
    parts = [line for line in ledger["lines"] if line.get("part_of")]
    assert bool(parts) == (name not in ("example-street-triage-synthetic", "example-stepped-wedge"))
    assert not any(line["in_net"] for line in parts)
    police = sum(
        line["hours"]["estimate"]
        for line in ledger["lines"]
        if line["in_net"] and line["agency"] == "police"
    )
    assert ledger["police_hours_released"]["estimate"] == pytest.approx(police)


@pytest.mark.parametrize("name", EXAMPLES)
def test_ledger_pounds_are_at_its_price_year(name: str) -> None:
    """Each line's pounds are its events (or minutes / 60) times the unit cost uprated to the
    ledger's price year by the GDP deflator; a cost without a price year is not uprated."""
    from evaltk.protocol.prices import uprating_factor

    ledger = _results(name)["ledger"]
    assert ledger["price_year"] == "2024"
    assert "All pounds are at 2024 prices" in ledger["prices"]
    uprated = 0
    for line in ledger["lines"]:
        if line["price_year"] is None:
            assert line["uprated_unit_cost_gbp"] is None
            cost = line["unit_cost_gbp"]
        else:
            factor = uprating_factor(line["price_year"], "2024")
            cost = line["unit_cost_gbp"] * factor
            assert line["uprated_unit_cost_gbp"] == round(cost, 2)
            uprated += 1
        if line["unit"] == "minutes":
            per = cost / 60
        elif line["cost_per"] == "event":
            per = cost
        else:
            continue
        assert line["pounds"]["estimate"] == pytest.approx(
            line["averted"]["estimate"] * per, rel=1e-9
        ), line["outcome"]
    # The synthetic-control example has two costs with a price year (A&E, ambulance).
    # Every costed line with a price year: two for the synthetic control, three for the trial.
    assert uprated >= {"example-street-triage-synthetic": 2, "example-stepped-wedge": 3}.get(
        name, 4
    )
