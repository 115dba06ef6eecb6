"""A small registered analysis (one simulated force), and mounts for full and read-only disks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evaltk.registration import register
from evaltk.simulate import SimulationConfig, write_dataset

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "protocols" / "street-triage-its.yaml"
EVALTK = Path(sys.executable).parent / "evaltk"
#: One thread each: the kill test times its kills against a run on a shared machine.
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "NO_COLOR": "1"}


def cli(*args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EVALTK), *map(str, args)], capture_output=True, text=True, env={**ENV, **env}
    )


def analysis_yaml(data: str, extra: str = "") -> str:
    return (
        f"protocol: {TEMPLATE}\n"
        "title: Small simulated force\n"
        f"data: {{kind: episodes, path: {data}, population: {data.rsplit('/', 1)[0]}"
        f"/population.csv{extra}}}\n"
    )


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reliability") / "data"
    write_dataset(SimulationConfig.preset("small", scale=0.1, seed=11), folder)
    return folder


def make_analysis(folder: Path, small_data: Path) -> Path:
    shutil.copytree(small_data, folder / "data")
    (folder / "analysis.yaml").write_text(analysis_yaml("data/episodes.parquet"))
    register(folder, data_access="not_collected", by="test", now="2024-01-01T00:00:00Z")
    return folder


@pytest.fixture()
def analysis(tmp_path: Path, small_data: Path) -> Path:
    return make_analysis(tmp_path / "analyses" / "small", small_data)


@pytest.fixture()
def mount_point(tmp_path: Path) -> Iterator[Path]:
    """An empty folder on which the test may mount a tmpfs; unmounted afterwards."""
    point = tmp_path / "mnt"
    point.mkdir()
    yield point
    subprocess.run(["umount", str(point)], capture_output=True, check=False)


def mount_tmpfs(point: Path, options: str) -> None:
    """Mount a tmpfs, or skip the test saying why (mount needs root or CAP_SYS_ADMIN)."""
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not permitted'})")
