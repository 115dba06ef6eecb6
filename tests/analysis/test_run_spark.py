"""`evaltk run --engine spark`: the same results.json, byte for byte, as the default DuckDB run.

Only the unit x month panel comes back from Spark; everything after it (models, verdict,
ledger, figures) runs where evaltk runs, so any difference would be in the measures. The run
goes through the command line (in this process, so that it uses the test session's Spark).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from evaltk.analysis.run import run_analysis
from evaltk.cli import app

# One worker runs every Spark test (`make test`: --dist loadgroup), so one JVM starts.
SPARK = pytest.mark.xdist_group("spark")


@SPARK
def test_run_on_spark_writes_the_duckdb_results_json(analysis_dir: Path, spark) -> None:
    run_analysis(analysis_dir)
    on_duckdb = (analysis_dir / "results" / "results.json").read_bytes()
    panel_duckdb = (analysis_dir / "results" / "panel.csv").read_bytes()
    (analysis_dir / "results" / "results.json").unlink()
    done = CliRunner().invoke(
        app, ["run", str(analysis_dir), "--engine", "spark", "--spark-master", "local[2]"]
    )
    assert done.exit_code == 0, done.output
    assert "Measuring outcomes on Spark" in done.output
    assert (analysis_dir / "results" / "results.json").read_bytes() == on_duckdb
    assert (analysis_dir / "results" / "panel.csv").read_bytes() == panel_duckdb


def test_engine_options_are_checked_in_one_line(analysis_dir: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["run", str(analysis_dir), "--spark-remote", "sc://h:15002"])
    assert done.exit_code == 2
    assert "--spark-master and --spark-remote need --engine spark" in done.output
    done = runner.invoke(
        app, ["run", str(analysis_dir), "--engine", "spark", "--spark-remote", "h:15002"]
    )
    assert done.exit_code == 2
    assert "a Spark Connect address starts with sc://" in done.output
    assert not (analysis_dir / "results").exists()
