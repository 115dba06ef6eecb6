"""``evaltk init``: each template scaffolds an analysis that validates, registers and runs;
without a template, init makes a project folder (tests/cli/test_wheel_install.py runs one from
the installed wheel)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evaltk.cli.app import app
from evaltk.cli.init import TEMPLATES
from evaltk.project import find_project, scaffold_root
from evaltk.scaffold import MARKER, scaffold_files
from evaltk.simulate import SimulationConfig, write_dataset

runner = CliRunner()
PROTOCOLS = scaffold_root() / "protocols"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small simulated datasets by preset, shared by the tests: the demo's five forces at 5 %
    volume, and all 43 forces (the synthetic control's donors) at its preset's volume."""
    folders = {}
    for preset, overrides in (("demo", {"scale": 0.05}), ("synthetic", {})):
        root = tmp_path_factory.mktemp(f"init-{preset}")
        write_dataset(SimulationConfig.preset(preset, **overrides), root / "data")
        folders[preset] = root
    return folders


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, f"evaltk {' '.join(args)}\n{result.output}"
    return result.output


#: Templates whose data `evaltk simulate --preset` writes (the trial's: `evaltk trial simulate`).
FORCE_TEMPLATES = [n for n, info in TEMPLATES.items() if info.design != "stepped_wedge"]


@pytest.mark.slow
@pytest.mark.parametrize("name", FORCE_TEMPLATES)
def test_scaffold_validates_registers_and_runs(name: str, simulated: dict[str, Path]) -> None:
    analysis = simulated[TEMPLATES[name].preset] / name
    output = invoke("init", "--template", name, str(analysis))
    assert f"--preset {TEMPLATES[name].preset}" in output
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


@pytest.mark.slow
def test_stepped_wedge_scaffold_validates_powers_draws_and_runs(tmp_path: Path) -> None:
    """The trial's own order of steps: validate without data, power from --baseline and --icc,
    register, draw, simulate on the drawn schedule (the demo example's rates), run."""
    analysis = tmp_path / "analyses" / "my-trial"
    output = invoke("init", "--template", "stepped-wedge-trial", str(analysis))
    steps = ("evaltk validate", "evaltk power", "evaltk register", "evaltk trial design")
    steps += ("evaltk trial simulate", "evaltk run", "evaltk book")
    assert [output.index(s) for s in steps] == sorted(output.index(s) for s in steps)
    text = (analysis / "analysis.yaml").read_text()
    document = yaml.safe_load(text)
    assert (analysis / document["protocol"]).resolve() == PROTOCOLS / "stepped-wedge-trial.yaml"
    template = yaml.safe_load((PROTOCOLS / "stepped-wedge-trial.yaml").read_text())
    # The scaffold repeats the template's illustrative trial, each value to change marked.
    assert document["design"]["trial"]["clusters"] == template["design"]["trial"]["clusters"]
    assert document["units"] == template["units"] and document["data"]["path"] == "data/series.csv"
    lines = text.splitlines()
    for key in ("title:", "units:", "path:", "window:", "clusters:", "steps:", "first_start:"):
        at = next(i for i, line in enumerate(lines) if line.strip().startswith(key))
        assert any("CHANGE" in line for line in lines[max(0, at - 3) : at + 1]), key

    assert "is a valid protocol" in invoke("validate", str(analysis), "--no-data")
    power = invoke(
        "power", str(analysis), "--baseline", "10", "--icc", "0.05", "--replicates", "40",
        "--effects", "0.8,1", "--workers", "1",
    )  # fmt: skip
    assert "power (registered test)" in power and "not drawn yet" in power
    invoke("register", str(analysis), "--data-access", "not_collected", "--by", "test")
    invoke("trial", "design", str(analysis), "--by", "test")
    assert "true rate ratios s136 0.8" in invoke("trial", "simulate", str(analysis))
    invoke("run", str(analysis))
    results = json.loads((analysis / "results" / "results.json").read_text())
    assert results["registration"]["status"] == "registered"
    assert results["design"] == "stepped_wedge"
    # The same rates and effects as the demo's example series (its data preset).
    from evaltk.cli.demo import TRIAL_EFFECTS

    truth = json.loads((analysis / "data" / "truth.json").read_text())
    assert truth["rate_ratios"] == {c: v[1] for c, v in TRIAL_EFFECTS.items()}


