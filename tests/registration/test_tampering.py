"""Tampering: a changed value is refused with its diff; comments and key order are not
changes; an edited or removed log entry is detected and named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evaltk.protocol import load_protocol
from evaltk.registration import (
    LogTampered,
    RunRefused,
    amend,
    check_registration,
    read_log,
    register,
)
from evaltk.registration.fingerprint import fingerprint
from evaltk.registration.log import entry_hash

from .conftest import WHEN, edit

EVALTK = Path(sys.executable).parent / "evaltk"


def _register(folder: Path) -> None:
    register(folder, data_access="not_collected", by="A. Analyst", now=WHEN)


def _status(folder: Path) -> str:
    return check_registration(load_protocol(folder)).status


def test_a_changed_value_is_refused_with_a_field_diff(analysis: Path) -> None:
    _register(analysis)
    edit(analysis, "repeat: {within_days: 28}", "repeat: {within_days: 29}")
    check = check_registration(load_protocol(analysis))
    assert check.status == "changed"
    assert [c.text() for c in check.changes] == ["outcomes[7].measure.repeat.within_days: 28 -> 29"]
    with pytest.raises(RunRefused, match=r"outcomes\[7\]\.measure\.repeat\.within_days: 28 -> 29"):
        raise check.refusal()


def test_cli_run_refuses_exits_3_and_writes_nothing(analysis: Path) -> None:
    _register(analysis)
    edit(analysis, "alpha: 0.05", "alpha: 0.1")
    done = subprocess.run([str(EVALTK), "run", str(analysis)], capture_output=True, text=True)
    assert done.returncode == 3
    assert "decision.alpha: 0.05 -> 0.1" in done.stderr
    assert "refusing to run" in done.stderr and "Traceback" not in done.stderr
    assert "evaltk amend" in done.stderr and "--exploratory" in done.stderr
    assert not (analysis / "results").exists()


def test_unregistered_analysis_is_refused(analysis: Path) -> None:
    done = subprocess.run([str(EVALTK), "run", str(analysis)], capture_output=True, text=True)
    assert done.returncode == 3
    assert "not registered" in done.stderr and "evaltk register" in done.stderr
    assert not (analysis / "results").exists()


def test_comments_key_order_and_layout_do_not_count(analysis: Path) -> None:
    _register(analysis)
    # Comments added and changed.
    edit(analysis, "seed: 20181001 ", "seed: 20181001   # reviewed 2024 ")
    edit(analysis, "outcomes:\n", "# The outcomes, as agreed with the ICB.\noutcomes:\n")
    # Key order: keys of the first outcome swapped, a top-level key moved to the top.
    edit(
        analysis,
        "  - id: s136_rate\n    label: Section 136 detentions per 100,000 residents\n",
        "  - label: Section 136 detentions per 100,000 residents\n    id: s136_rate\n",
    )
    text = (analysis / "analysis.yaml").read_text()
    line = next(x for x in text.splitlines() if x.startswith("seed:"))
    (analysis / "analysis.yaml").write_text(line + "\n" + text.replace(line + "\n", ""))
    # Layout: a flow list written as a block list.
    edit(analysis, "units: [E23000019]", "units:\n  - E23000019")
    assert _status(analysis) == "registered"


def test_a_default_written_out_is_not_a_change(analysis: Path) -> None:
    _register(analysis)
    edit(analysis, "  washout_months: 0\n", "")  # 0 is the default: same canonical protocol
    assert _status(analysis) == "registered"


def test_amended_protocol_runs_again(analysis: Path) -> None:
    _register(analysis)
    edit(analysis, "harmonics: 2", "harmonics: 1")
    assert _status(analysis) == "changed"
    amend(analysis, reason="one harmonic suffices for 6 years", by="B. Reviewer", now=WHEN)
    assert _status(analysis) == "registered"


def _three_entries(analysis: Path) -> Path:
    _register(analysis)
    edit(analysis, "harmonics: 2", "harmonics: 1")
    amend(analysis, reason="first", by="x", now="2024-02-01T00:00:00Z")
    edit(analysis, "alpha: 0.05", "alpha: 0.01")
    amend(analysis, reason="second", by="x", now="2024-03-01T00:00:00Z")
    return analysis / "registration.json"


def test_an_edited_entry_is_detected_and_named(analysis: Path) -> None:
    path = _three_entries(analysis)
    document = json.loads(path.read_text())
    document["entries"][1]["reason"] = "a kinder reason"
    path.write_text(json.dumps(document, indent=2))
    with pytest.raises(LogTampered, match=r"entry 1 \(amendment, recorded 2024-02-01.*was edited"):
        read_log(path)
    # A run refuses a broken log, naming the entry, and suggests restoring it.
    done = subprocess.run([str(EVALTK), "run", str(analysis)], capture_output=True, text=True)
    assert done.returncode == 3 and "entry 1" in done.stderr and "restore" in done.stderr


def test_an_edited_protocol_value_in_the_log_is_detected(analysis: Path) -> None:
    path = _three_entries(analysis)
    document = json.loads(path.read_text())
    document["entries"][0]["protocol"]["decision"]["alpha"] = 0.01
    path.write_text(json.dumps(document, indent=2))
    with pytest.raises(LogTampered, match=r"entry 0 \(registration.*was edited"):
        read_log(path)


def test_a_rehashed_edit_breaks_the_chain(analysis: Path) -> None:
    path = _three_entries(analysis)
    document = json.loads(path.read_text())
    entry = document["entries"][1]
    entry["reason"] = "rewritten"
    entry["entry_sha256"] = entry_hash(entry)  # a careful forger recomputes the hash
    entry["fingerprint"] = fingerprint(entry["entry_sha256"])  # and its short form
    path.write_text(json.dumps(document, indent=2))
    with pytest.raises(LogTampered, match=r"entry 2 .*does not follow the entry before it"):
        read_log(path)


def test_a_removed_entry_is_detected_and_named(analysis: Path) -> None:
    path = _three_entries(analysis)
    document = json.loads(path.read_text())
    del document["entries"][1]
    path.write_text(json.dumps(document, indent=2))
    with pytest.raises(LogTampered, match=r"has sequence 2: entry 1 is missing \(removed\)"):
        read_log(path)


def test_reordered_entries_are_detected(analysis: Path) -> None:
    path = _three_entries(analysis)
    document = json.loads(path.read_text())
    document["entries"][1], document["entries"][2] = document["entries"][2], document["entries"][1]
    path.write_text(json.dumps(document, indent=2))
    with pytest.raises(LogTampered, match=r"entry 1 .*has sequence 2"):
        read_log(path)


def test_amend_refuses_a_broken_log_and_appends_nothing(analysis: Path) -> None:
    path = _three_entries(analysis)
    document = json.loads(path.read_text())
    document["entries"][0]["by"] = "Someone Else"
    text = json.dumps(document, indent=2)
    path.write_text(text)
    edit(analysis, "alpha: 0.01", "alpha: 0.02")
    with pytest.raises(LogTampered):
        amend(analysis, reason="third", by="x")
    assert path.read_text() == text
