"""Write a simulated dataset to disk: episodes.parquet, population.csv and truth.json."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from evaltk.errors import SimulationError
from evaltk.simulate.backbone import build_backbone
from evaltk.simulate.config import SimulationConfig
from evaltk.simulate.episodes import EPISODE_SCHEMA, force_episode_chunks
from evaltk.simulate.forces import population_table
from evaltk.simulate.truth_file import truth

EPISODES_FILE = "episodes.parquet"
POPULATION_FILE = "population.csv"
TRUTH_FILE = "truth.json"

# Small forces yield small chunks; gather them so row groups stay a useful size for readers.
_ROW_GROUP_ROWS = 1_000_000

Progress = Callable[[int, int], None]


def write_dataset(
    config: SimulationConfig,
    out_dir: str | Path,
    progress: Progress | None = None,
    *,
    overwrite: bool = False,
    true_ledgers: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Simulate and write a dataset, atomically.

    Parameters
    ----------
    config
        The simulation settings.
    out_dir
        Directory to create. It must not exist, or be empty, unless ``overwrite``.
    progress
        Called as ``progress(done_forces, total_forces)`` after each force is written.
    overwrite
        Replace an existing non-empty ``out_dir``.
    true_ledgers
        Analysis name -> its true ledger, written into ``truth.json`` (see
        :func:`~evaltk.simulate.truth`).

    Returns
    -------
    pathlib.Path
        ``out_dir``, holding ``episodes.parquet`` (canonical episode fields, zstd, rows ordered by
        force then time), ``population.csv`` (``force, year, population``) and ``truth.json``
        (see :func:`~evaltk.simulate.truth`).

    Notes
    -----
    Everything is written into a hidden temporary directory beside ``out_dir`` and renamed into
    place at the end, so an error or interruption never leaves a half-written dataset.
    """
    target = Path(out_dir)
    if target.exists() and not target.is_dir():
        raise SimulationError(f"{target} exists and is not a directory; choose another OUT_DIR")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise SimulationError(
            f"{target} already exists and is not empty; choose another OUT_DIR or overwrite it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    # A fresh name beside the target (same filesystem, so the final rename is atomic).
    staging = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    staging.mkdir()
    try:
        _write_episodes(config, staging / EPISODES_FILE, progress)
        population_table(config.forces, config.calendar_years, config.population_growth).to_csv(
            staging / POPULATION_FILE, index=False, lineterminator="\n"
        )
        known = truth(config, true_ledgers)
        text = json.dumps(known, indent=2, sort_keys=False, ensure_ascii=False)
        (staging / TRUTH_FILE).write_text(text + "\n", encoding="utf-8")
        _replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _write_episodes(config: SimulationConfig, path: Path, progress: Progress | None) -> None:
    backbone = build_backbone(config)
    total = len(config.forces)
    metadata = {b"evaltk.simulate": json.dumps({"preset": config.name, "seed": config.seed})}
    schema = EPISODE_SCHEMA.with_metadata(metadata)
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        pending: list[pa.Table] = []
        n_pending = 0
        for index in range(total):
            for chunk in force_episode_chunks(config, backbone, index):
                pending.append(chunk)
                n_pending += chunk.num_rows
                if n_pending >= _ROW_GROUP_ROWS:
                    _flush(writer, pending, schema)
                    pending, n_pending = [], 0
            if progress is not None:
                progress(index + 1, total)
        if pending:
            _flush(writer, pending, schema)


def _flush(writer: pq.ParquetWriter, tables: list[pa.Table], schema: pa.Schema) -> None:
    table = pa.concat_tables(tables).replace_schema_metadata(schema.metadata)
    writer.write_table(table, row_group_size=2 * _ROW_GROUP_ROWS)


def _replace(staging: Path, target: Path) -> None:
    """Move the finished dataset into place, keeping any old one until the move has worked."""
    if not target.exists():
        staging.rename(target)
        return
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    target.rename(old)
    try:
        staging.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
