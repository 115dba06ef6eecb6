"""register and amend: what an entry records, and what they refuse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaltk.registration import RegistrationError, amend, read_log, register
from evaltk.registration.identity import resolve_identity

from .conftest import WHEN, edit

EVALTK = Path(sys.executable).parent / "evaltk"


def test_registration_records_time_version_who_statement_and_hash(analysis: Path) -> None:
    done = register(
        analysis, data_access="collected_not_accessed", by="A. Analyst <a@x.uk>", now=WHEN
    )
    log = read_log(analysis)
    entry = log.original
    assert entry == done.entry and entry.sequence == 0 and entry.previous_sha256 is None
    assert entry.recorded_at == WHEN and entry.by == "A. Analyst <a@x.uk>"
    assert entry.evaltk_version
    assert entry.data_access is not None and entry.data_access.status == "collected_not_accessed"
    assert "before anyone on the team accessed them" in entry.data_access.statement
    assert len(entry.protocol_sha256) == 64 and entry.protocol["decision"]["alpha"] == 0.05


def test_outcomes_examined_needs_an_explanation(analysis: Path) -> None:
    with pytest.raises(RegistrationError, match="needs --explanation"):
        register(analysis, data_access="outcomes_examined", by="x")
    assert not (analysis / "registration.json").exists()
    register(analysis, data_access="outcomes_examined", by="x", explanation="saw 2015 s136")
    assert read_log(analysis).original.data_access.explanation == "saw 2015 s136"  # type: ignore[union-attr]


def test_registering_twice_is_refused(analysis: Path) -> None:
    register(analysis, data_access="not_collected", by="x", now=WHEN)
    with pytest.raises(RegistrationError, match=r"already registered .*evaltk amend"):
        register(analysis, data_access="not_collected", by="x")


def test_amend_records_reason_and_diff_and_chains(analysis: Path) -> None:
    register(analysis, data_access="not_collected", by="x", now=WHEN)
    with pytest.raises(RegistrationError, match="nothing to amend"):
        amend(analysis, reason="no change", by="x")
    edit(analysis, "repeat: {within_days: 28}", "repeat: {within_days: 90}")
    with pytest.raises(RegistrationError, match="--reason is empty"):
        amend(analysis, reason="  ", by="x")
    amend(analysis, reason="90 days, as the ICB asked", by="y", now="2024-02-01T00:00:00Z")
    log = read_log(analysis)
    first, second = log.entries
    assert second.kind == "amendment" and second.sequence == 1
    assert second.previous_sha256 == first.entry_sha256
    assert second.reason == "90 days, as the ICB asked"
    assert [c.text() for c in second.changes] == [
        "outcomes[7].measure.repeat.within_days: 28 -> 90"
    ]


def test_amending_an_unregistered_analysis_is_refused(analysis: Path) -> None:
    with pytest.raises(RegistrationError, match="not registered yet"):
        amend(analysis, reason="x", by="x")


def test_identity_defaults_to_git_then_the_system_user(tmp_path: Path) -> None:
    assert resolve_identity("  A.  Analyst ", tmp_path).name == "A. Analyst"
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "user.name", "Git Person"], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "user.email", "g@p.uk"], check=True)
    found = resolve_identity(None, repo)
    assert (found.name, found.source, found.warning) == ("Git Person <g@p.uk>", "git", None)


def test_without_any_git_identity_the_cli_says_so(analysis: Path, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CEILING_DIRECTORIES": str(tmp_path),
    }
    done = subprocess.run(
        [str(EVALTK), "register", str(analysis), "--data-access", "not_collected"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "git has no user.name" in " ".join(done.stderr.split()) and "--by" in done.stderr
    assert "(system user; git has no identity)" in read_log(analysis).original.by


def test_cli_help_is_complete() -> None:
    for command, options in (
        ("register", ("--data-access", "--by", "--explanation", "not_collected")),
        ("amend", ("--reason", "--by", "--data-access")),
        ("run", ("--exploratory",)),
        ("power", ("--replicates", "--workers", "--scheduler", "--effects", "--baseline")),
    ):
        done = subprocess.run(
            [str(EVALTK), command, "--help"],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        )
        assert done.returncode == 0
        for option in options:
            assert option in done.stdout, (command, option)
