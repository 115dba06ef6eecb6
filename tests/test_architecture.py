"""The architecture, enforced: layer contracts (import-linter) and every module importable alone.

The layers are listed in pyproject.toml ([tool.importlinter]) and in ARCHITECTURE.md: a package
may import the layers below it, never one above it, and independent siblings in one layer
(``a | b``) never import each other. A circular import between two modules can hide for months
when some other import happens to load one of them first; importing each module first, in an
interpreter that has loaded nothing of evaltk, finds it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "evaltk"

#: Forks a child per module from a parent that has imported the heavy third-party libraries
#: (not evaltk), so each module is the first evaltk import of its own interpreter state.
_IMPORT_EACH = """
import importlib, os, sys, traceback
import numpy, pandas, scipy.stats, statsmodels.api, matplotlib, duckdb, pydantic  # noqa
failed, running = [], {}

def reap():
    pid, status = os.wait()
    if status != 0:
        failed.append(running[pid])
    del running[pid]

for name in sys.argv[1:]:
    if len(running) >= 2:  # two at a time: the machine has two cores
        reap()
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            traceback.print_exc(limit=-3)
            os._exit(1)
        os._exit(0)
    running[pid] = name
while running:
    reap()
print("FAILED:" + ",".join(sorted(failed)))
"""


def modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    names = modules()
    assert len(names) > 100  # the listing found the package
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, *names],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    failed = done.stdout.strip().rsplit("FAILED:", 1)[-1]
    assert failed == "", f"modules that fail when imported first: {failed}\n{done.stderr[-3000:]}"


def test_layer_contracts_hold() -> None:
    """import-linter checks every contract of pyproject.toml (layers, no cycles)."""
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
