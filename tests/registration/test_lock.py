"""The folder lock: two amends at once both land, numbered one after the other; a command that
cannot get the lock in time stops with one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from evaltk.locking import LOCK_FILE, folder_lock
from evaltk.registration import read_log, register

from .conftest import WHEN, edit

EVALTK = Path(sys.executable).parent / "evaltk"

# Each child amends the shared folder with a protocol of its own (read from its own copy of
# analysis.yaml, as if the file had changed between two people's commands), then waits at a
# barrier so that both reach the log at the same moment.
CHILD = """
import dataclasses, sys, time
from pathlib import Path
from evaltk.protocol import load_protocol
from evaltk.registration import record

folder, variant, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
loaded = dataclasses.replace(
    load_protocol(variant), path=folder / "analysis.yaml", folder=folder
)
record.load_protocol = lambda _analysis: loaded
(folder.parent / f"{name}.ready").touch()
while not (folder.parent / "go").exists():
    time.sleep(0.005)
done = record.amend(folder, reason=f"change {name}", by=name)
print(done.entry.sequence)
"""


def _variant(analysis: Path, name: str, old: str, new: str) -> Path:
    folder = analysis.parent / name
    folder.mkdir()
    shutil.copy(analysis / "analysis.yaml", folder / "analysis.yaml")
    edit(folder, old, new)
    return folder


def test_two_amends_at_once_both_land_numbered_consecutively(analysis: Path) -> None:
    register(analysis, data_access="not_collected", by="x", now=WHEN)
    variants = {
        "first": _variant(analysis, "first", "alpha: 0.05", "alpha: 0.01"),
        "second": _variant(analysis, "second", "harmonics: 2", "harmonics: 1"),
    }
    env = {**os.environ, "EVALTK_LOCK_WAIT": "60"}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(analysis), str(folder), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name, folder in variants.items()
    ]
    deadline = time.monotonic() + 120
    while not all((analysis.parent / f"{n}.ready").exists() for n in variants):
        assert time.monotonic() < deadline, [c.poll() for c in children]
        time.sleep(0.01)
    (analysis.parent / "go").touch()
    outputs = [c.communicate(timeout=120) for c in children]
    assert [c.returncode for c in children] == [0, 0], outputs
    assert sorted(int(out) for out, _ in outputs) == [1, 2]
    log = read_log(analysis)
    assert [e.sequence for e in log.entries] == [0, 1, 2]
    assert {e.reason for e in log.amendments} == {"change first", "change second"}
    assert log.entries[2].previous_sha256 == log.entries[1].entry_sha256


def test_a_command_that_cannot_get_the_lock_stops_with_one_line(analysis: Path) -> None:
    register(analysis, data_access="not_collected", by="x", now=WHEN)
    edit(analysis, "alpha: 0.05", "alpha: 0.01")
    env = {**os.environ, "EVALTK_LOCK_WAIT": "0.5"}
    with folder_lock(analysis):
        done = subprocess.run(
            [str(EVALTK), "amend", str(analysis), "--reason", "r", "--by", "x"],
            capture_output=True,
            text=True,
            env=env,
        )
    assert done.returncode == 75
    assert done.stderr.strip() == (
        f"error: another evaltk command is using {analysis}; try again when it finishes"
    )
    assert len(read_log(analysis).entries) == 1


def test_the_lock_is_reentrant_within_a_process(tmp_path: Path) -> None:
    with folder_lock(tmp_path) as outer, folder_lock(tmp_path, wait=0) as inner:
        assert outer == inner == (tmp_path / LOCK_FILE).resolve()
    with folder_lock(tmp_path, wait=0):  # released: free again
        pass
