"""Execute a notebook in place, as the book shows it: ``python scripts/execute_notebook.py
book/api.ipynb``.

The kernel is this interpreter's, in the notebook's folder, with ``ipywidgets`` made
unimportable, as on most force and NHS notebook servers (DuckDB behaves differently there;
see evaltk/ingest/engine.py). tests/api/test_notebook.py runs the same function on a copy.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

#: Run first in the kernel: ``import ipywidgets`` then fails, whatever this environment holds.
WITHOUT_IPYWIDGETS = "import sys; sys.modules['ipywidgets'] = None"


def execute(notebook: Any, cwd: Path, timeout: int = 180) -> Any:
    """Execute ``notebook`` (nbformat) in a fresh kernel in ``cwd``; return it with outputs.

    A cell that raises stops the run with ``nbclient.exceptions.CellExecutionError`` naming
    the cell and its traceback.
    """
    import nbclient

    client = nbclient.NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        extra_arguments=[f"--IPKernelApp.exec_lines={WITHOUT_IPYWIDGETS}"],
    )
    client.execute()
    return notebook


def main(path: str) -> None:
    import nbformat

    target = Path(path)
    notebook = nbformat.read(target, as_version=4)
    execute(notebook, target.resolve().parent)
    nbformat.write(notebook, target)
    print(f"executed {target}")


if __name__ == "__main__":
    main(sys.argv[1])
