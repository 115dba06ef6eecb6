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
#: Run first in every test kernel: ``import ipywidgets`` then fails, as in a kernel where it is
#: not installed (most force and NHS notebook servers), whatever this environment holds.
WITHOUT_IPYWIDGETS = "import sys; sys.modules['ipywidgets'] = None"


@pytest.fixture(scope="session")
def execute_notebook():
    """Execute a notebook (nbformat) in a fresh IPython kernel of this interpreter, without
    ipywidgets, in folder ``cwd``; return it with its outputs. A cell's error fails the test
    with the cell and its traceback."""
    import nbclient

    def execute(notebook, cwd: Path, timeout: int = 120):
        client = nbclient.NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(cwd)}},
            extra_arguments=[f"--IPKernelApp.exec_lines={WITHOUT_IPYWIDGETS}"],
        )
        client.execute()
        return notebook

    return execute
