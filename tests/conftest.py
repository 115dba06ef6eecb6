"""Shared fixtures: paths to the project and to ../shared/reference."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = (ROOT / ".." / "shared" / "reference").resolve()


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE} (../shared beside the checkout)")
    return REFERENCE


# -- notebooks ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def execute_notebook():
    """``execute(notebook, cwd)``: run a notebook (nbformat) in a fresh IPython kernel of this
    interpreter without ipywidgets, as scripts/execute_notebook.py does for the book."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "execute_notebook", ROOT / "scripts" / "execute_notebook.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.execute
