"""``evaltk simulate`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import evaltk.cli.simulate  # noqa: F401  (registers the command)
from evaltk.cli.app import app

runner = CliRunner()


def test_help_is_complete() -> None:
    result = runner.invoke(app, ["simulate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--preset", "--seed", "--scale", "--years", "--effect", "--overwrite"):
        assert option in result.output
    assert "hospital_wait_minutes" in result.output and "truth.json" in result.output


def test_writes_a_dataset_with_overrides(tmp_path: Path) -> None:
    out = tmp_path / "small"
    result = runner.invoke(
        app,
        ["simulate", str(out), "--preset", "small", "--seed", "11", "--years", "3",
         "--scale", "0.05", "-e", "s136=0.8", "--effect", "arrest=1.1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Wrote ") and "for 1 force(s) to" in result.output
    truth = json.loads((out / "truth.json").read_text())
    assert truth["seed"] == 11 and truth["period"] == {
        "first": "2014-01",
        "last": "2016-12",
        "months": 36,
    }
    assert truth["config"]["scale"] == 0.05
    assert truth["effects"]["s136"]["ratio"] == 0.8
    assert truth["effects"]["arrest"]["ratio"] == 1.1
    assert truth["effects"]["referral"]["ratio"] == 1.0  # --effect replaces the preset's


@pytest.mark.parametrize(
    ("effect", "message"),
    [
        ("nurses=2", "unknown outcome 'nurses'"),
        ("s136=lots", "'lots' is not a number"),
        ("s136", "expected KEY=RATIO"),
        ("s136=0.1", "impossible with coverage"),
    ],
)
def test_bad_effect_is_one_line_and_non_zero(tmp_path: Path, effect: str, message: str) -> None:
    result = runner.invoke(app, ["simulate", str(tmp_path / "x"), "--effect", effect])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "x").exists()


def test_existing_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["simulate", str(tmp_path), "--preset", "small"])
    assert result.exit_code == 2 and "not empty" in result.output
