"""A small simulated analysis folder shared by the run tests (one force, a few thousand rows).

The folder is registered (as an evaluator would before running), so `evaltk run` accepts it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evaltk.registration import register
from evaltk.simulate import SimulationConfig, write_dataset

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "protocols" / "street-triage-its.yaml"


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Nottinghamshire alone, 2014-2019, street triage from April 2016 (s136 x0.7)."""
    folder = tmp_path_factory.mktemp("small") / "data"
    config = SimulationConfig.preset("small", scale=0.1, seed=11)
    write_dataset(config, folder)
    return folder


@pytest.fixture()
def analysis_dir(tmp_path: Path, small_dataset: Path) -> Path:
    folder = tmp_path / "analyses" / "small-triage"
    shutil.copytree(small_dataset, folder / "data")
    (folder / "analysis.yaml").write_text(
        f"protocol: {TEMPLATE}\n"
        "title: Small simulated force\n"
        "data: {kind: episodes, path: data/episodes.parquet, population: data/population.csv}\n",
        encoding="utf-8",
    )
    register(folder, data_access="not_collected", by="test", now="2024-01-01T00:00:00Z")
    return folder
