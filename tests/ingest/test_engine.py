"""The DuckDB connection: its progress bar is off in a terminal and in a Jupyter kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat

from evaltk.ingest.engine import _without_progress_bar, connect

REFUSAL = "Could not change the progress bar setting"


def _setting(con) -> bool:
    [(on,)] = con.execute("SELECT current_setting('enable_progress_bar')").fetchall()
    return bool(on)


def test_progress_bar_turned_off_where_on() -> None:
    # DuckDB's default depends on where it runs (on in a terminal, off under pytest's capture),
    # so the bar is switched on first to see it switched off.
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = true")
    assert _setting(con) is True
    _without_progress_bar(con)
    assert _setting(con) is False
    assert _setting(connect()) is False


def test_connect_in_a_kernel_without_ipywidgets(execute_notebook, tmp_path: Path) -> None:
    """In a Jupyter kernel without ipywidgets, DuckDB refuses `SET enable_progress_bar` even to
    false (the failure users met: nothing that built measures ran in a notebook); connect()
    must still give a working connection with the bar off."""
    cells = [
        # The condition itself: DuckDB's refusal in this kernel.
        "import duckdb\n"
        "try:\n"
        "    duckdb.connect().execute('SET enable_progress_bar = false')\n"
        "    print('SET accepted')\n"
        "except duckdb.InvalidInputException as error:\n"
        "    print('SET refused:', error)",
        "from evaltk.ingest.engine import _without_progress_bar, connect\n"
        "con = connect()\n"
        "print('bar', con.execute(\"SELECT current_setting('enable_progress_bar')\").fetchall())\n"
        "print('sum', con.execute('SELECT sum(range) FROM range(1000)').fetchall())",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    execute_notebook(notebook, tmp_path)
    refused, connected = ("".join(o.get("text", "") for o in c.outputs) for c in notebook.cells)
    assert refused.startswith("SET refused:") and REFUSAL in refused
    assert connected.splitlines() == ["bar [(False,)]", "sum [(499500,)]"]
