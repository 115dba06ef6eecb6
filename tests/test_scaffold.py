"""The scaffold a wheel carries is exactly the repository's own hand-written files.

``evaltk/scaffold.py`` lists them (setup.py copies that list into ``evaltk/_scaffold/``;
tests/cli/test_wheel_install.py checks the installed copies byte for byte): every file git
tracks under ``protocols/``, ``book/`` and ``analyses/example-*/`` must be on the list, or be
named as generated in ``book/.gitignore``, so that nothing committed is left out of the wheel
and nothing generated gets into it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from evaltk.project import find_project, scaffold_root
from evaltk.scaffold import MARKER, scaffold_files

ROOT = Path(__file__).resolve().parents[1]


def test_the_scaffold_is_every_tracked_hand_written_file() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files", "protocols", "book", "analyses/example-*"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert scaffold_files(ROOT) == sorted(tracked)
    assert "protocols/street-triage-its.yaml" in tracked
    assert "book/validation/reference-mpdta.json" in tracked


def test_generated_and_private_files_are_not_scaffold(tmp_path: Path) -> None:
    book = tmp_path / "book"
    (book / "_build" / "html").mkdir(parents=True)
    (book / "_build" / "html" / "index.html").write_text("x")
    (book / ".gitignore").write_text("/index.md\n/_build/\n")
    (book / "index.md").write_text("generated")
    (book / "methods.md").write_text("mine")
    (book / ".staging-1").mkdir()
    (book / ".staging-1" / "page.md").write_text("x")
    example = tmp_path / "analyses" / "example-a"
    for folder in ("data", "results", "power"):
        (example / folder).mkdir(parents=True)
        (example / folder / "f.csv").write_text("x")
    (example / "analysis.yaml").write_text("x")
    (tmp_path / "analyses" / "mine").mkdir()
    (tmp_path / "analyses" / "mine" / "analysis.yaml").write_text("x")
    assert scaffold_files(tmp_path) == [
        "analyses/example-a/analysis.yaml",
        "analyses/example-a/power/f.csv",
        "book/.gitignore",
        "book/methods.md",
    ]


def test_this_checkout_is_a_project_and_its_own_scaffold() -> None:
    assert (ROOT / MARKER).is_file()
    assert find_project(ROOT / "evaltk" / "cli") == ROOT
    assert scaffold_root() == ROOT  # an editable install reads the checkout's own folders
