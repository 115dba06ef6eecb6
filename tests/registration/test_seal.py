"""A registration that cannot be re-sealed quietly: the fingerprint filed elsewhere, signatures,
and the data-access statement checked against results that already exist."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evaltk.registration import LogTampered, RegistrationError, amend, read_log, register
from evaltk.registration.audit import audit_log
from evaltk.registration.fingerprint import fingerprint, parse_fingerprint
from evaltk.registration.log import entry_hash, stored
from evaltk.registration.signing import Signer, load_public_key, load_signer, write_key_pair

from .conftest import WHEN, edit

ROOT = Path(__file__).resolve().parents[2]
EVALTK = Path(sys.executable).parent / "evaltk"


def _reseal(path: Path, change: Any) -> None:
    """What a forger does with the public algorithm: edit, then recompute every hash."""
    document = json.loads(path.read_text())
    change(document["entries"])
    previous = None
    for entry in document["entries"]:
        entry["previous_sha256"] = previous
        entry["entry_sha256"] = entry_hash(entry)
        entry["fingerprint"] = fingerprint(entry["entry_sha256"])
        previous = entry["entry_sha256"]
    path.write_text(json.dumps(document, indent=2))


def _backdate_access(entries: list[dict[str, Any]]) -> None:
    entries[0]["data_access"] = {"status": "not_collected", "explanation": ""}
    entries[0]["recorded_at"] = "2023-01-01T00:00:00Z"


def _signer(tmp_path: Path, name: str) -> Signer:
    write_key_pair(tmp_path / f"{name}.pem")
    return load_signer(tmp_path / f"{name}.pem")


def test_fingerprint_is_the_chain_head_in_groups_of_four(analysis: Path) -> None:
    done = register(analysis, data_access="not_collected", by="x", now=WHEN)
    entry = read_log(analysis).original
    assert done.fingerprint == entry.fingerprint == fingerprint(entry.entry_sha256)
    assert done.fingerprint.replace("-", "") == entry.entry_sha256[:16]
    assert [len(g) for g in done.fingerprint.split("-")] == [4, 4, 4, 4]
    assert parse_fingerprint(done.fingerprint.upper().replace("-", " ")) == entry.entry_sha256[:16]
    assert parse_fingerprint(entry.entry_sha256) == entry.entry_sha256
    with pytest.raises(RegistrationError, match="expected 16 hex digits"):
        parse_fingerprint("3f2a-9c11")


def test_a_resealed_chain_verifies_alone_but_not_against_the_filed_fingerprint(
    analysis: Path,
) -> None:
    filed = register(
        analysis, data_access="outcomes_examined", explanation="saw 2019", by="x", now=WHEN
    ).fingerprint
    edit(analysis, "alpha: 0.05", "alpha: 0.01")
    amend(analysis, reason="stricter", by="x", now="2024-02-01T00:00:00Z")
    path = analysis / "registration.json"
    _reseal(path, _backdate_access)
    log = read_log(path)  # the rewritten chain is consistent with itself...
    assert log.original.data_access is not None
    assert log.original.data_access.status == "not_collected"
    assert audit_log(analysis).failures == ()
    audit = audit_log(analysis, expected_fingerprint=filed)  # ...but not with the filed copy
    assert len(audit.failures) == 1 and "matches no entry" in audit.failures[0]
    done = subprocess.run(
        [str(EVALTK), "verify", str(analysis), "--fingerprint", filed],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert f"fingerprint {filed} matches no entry" in done.stderr


def test_a_fingerprint_says_which_entry_and_what_came_after(analysis: Path) -> None:
    filed = register(analysis, data_access="not_collected", by="x", now=WHEN).fingerprint
    audit = audit_log(analysis, expected_fingerprint=filed)
    assert audit.failures == ()
    assert any("matches entry 0 (registration" in line for line in audit.lines)
    assert "entries after it: none (it is the latest entry)" in audit.lines
    edit(analysis, "alpha: 0.05", "alpha: 0.01")
    latest = amend(analysis, reason="stricter", by="y", now="2024-02-01T00:00:00Z").fingerprint
    audit = audit_log(analysis, expected_fingerprint=filed)
    assert audit.failures == ()
    after = next(line for line in audit.lines if line.startswith("entries after it"))
    assert "1 (entry 1," in after and latest in after


def test_signed_entries_cannot_be_resealed_without_the_private_key(
    analysis: Path, tmp_path: Path
) -> None:
    signer = _signer(tmp_path, "evaluator")
    register(analysis, data_access="not_collected", by="x", now=WHEN, signer=signer)
    edit(analysis, "alpha: 0.05", "alpha: 0.01")
    amend(analysis, reason="stricter", by="x", now="2024-02-01T00:00:00Z", signer=signer)
    log = read_log(analysis)
    assert {e.public_key for e in log.entries} == {signer.public_key}
    public = load_public_key(tmp_path / "evaluator.pub.pem")
    audit = audit_log(analysis, public_key=public)
    assert audit.failures == ()
    assert f"signed: entries 0, 1 by key {signer.key_id} (recorded as x)" in audit.lines

    path = analysis / "registration.json"
    original = path.read_text()
    _reseal(path, _backdate_access)  # the signatures are left as they were
    with pytest.raises(LogTampered, match=r"entry 0 .*signature .*rewritten after it was signed"):
        read_log(path)

    def strip(entries: list[dict[str, Any]]) -> None:
        _backdate_access(entries)
        for entry in entries:
            del entry["public_key"], entry["signature"]

    path.write_text(original)
    _reseal(path, strip)
    failures = audit_log(analysis, public_key=public).failures
    assert len(failures) == 2 and all("is unsigned, not by key" in f for f in failures)

    forger = _signer(tmp_path, "forger")

    def resign(entries: list[dict[str, Any]]) -> None:
        _backdate_access(entries)
        for entry in entries:
            entry["public_key"] = forger.public_key

    path.write_text(original)
    _reseal(path, resign)
    document = json.loads(path.read_text())
    for entry in document["entries"]:
        entry["signature"] = forger.sign(entry["entry_sha256"])
    path.write_text(json.dumps(document))
    failures = audit_log(analysis, public_key=public).failures
    assert len(failures) == 2 and all(f"signed by key {forger.key_id}" in f for f in failures)


def test_cli_signs_and_verify_names_the_key(analysis: Path, tmp_path: Path) -> None:
    key = tmp_path / "keys" / "signing.pem"
    made = subprocess.run([str(EVALTK), "keygen-signing", str(key)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert key.stat().st_mode & 0o077 == 0  # the private key is readable by its owner only
    command = [str(EVALTK), "register", str(analysis), "--data-access", "not_collected"]
    done = subprocess.run(
        [*command, "--by", "x", "--sign-key", str(key)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    entry = read_log(analysis).original
    assert f"fingerprint {entry.fingerprint}: send it to the commissioner" in done.stdout
    pub = key.with_name("signing.pub.pem")
    checked = subprocess.run(
        [str(EVALTK), "verify", str(analysis), "--key", str(pub)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    assert "every entry is signed by key" in checked.stdout
    again = subprocess.run(
        [str(EVALTK), "keygen-signing", str(key)], capture_output=True, text=True
    )
    assert again.returncode == 2 and "never overwritten" in again.stderr


def test_an_encrypted_key_needs_its_passphrase(tmp_path: Path) -> None:
    write_key_pair(tmp_path / "k.pem", passphrase="correct horse")
    with pytest.raises(RegistrationError, match="encrypted"):
        load_signer(tmp_path / "k.pem", passphrase=None)
    with pytest.raises(RegistrationError, match="passphrase is wrong"):
        load_signer(tmp_path / "k.pem", passphrase="wrong")
    assert load_signer(tmp_path / "k.pem", passphrase="correct horse").public_key


def test_not_collected_is_refused_when_results_exist(analysis: Path) -> None:
    (analysis / "results").mkdir()
    (analysis / "results" / "results.json").write_text("{}")
    for status in ("not_collected", "collected_not_accessed"):
        with pytest.raises(RegistrationError, match=r"results\.json exists.*outcomes_examined"):
            register(analysis, data_access=status, by="x")
    assert not (analysis / "registration.json").exists()
    register(analysis, data_access="outcomes_examined", explanation="ran it first", by="x")
    edit(analysis, "alpha: 0.05", "alpha: 0.01")
    with pytest.raises(RegistrationError, match=r"results\.json exists.*amend with"):
        amend(analysis, reason="r", by="x", data_access="not_collected")


@pytest.mark.parametrize(
    "example",
    ["example-street-triage", "example-control-room-staggered", "example-right-care-right-person"],
)
def test_logs_written_before_fingerprints_still_verify_and_rewrite_alike(example: str) -> None:
    path = ROOT / "analyses" / example / "registration.json"
    raw = json.loads(path.read_text())["entries"]
    log = read_log(path)
    assert [stored(e) for e in log.entries] == raw  # rewriting the log keeps every hash
    # The first entries were sealed before fingerprints existed; later amendments carry one.
    assert log.entries[0].fingerprint is None and log.entries[0].public_key is None
    for entry in log.entries:
        if entry.fingerprint is not None:
            assert entry.fingerprint == fingerprint(entry.entry_sha256)