def test_trial_simulate_needs_the_drawn_schedule(tmp_path: Path) -> None:
    analysis = tmp_path / "my-trial"
    invoke("init", "--template", "stepped-wedge-trial", str(analysis))
    result = runner.invoke(app, ["trial", "simulate", str(analysis)], env={"COLUMNS": "200"})
    assert result.exit_code != 0
    assert "the schedule is not drawn yet" in result.output
    assert f"evaltk trial design {analysis}" in result.output
    assert not (analysis / "data").exists()


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


def test_needs_a_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", "--template", "street-triage-its"])
    assert result.exit_code != 0 and "DIR" in result.output
    result = runner.invoke(app, ["init"])
    assert result.exit_code != 0 and "DIR" in result.output and "--template" in result.output


def test_init_without_template_makes_a_project(tmp_path: Path) -> None:
    project = tmp_path / "my-evaluation"
    output = invoke("init", str(project))
    assert "made the evaltk project" in output and "evaltk demo" in output
    assert find_project(project / "analyses") == project.resolve()
    assert (project / MARKER).is_file() and (project / "analyses").is_dir()
    readme = (project / "README.md").read_text(encoding="utf-8")
    for command in ("evaltk demo", "evaltk run", "evaltk book", "evaltk init -t"):
        assert command in readme
    # The templates and the book's sources, as evaltk's own, validation records included.
    expected = scaffold_files(scaffold_root(), ("protocols", "book"))
    assert "book/validation/reference-bernal2017.json" in expected
    assert scaffold_files(project, ("protocols", "book")) == expected
    for name in expected:
        assert (project / name).read_bytes() == (scaffold_root() / name).read_bytes(), name

    # An analysis made inside follows the project's own copy of the template.
    analysis = project / "analyses" / "mine"
    invoke("init", "--template", "street-triage-its", str(analysis))
    document = yaml.safe_load((analysis / "analysis.yaml").read_text(encoding="utf-8"))
    assert document["protocol"] == "../../protocols/street-triage-its.yaml"

    # A project is never made twice, nor inside another one; nothing is overwritten.
    (project / "book" / "_config.yml").write_text("title: ours\n", encoding="utf-8")
    for target in (project, analysis / "nested"):
        result = runner.invoke(app, ["init", str(target)], env={"COLUMNS": "200"})
        assert result.exit_code == 2, result.output
        assert len(result.output.strip().splitlines()) == 1
    assert "project" in result.output and "--template" in result.output
    assert not (analysis / "nested").exists()
    assert (project / "book" / "_config.yml").read_text(encoding="utf-8") == "title: ours\n"


def test_init_fills_an_existing_folder_keeping_its_files(tmp_path: Path) -> None:
    (tmp_path / "protocols").mkdir()
    (tmp_path / "protocols" / "street-triage-its.yaml").write_text("# mine\n")
    (tmp_path / "README.md").write_text("ours\n")
    output = invoke("init", str(tmp_path))
    assert "already there kept as they were" in output
    assert (tmp_path / "protocols" / "street-triage-its.yaml").read_text() == "# mine\n"
    assert (tmp_path / "README.md").read_text() == "ours\n"
    assert (tmp_path / "book" / "_config.yml").is_file() and (tmp_path / MARKER).is_file()


def test_list_names_every_template() -> None:
    output = invoke("init", "--list")
    for name, info in TEMPLATES.items():
        assert name in output and f"design {info.design}" in output
        assert (PROTOCOLS / f"{name}.yaml").is_file()


def test_help_is_complete() -> None:
    output = invoke("init", "--help")
    for word in ("--template", "--list", "DIR", "CHANGE", "overwrite", "project", *TEMPLATES):
        assert word in output
