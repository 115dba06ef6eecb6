"""The demo's analyses in worker processes: as many workers as cores (bounded), results and
errors in the order given, an error the same whether it comes from a worker or from here.

The byte-identity of what the analyses write either way is checked end to end by
tests/analysis/test_demo.py (the demo runs them in workers on any machine with two cores,
against golden files written one after another).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from evaltk.cli import parallel_runs
from evaltk.cli.parallel_runs import MAX_WORKERS, PRELOAD, run_in_order, worker_count
from evaltk.errors import ProtocolError


@pytest.mark.parametrize(
    ("cores", "jobs", "expected"),
    [(1, 5, 1), (2, 5, 2), (3, 2, 2), (16, 5, MAX_WORKERS), (16, 1, 1)],
)
def test_one_worker_per_core_bounded_by_the_jobs_and_the_cap(
    monkeypatch: pytest.MonkeyPatch, cores: int, jobs: int, expected: int
) -> None:
    monkeypatch.setattr(parallel_runs, "available_cores", lambda: cores)
    assert worker_count(jobs) == expected


@pytest.mark.parametrize("workers", [1, 2])
def test_the_first_folders_error_stops_the_runs_with_its_own_message(
    tmp_path: Path, workers: int
) -> None:
    folders = [tmp_path / "first", tmp_path / "second"]
    announced: list[int] = []
    console = Console(file=open(tmp_path / "out.txt", "w", encoding="utf-8"))  # noqa: SIM115
    runs = run_in_order(folders, console, workers=workers, announce=announced.append)
    with pytest.raises(ProtocolError) as raised:
        next(runs)
    # The error class and message of `evaltk run first`, whichever process ran it.
    assert str(raised.value) == f"{tmp_path / 'first'}: file not found; check the path"
    # One after another, the first is announced as it starts; in workers, only a result is.
    assert announced == ([0] if workers == 1 else [])
    console.file.close()


def test_what_the_workers_would_import_is_imported_before_they_fork() -> None:
    """Each name preloaded exists (a module renamed must be renamed in PRELOAD too)."""
    code = "import importlib, sys; [importlib.import_module(n) for n in sys.argv[1:]]"
    done = subprocess.run([sys.executable, "-c", code, *PRELOAD], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
