"""``evaltk init``: each template scaffolds an analysis that validates, registers and runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evaltk.cli.app import app
from evaltk.cli.init import PROTOCOLS, TEMPLATES
from evaltk.simulate import SimulationConfig, write_dataset

runner = CliRunner()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated dataset (the demo's five forces at 5 % volume), shared by the tests."""
    root = tmp_path_factory.mktemp("init")
    write_dataset(SimulationConfig.preset("demo", scale=0.05), root / "data")
    return root


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, f"evaltk {' '.join(args)}\n{result.output}"
    return result.output


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TEMPLATES))
def test_scaffold_validates_registers_and_runs(name: str, simulated: Path) -> None:
    analysis = simulated / name
    output = invoke("init", "--template", name, str(analysis))
    for step in ("evaltk simulate", "evaltk validate", "evaltk register", "evaltk run", "book"):
        assert step in output
    assert output.index("validate") < output.index("register") < output.index("evaltk run")

    text = (analysis / "analysis.yaml").read_text()
    document = yaml.safe_load(text)
    assert not Path(document["protocol"]).is_absolute()
    assert (analysis / document["protocol"]).resolve() == PROTOCOLS / f"{name}.yaml"
    lines = text.splitlines()
    for key in ("title:", "intervention:", "units:", "path:", "population:", "window:"):
        at = next(i for i, line in enumerate(lines) if line.strip().startswith(key))
        assert any("CHANGE" in line for line in lines[max(0, at - 3) : at + 1]), key

    # The analyst points the data at their extract (here: the shared simulated data).
    text = text.replace("path: data/episodes.parquet", "path: ../data/episodes.parquet")
    text = text.replace("population: data/population.csv", "population: ../data/population.csv")
    # Outside the analysis folder, so the protocol must say so (issue 14).
    text = re.sub(r"\n( *)path: \.\./data", r"\n\1allow_outside: true\n\1path: ../data", text)
    (analysis / "analysis.yaml").write_text(text)

    assert "is a valid protocol" in invoke("validate", str(analysis))
    invoke("register", str(analysis), "--data-access", "not_collected", "--by", "test")
    assert (analysis / "registration.json").is_file()
    invoke("run", str(analysis))
    results = json.loads((analysis / "results" / "results.json").read_text())
    assert results["registration"]["status"] == "registered"
    assert results["design"] == TEMPLATES[name].design


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    existing = tmp_path / "analysis.yaml"
    existing.write_text("protocol: mine.yaml\n")
    result = runner.invoke(
        app, ["init", "--template", "street-triage-its", str(tmp_path)], env={"COLUMNS": "200"}
    )
    assert result.exit_code != 0
    assert "already exists" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert existing.read_text() == "protocol: mine.yaml\n"


def test_needs_a_template_and_a_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "new")])
    assert result.exit_code != 0 and "--template" in result.output
    result = runner.invoke(app, ["init", "--template", "street-triage-its"])
    assert result.exit_code != 0 and "DIR" in result.output
    assert not (tmp_path / "new").exists()


def test_list_names_every_template() -> None:
    output = invoke("init", "--list")
    for name, info in TEMPLATES.items():
        assert name in output and f"design {info.design}" in output
        assert (PROTOCOLS / f"{name}.yaml").is_file()


def test_help_is_complete() -> None:
    output = invoke("init", "--help")
    for word in ("--template", "--list", "DIR", "CHANGE", "overwrite", *TEMPLATES):
        assert word in output
