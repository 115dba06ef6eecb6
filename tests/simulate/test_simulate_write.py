"""write_dataset: the three files, byte-identical reruns, and atomic failure."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from evaltk import __version__
from evaltk.episodes.schema import FIELD_NAMES, POPULATION_FIELDS
from evaltk.errors import SimulationError
from evaltk.simulate import EFFECT_NAMES, SimulationConfig, write_dataset
from evaltk.simulate import write as write_module

FILES = ("episodes.parquet", "population.csv", "truth.json")


@pytest.fixture(scope="module")
def small() -> SimulationConfig:
    return SimulationConfig.preset("small")


def test_writes_the_three_files(tmp_path: Path, small: SimulationConfig) -> None:
    calls: list[tuple[int, int]] = []
    out = write_dataset(small, tmp_path / "data", progress=lambda d, t: calls.append((d, t)))
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert calls == [(1, 1)]

    episodes = pq.ParquetFile(out / "episodes.parquet")
    assert tuple(episodes.schema_arrow.names) == FIELD_NAMES
    assert 2_000 <= episodes.metadata.num_rows <= 8_000
    assert episodes.metadata.row_group(0).column(0).compression == "ZSTD"

    population = pd.read_csv(out / "population.csv")
    assert tuple(population.columns) == POPULATION_FIELDS
    assert population["year"].tolist() == list(range(2014, 2020))

    truth = json.loads((out / "truth.json").read_text())
    assert truth["evaltk_version"] == __version__ and truth["seed"] == small.seed
    assert truth["forces"] == [
        {"force": "E23000019", "name": "Nottinghamshire", "start": "2016-04", "treated_months": 45}
    ]
    assert set(truth["effects"]) == set(EFFECT_NAMES)
    s136 = truth["effects"]["s136"]
    assert s136["ratio"] == 0.7 and s136["scale"] == "count"
    assert s136["definition"].startswith(
        "ratio of expected monthly s136 detentions in a treated force-month to the "
        "counterfactual without triage"
    )
    assert s136["expected_treated"] < s136["expected_counterfactual"]
    assert truth["effects"]["arrest"]["ratio"] == 1.0
    assert SimulationConfig(**truth["config"]) == small  # the config round-trips


def test_same_config_gives_byte_identical_files(tmp_path: Path) -> None:
    config = SimulationConfig.preset("demo")
    first = write_dataset(config, tmp_path / "a")
    second = write_dataset(config, tmp_path / "b")
    for name in FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    other = write_dataset(config.model_copy(update={"seed": 7}), tmp_path / "c")
    assert (other / FILES[0]).read_bytes() != (first / FILES[0]).read_bytes()


def test_failure_leaves_nothing_behind(
    tmp_path: Path, small: SimulationConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(config: SimulationConfig, true_ledgers: object = None) -> dict:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(write_module, "truth", broken)  # fails after the parquet is written
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_dataset(small, tmp_path / "data")
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_an_existing_dataset(
    tmp_path: Path, small: SimulationConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = write_dataset(small, tmp_path / "data")
    before = (out / "episodes.parquet").read_bytes()

    def broken(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(write_module, "population_table", broken)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(small.model_copy(update={"seed": 3}), out, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["data"]
    assert (out / "episodes.parquet").read_bytes() == before


def test_refuses_a_non_empty_directory_unless_overwrite(
    tmp_path: Path, small: SimulationConfig
) -> None:
    out = tmp_path / "data"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(SimulationError, match="not empty"):
        write_dataset(small, out)
    assert (out / "notes.txt").exists()
    write_dataset(small, out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert [p.name for p in tmp_path.iterdir()] == ["data"]


def test_an_empty_directory_is_fine(tmp_path: Path, small: SimulationConfig) -> None:
    (tmp_path / "data").mkdir()
    write_dataset(small, tmp_path / "data")
    assert (tmp_path / "data" / "truth.json").exists()
