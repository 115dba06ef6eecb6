"""`evaltk run`: results written whole, deterministic, and nothing written on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from evaltk.analysis.run import run_analysis
from evaltk.cli.progress import without_steps
from evaltk.errors import DataError
from evaltk.registration import amend
from evaltk.results.schema import AnalysisResult

EVALTK = Path(sys.executable).parent / "evaltk"


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EVALTK), *map(str, args)], capture_output=True, text=True)


def test_run_writes_every_result_file(analysis_dir: Path) -> None:
    result = run_analysis(analysis_dir)
    folder = analysis_dir / "results"
    written = AnalysisResult.model_validate_json((folder / "results.json").read_text())
    assert written == result
    assert written.outcomes[0].outcome == "s136_rate"
    for outcome in written.outcomes:
        assert outcome.estimate is not None, outcome.note
        assert outcome.figure is not None and (folder / outcome.figure).is_file()
        assert outcome.n_periods == 72
    assert written.data.rows_in == written.data.rows_used + sum(written.data.excluded.values())
    series = pd.read_csv(folder / "series.csv")
    assert set(series["outcome"]) == {o.outcome for o in written.outcomes}
    assert written.verdict.label in {
        "Resolves",
        "Displaces",
        "Refers on",
        "No detectable change",
        "Inconclusive",
        "Worsens",
    }


def test_results_json_is_byte_identical_across_runs(analysis_dir: Path) -> None:
    run_analysis(analysis_dir)
    first = (analysis_dir / "results" / "results.json").read_bytes()
    run_analysis(analysis_dir)
    assert (analysis_dir / "results" / "results.json").read_bytes() == first


def test_missing_column_is_one_line_and_writes_nothing(analysis_dir: Path) -> None:
    episodes = pd.read_parquet(analysis_dir / "data" / "episodes.parquet")
    episodes.drop(columns=["ae_conveyance"]).to_parquet(analysis_dir / "data" / "episodes.parquet")
    done = cli("run", analysis_dir)
    assert done.returncode != 0
    lines = without_steps(done.stderr)
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "ae_conveyance" in lines[0] and "episodes.parquet" in lines[0]
    assert not (analysis_dir / "results").exists()


def test_unparseable_date_is_one_line_and_keeps_old_results(analysis_dir: Path) -> None:
    run_analysis(analysis_dir)
    before = (analysis_dir / "results" / "results.json").read_bytes()
    episodes = pd.read_parquet(analysis_dir / "data" / "episodes.parquet")
    episodes["timestamp"] = episodes["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    episodes.loc[41, "timestamp"] = "31/02/2016 25:00"
    episodes.to_csv(analysis_dir / "data" / "episodes.csv", index=False)
    yaml = (analysis_dir / "analysis.yaml").read_text().replace("episodes.parquet", "episodes.csv")
    (analysis_dir / "analysis.yaml").write_text(yaml)
    amend(analysis_dir, reason="the force sent a CSV extract", by="test")
    done = cli("run", analysis_dir)
    assert done.returncode != 0
    lines = without_steps(done.stderr)
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "timestamp" in lines[0] and "31/02/2016 25:00" in lines[0]
    assert "episodes.csv" in lines[0]
    assert (analysis_dir / "results" / "results.json").read_bytes() == before
    # The lock file and evaltk's (git-ignored, now empty) work folder stay, and the first
    # run's data record; nothing else was written.
    assert sorted(p.name for p in analysis_dir.iterdir()) == [
        ".evaltk",
        ".evaltk.lock",
        "analysis.yaml",
        "data",
        "data-seen.json",
        "registration.json",
        "results",
    ]
    assert [p.name for p in (analysis_dir / ".evaltk").iterdir()] == [".gitignore"]


def test_missing_data_file_names_the_path(analysis_dir: Path) -> None:
    (analysis_dir / "data" / "episodes.parquet").unlink()
    with pytest.raises(DataError, match=r"data\.path: file not found: .*episodes\.parquet"):
        run_analysis(analysis_dir)


def test_protocol_error_exits_non_zero_without_traceback(analysis_dir: Path) -> None:
    yaml_path = analysis_dir / "analysis.yaml"
    yaml_path.write_text(yaml_path.read_text() + "desing: {kind: its}\n")
    done = cli("run", analysis_dir)
    assert done.returncode == 2
    assert without_steps(done.stderr) == [
        f"error: {yaml_path}:4: desing: unknown field; check its spelling against the template"
    ]
    assert not (analysis_dir / "results").exists()


def test_results_json_has_the_documented_contract(analysis_dir: Path) -> None:
    run_analysis(analysis_dir)
    data = json.loads((analysis_dir / "results" / "results.json").read_text())
    for entry in data["outcomes"]:
        for key in (
            "outcome",
            "role",
            "design",
            "estimator",
            "estimate",
            "ci_low",
            "ci_high",
            "p_value",
            "scale",
            "n_units",
            "n_periods",
        ):
            assert key in entry
    assert data["verdict"]["label"] and data["registration"]["status"] == "registered"
