"""An amendment's changes in words (issue 20, item 1): the outcome by its label, a unit cost by
its amount, unit and agency, long values shortened; the registration file keeps them whole."""

from __future__ import annotations

import json
from pathlib import Path

from evaltk.registration.change_words import LONGEST, change_words
from evaltk.registration.diff import diff_documents
from evaltk.registration.log import read_log

ROOT = Path(__file__).resolve().parents[2]

BEFORE = {
    "design": {"kind": "cits", "cits": {"family": "quasi_poisson"}},
    "window": {"start": "2014-01-01", "end": "2019-12-31"},
    "outcomes": [
        {"id": "police_hospital_minutes", "label": "Police minutes at hospital", "cost": None},
        {"id": "officer_minutes", "label": "Officer minutes per incident"},
        {"id": "s136_rate", "label": "Section 136 detentions", "measure": {"repeat": None}},
    ],
}


def _words(before: dict, after: dict) -> list[str]:
    return [change_words(c, before, after) for c in diff_documents(before, after)]


def test_a_unit_cost_added_reads_as_the_issue_asks() -> None:
    after = json.loads(json.dumps(BEFORE))
    after["outcomes"][0]["cost"] = {
        "agency": "police",
        "amount_gbp": 45.0,
        "hours_per_event": None,
        "in_net": True,
        "per": "hour",
        "source": "Illustrative: police officer hour",
    }
    assert _words(BEFORE, after) == [
        "Police minutes at hospital: unit cost added, £45 per hour, police"
    ]


def test_scalars_blocks_and_outcomes_in_words() -> None:
    after = json.loads(json.dumps(BEFORE))
    after["design"]["cits"]["model"] = "gls"
    after["window"]["end"] = "2020-03-31"
    after["outcomes"][2]["measure"]["repeat"] = {"within_days": 28}
    after["outcomes"].append({"id": "arrests", "label": "Arrests per 100,000 residents"})
    del after["outcomes"][1]
    assert _words(BEFORE, after) == [
        "Design (comparative interrupted time series): model set to gls",
        "Section 136 detentions: measure repeat added, repeat window (days) 28",
        "Arrests per 100,000 residents: outcome added",
        "Officer minutes per incident: outcome removed",
        "Analysis window: end 2019-12-31 → 2020-03-31",
    ]


def test_a_long_value_is_shortened_and_kept_whole_in_the_change() -> None:
    after = json.loads(json.dumps(BEFORE))
    after["outcomes"][0]["label"] = "Police minutes at hospital " + "waiting " * 30
    (change,) = diff_documents(BEFORE, after)
    text = change_words(change, BEFORE, after)
    old, new = text.split(": label ", 1)[1].split(" → ")
    assert old == "Police minutes at hospital" and new.endswith("…")
    assert len(new) == LONGEST
    assert json.loads(change.after or "") == after["outcomes"][0]["label"]


def test_the_right_care_example_has_no_json_left() -> None:
    log = read_log(ROOT / "analyses" / "example-right-care-right-person" / "registration.json")
    amendments = [
        [change_words(c, previous.protocol, entry.protocol) for c in entry.changes]
        for previous, entry in zip(log.entries, log.amendments, strict=False)
    ]
    assert amendments[0] == ["Design (comparative interrupted time series): model set to gls"]
    assert amendments[1][0] == (
        "Police minutes waiting at hospital (all incidents, per month): unit cost added, £45 per "
        "hour, police, not in the net total"
    )
    assert amendments[2] == [
        "Police minutes waiting at hospital (all incidents, per month): unit cost now counted "
        "within Officer minutes per incident (counted once, not in totals)"
    ]
    for line in (line for entry in amendments for line in entry):
        assert "{" not in line and '"' not in line and "null" not in line
