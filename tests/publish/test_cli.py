"""`evaltk book` on the command line: help, and user errors as one line without a traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from evaltk.cli import app

RUNNER = CliRunner()


def test_help_is_complete() -> None:
    result = RUNNER.invoke(app, ["book", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0
    for option in ("--analyses", "--book-dir", "--strict", "--no-strict"):
        assert option in result.output
    assert "index.html" in result.output


def test_zero_analyses_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "analyses").mkdir()
    result = RUNNER.invoke(
        app,
        ["book", "--analyses", str(tmp_path / "analyses"), "--book-dir", str(tmp_path / "b")],
        env={"COLUMNS": "500"},
    )
    assert result.exit_code == 2
    assert "error: " in result.stderr and "no analyses to publish" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_unrun_analysis_names_the_missing_file(tmp_path: Path, book_dir: Path) -> None:
    folder = tmp_path / "analyses" / "pilot"
    folder.mkdir(parents=True)
    (folder / "analysis.yaml").write_text("protocol: x.yaml\n")
    result = RUNNER.invoke(
        app,
        ["book", "--analyses", str(tmp_path / "analyses"), "--book-dir", str(book_dir)],
        env={"COLUMNS": "500"},
    )
    assert result.exit_code == 2
    assert "pilot/results/results.json: not found; run `evaltk run" in result.stderr
