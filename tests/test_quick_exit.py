"""Ending a process without the interpreter's teardown keeps everything that ending must do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from evaltk.quick_exit import exit_status


def _python(code: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (3, 3), ("stopped: why", 1)])
def test_exit_status_is_the_one_python_gives(code: object, status: int) -> None:
    assert exit_status(SystemExit(code)) == status


def test_exit_now_runs_exit_handlers_and_flushes_the_standard_streams(tmp_path: Path) -> None:
    handler = tmp_path / "handler.txt"
    done = _python(
        "import atexit, sys, tempfile\n"
        "from pathlib import Path\n"
        "from evaltk.quick_exit import exit_now\n"
        f"atexit.register(lambda: Path({str(handler)!r}).write_text('ran'))\n"
        # A temporary folder still open at exit is removed by its exit handler, as Python does.
        f"temporary = tempfile.TemporaryDirectory(dir={str(tmp_path)!r})\n"
        "Path(temporary.name, 'scratch').write_text('x')\n"
        "sys.stdout.write('unflushed output')\n"
        "sys.stderr.write('unflushed error')\n"
        "exit_now(7)\n"
    )
    assert done.returncode == 7
    assert (done.stdout, done.stderr) == ("unflushed output", "unflushed error")
    assert handler.read_text() == "ran"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["handler.txt"]


def test_the_evaltk_command_ends_with_its_status_and_output() -> None:
    entry = "from evaltk.cli.entry import main; import sys; sys.argv[0] = 'evaltk'; main()"
    helped = _python(entry, "--help")
    assert helped.returncode == 0
    assert "demo" in helped.stdout and "Usage" in helped.stdout
    wrong = _python(entry, "no-such-command")
    assert wrong.returncode == 2
    assert "No such command" in wrong.stderr
