"""The collector settings of evaltk's own processes: each does what it says, each is applied
where evaltk's processes start (the demo's analysis workers, the Jupyter Book child) and
never to the process that started them."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from evaltk.cli import parallel_runs
from evaltk.cli.parallel_runs import run_in_order
from evaltk.errors import ProtocolError
from evaltk.garbage_collection import FEWER_COLLECTIONS, paused


@pytest.mark.parametrize("enabled", [True, False])
def test_paused_collects_nothing_inside_and_restores_the_collector_after(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(RuntimeError), paused():
            raise RuntimeError("inside")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def _report_collector(*args: object) -> None:
    """In place of an analysis: the worker's collector settings, sent back as the message of
    an error (an analysis's error travels back whole and stops the runs)."""
    raise ProtocolError(f"thresholds {gc.get_threshold()}, frozen {gc.get_freeze_count() > 0}")


def test_the_demos_workers_set_aside_what_they_share_and_collect_less_often(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = gc.get_threshold(), gc.get_freeze_count()
    assert before[0] != FEWER_COLLECTIONS
    # The workers are forked from this process, so they run the analysis replaced here.
    monkeypatch.setattr(parallel_runs, "_run", _report_collector)
    console = Console(file=open(tmp_path / "out.txt", "w", encoding="utf-8"))  # noqa: SIM115
    runs = run_in_order([tmp_path], console, workers=2, announce=lambda i: None)
    with pytest.raises(ProtocolError) as raised:
        next(runs)
    console.file.close()
    assert str(raised.value) == f"thresholds {FEWER_COLLECTIONS}, frozen True"
    # The process that started the workers keeps its own settings.
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_the_jupyter_book_child_builds_with_sphinx_set_aside_and_fewer_collections() -> None:
    # The child with jupyter-book's command line replaced by a report of the collector at
    # the moment the build would start.
    code = (
        "import gc, sys\n"
        "import jupyter_book.cli.main as cli\n"
        "def report():\n"
        "    print(gc.get_threshold(), gc.get_freeze_count() > 0, gc.isenabled(), flush=True)\n"
        "    raise SystemExit(0)\n"
        "cli.main = report\n"
        "from evaltk.publish import jupyter_book_child\n"
        "sys.argv = ['jupyter_book_child', 'build', 'BOOK']\n"
        "jupyter_book_child.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input='["build", "BOOK"]\n',
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{FEWER_COLLECTIONS} True True"
