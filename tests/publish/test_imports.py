"""Publish only reads: it imports no estimator, no analysis step, no measure, no simulator.

Until import-linter enforces the layers, the rule is checked here on the source: every
``evaltk.*`` import of ``evaltk/publish`` (lazy ones included) is from an allowed package, and
no publish module imports a private name of another. Building the validation chapter must not
load the reference computations: it prints the committed records.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PUBLISH = Path(__file__).resolve().parents[2] / "evaltk" / "publish"
ALLOWED = (
    "evaltk.errors",
    "evaltk.locking",  # one build of a book at a time (the bottom layer, like errors)
    "evaltk.digest",  # hashes (the bottom layer, like errors)
    "evaltk.quick_exit",  # the Jupyter Book child ends its process (the bottom layer)
    "evaltk.lazy_exports",  # its public names loaded on first use (the bottom layer)
    "evaltk.garbage_collection",  # the Jupyter Book child's collector (the bottom layer)
    "evaltk.episodes",
    "evaltk.results",
    "evaltk.protocol",
    "evaltk.registration",
    "evaltk.verdict",
    "evaltk.power.report",
    "evaltk.power.sw_report",  # the stepped-wedge power file's models (data only)
    "evaltk.validation.record",
    "evaltk.validation.claims_record",  # published claims and scenarios as data; no estimator
    "evaltk.project",  # where a new book's sources are copied from (evaltk/_scaffold)
    "evaltk.estimators.render",  # the one way a level is written (format_level); fits nothing
    "evaltk.estimators.figure_file",  # the one way a figure is written to a PNG; fits nothing
    "evaltk.publish",
)


def _imports() -> list[tuple[str, int, str, list[str]]]:
    found = []
    for path in sorted(PUBLISH.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.append((path.name, node.lineno, node.module, [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                found += [(path.name, node.lineno, a.name, []) for a in node.names]
    return [item for item in found if item[2].split(".")[0] == "evaltk"]


def _allowed(module: str) -> bool:
    # ``from evaltk import __version__`` is the package itself, not a layer.
    return module == "evaltk" or any(module == a or module.startswith(f"{a}.") for a in ALLOWED)


def test_publish_imports_only_what_it_reads() -> None:
    wrong = [
        f"{name}:{line} {module}" for name, line, module, _ in _imports() if not _allowed(module)
    ]
    assert not wrong, f"publish imports a layer it must not: {wrong}"


def test_publish_imports_no_private_name() -> None:
    private = [
        f"{name}:{line} {module}.{symbol}"
        for name, line, module, symbols in _imports()
        for symbol in symbols
        if symbol.startswith("_") and symbol != "__version__"
    ]
    assert not private, f"private names imported across modules: {private}"


@pytest.mark.slow
def test_validation_chapter_loads_no_reference_computation(tmp_path: Path) -> None:
    records = Path(__file__).resolve().parents[2] / "book" / "validation"
    book = tmp_path / "book"
    (book / "validation").mkdir(parents=True)
    for record in records.glob("*.json"):
        (book / "validation" / record.name).write_bytes(record.read_bytes())
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from evaltk.publish.validation import write_validation_pages\n"
        f"write_validation_pages(Path({str(book)!r}))\n"
        "loaded = [m for m in sys.modules if m.startswith(('evaltk.validation.bernal2017',"
        " 'evaltk.validation.mpdta', 'evaltk.validation.reference_records',"
        " 'evaltk.estimators.staggered', 'evaltk.analysis', 'evaltk.measures'))]\n"
        "print(loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
    assert "rate ratio of the ban" in (book / "validation.md").read_text(encoding="utf-8")
