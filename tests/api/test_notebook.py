"""The book's Python API chapter (book/api.ipynb), executed as a user would run it: a fresh
kernel without ipywidgets, simulated data in a temporary folder, a registered run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "book" / "api.ipynb"
STEPS = [
    "Reading the protocol",
    "Checking the registration",
    "Measuring outcomes",
    "Fitting 10 models",
    "Deciding and writing results",
]


def _outputs(notebook, needle: str) -> list:
    """The outputs of the code cell whose source contains ``needle``."""
    [cell] = [c for c in notebook.cells if c.cell_type == "code" and needle in c.source]
    return cell.outputs


def _data(outputs, mime: str) -> str:
    return "".join(o["data"][mime] for o in outputs if "data" in o and mime in o["data"])


@pytest.fixture(scope="module")
def executed(execute_notebook, tmp_path_factory: pytest.TempPathFactory):
    """The notebook executed afresh, and the results.json its run wrote."""
    tmp = tmp_path_factory.mktemp("kernel-tmp")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(tmp))  # the kernel's tempfile.mkdtemp lands here
        execute_notebook(notebook, NOTEBOOK.parent)
    [results] = tmp.glob("evaltk-notebook-*/my-force/results/results.json")
    return notebook, json.loads(results.read_text(encoding="utf-8"))


def test_notebook_shows_the_verdict_and_numbers_of_results_json(executed) -> None:
    notebook, results = executed
    label = results["verdict"]["label"]
    shown = _data(_outputs(notebook, "res = ev.run(analysis)"), "text/html")
    assert re.search(rf"<p style='font-size:1.2em;margin:0'><b>{re.escape(label)}</b></p>", shown)
    assert "Where demand went" in shown and "data:image/png;base64," in shown
    # The tidy table shows results.json's s136_rate estimate, rounded to 3 places.
    s136 = next(o for o in results["outcomes"] if o["outcome"] == "s136_rate")
    table = _data(_outputs(notebook, "res.tidy()"), "text/plain")
    row = next(line for line in table.splitlines() if "s136_rate" in line)
    assert f"{s136['estimate']:.3f}" in row.split()
    assert _data(_outputs(notebook, "ev.read_results"), "text/plain") == repr(label)


def test_notebook_plots_and_prints_only_step_lines(executed) -> None:
    notebook, _ = executed
    assert _data(_outputs(notebook, "s136.plot()"), "image/png")  # a figure, not its repr
    run = _outputs(notebook, "res = ev.run(analysis)")
    printed = "".join(o["text"] for o in run if o["output_type"] == "stream")
    assert printed.splitlines() == STEPS
    # Nothing on stderr anywhere (no DuckDB bar, no widget warning, no model warnings).
    streams = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert [o for o in streams if o.get("name") == "stderr"] == []


def test_committed_outputs_are_current(executed) -> None:
    """The book shows the committed outputs: they must be what the notebook gives today
    (re-execute with `python scripts/execute_notebook.py book/api.ipynb`)."""
    notebook, _ = executed
    committed = nbformat.read(NOTEBOOK, as_version=4)
    for needle in ("res.tidy()", "ev.read_results", "print(s136.summary())"):
        fresh, kept = _outputs(notebook, needle), _outputs(committed, needle)
        assert _data(kept, "text/plain") == _data(fresh, "text/plain"), needle
        assert [o.get("text") for o in kept] == [o.get("text") for o in fresh], needle
