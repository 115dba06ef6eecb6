"""Reading analyses: every problem is one line naming the file and what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaltk.errors import PublishError
from evaltk.publish.load import find_analyses, load_analyses, load_analysis
from evaltk.results.schema import AnalysisResult


def test_loads_results_figures_and_series(analyses_dir: Path, result: AnalysisResult) -> None:
    (loaded,) = load_analyses(analyses_dir)
    assert loaded.name == "example-street-triage"
    assert loaded.result == result
    assert set(loaded.figures) == {"s136_rate", "ae_conveyances"}
    assert all(path.is_file() for path in loaded.figures.values())
    assert loaded.series is not None and loaded.series.name == "series.csv"
    assert loaded.run_command == "evaltk run analyses/example-street-triage"


def test_an_analysis_not_run_yet_is_left_out_with_one_line(analyses_dir: Path) -> None:
    folder = analyses_dir / "not-run-yet"
    folder.mkdir()
    (folder / "analysis.yaml").write_text("protocol: x.yaml\n")
    said: list[str] = []
    loaded = load_analyses(analyses_dir, skipped=said.append)
    assert [a.name for a in loaded] == ["example-street-triage"]
    (line,) = said
    assert "not-run-yet: not run yet, left out of the book" in line
    assert "`evaltk run " in line and "not-run-yet` adds it" in line


def test_missing_results_names_the_file_and_the_command(tmp_path: Path) -> None:
    folder = tmp_path / "not-run-yet"
    folder.mkdir()
    (folder / "analysis.yaml").write_text("protocol: x.yaml\n")
    with pytest.raises(PublishError) as caught:
        load_analyses(tmp_path)
    message = str(caught.value)
    assert "not-run-yet/results/results.json: not found" in message
    assert "run `evaltk run " in message and "not-run-yet` first" in message
    assert "\n" not in message


def test_invalid_json_names_the_file_and_line(analyses_dir: Path) -> None:
    path = analyses_dir / "example-street-triage" / "results" / "results.json"
    path.write_text('{\n  "title": \n')
    with pytest.raises(PublishError, match=r"results\.json: not valid JSON \(line 3"):
        load_analysis(path.parents[1])


def test_schema_violation_names_the_field(analyses_dir: Path) -> None:
    path = analyses_dir / "example-street-triage" / "results" / "results.json"
    document = json.loads(path.read_text())
    del document["verdict"]
    path.write_text(json.dumps(document))
    with pytest.raises(PublishError, match=r"not a valid results file \(verdict: Field required"):
        load_analysis(path.parents[1])


def test_other_major_schema_version_is_refused(analyses_dir: Path) -> None:
    path = analyses_dir / "example-street-triage" / "results" / "results.json"
    document = json.loads(path.read_text())
    document["results_schema_version"] = "2.0"
    path.write_text(json.dumps(document))
    with pytest.raises(PublishError, match=r"results schema version 2\.0 cannot be read"):
        load_analysis(path.parents[1])


def test_missing_figure_names_the_figure(analyses_dir: Path) -> None:
    figure = analyses_dir / "example-street-triage" / "results" / "figures" / "ae_conveyances.png"
    figure.unlink()
    with pytest.raises(PublishError, match=r"figures/ae_conveyances\.png: figure for outcome"):
        load_analysis(figure.parents[2])


def test_figure_outside_results_is_refused(tmp_path: Path, result: AnalysisResult) -> None:
    from .conftest import write_analysis

    outcome = result.outcomes[0].model_copy(update={"figure": "../../secret.png"})
    bad = result.model_copy(update={"outcomes": [outcome]})
    folder = write_analysis(tmp_path / "analyses" / "bad", result)
    (folder / "results" / "results.json").write_text(bad.to_json())
    (tmp_path / "analyses" / "secret.png").write_bytes(b"x")
    with pytest.raises(PublishError, match="outside results/"):
        load_analysis(folder)


def test_zero_analyses_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "analyses"
    (empty / "_drafts").mkdir(parents=True)  # skipped: starts with '_'
    (empty / "notes").mkdir()  # skipped: neither analysis.yaml nor results/
    with pytest.raises(PublishError, match="no analyses to publish"):
        find_analyses(empty)


def test_missing_analyses_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="no such folder"):
        find_analyses(tmp_path / "nowhere")
