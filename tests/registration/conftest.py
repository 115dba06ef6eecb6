"""A self-contained analysis (the template's full text as analysis.yaml) and small data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evaltk.simulate import SimulationConfig, write_dataset

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "protocols" / "street-triage-its.yaml"
WHEN = "2024-01-01T00:00:00Z"


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("registration-data") / "data"
    write_dataset(SimulationConfig.preset("small", scale=0.1, seed=5), folder)
    return folder


@pytest.fixture()
def analysis(tmp_path: Path) -> Path:
    """analyses/triage/analysis.yaml holding the whole template (so tests can edit any value)."""
    folder = tmp_path / "analyses" / "triage"
    folder.mkdir(parents=True)
    (folder / "analysis.yaml").write_text(TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


@pytest.fixture()
def analysis_with_data(analysis: Path, small_data: Path) -> Path:
    shutil.copytree(small_data, analysis / "data")
    return analysis


def edit(folder: Path, old: str, new: str) -> None:
    """Replace one exact piece of analysis.yaml (fails if it is not there exactly once)."""
    path = folder / "analysis.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    path.write_text(text.replace(old, new), encoding="utf-8")
