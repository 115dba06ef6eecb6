"""``evaltk simulate``: write a synthetic dataset with known truth."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evaltk.cli.app import app, err_console, user_errors
from evaltk.errors import SimulationError
from evaltk.simulate.effects import EFFECT_NAMES


class Preset(StrEnum):
    demo = "demo"
    small = "small"
    region = "region"
    national = "national"
    synthetic = "synthetic"


def parse_effects(items: list[str]) -> dict[str, float]:
    """``["s136=0.7", ...]`` as ``{"s136": 0.7}``; a malformed item raises SimulationError."""
    effects: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise SimulationError(f"--effect {item!r}: expected KEY=RATIO, e.g. s136=0.7")
        if key not in EFFECT_NAMES:
            raise SimulationError(
                f"--effect {item!r}: unknown outcome {key!r}; choose from {', '.join(EFFECT_NAMES)}"
            )
        try:
            effects[key] = float(value)
        except ValueError:
            raise SimulationError(
                f"--effect {item!r}: {value.strip()!r} is not a number; give a ratio such as 0.7"
            ) from None
    return effects


HELP = (
    "Write a synthetic street-triage dataset with known true effects.\n\n"
    "OUT_DIR receives episodes.parquet (one row per incident in the canonical episode schema), "
    "population.csv (force, year, population) and truth.json (the configuration, seed, start "
    "month per force, and each true effect with its definition).\n\n"
    "The same options and seed give byte-identical files. OUT_DIR appears only when complete: "
    "a failure leaves nothing behind."
)


@app.command(help=HELP)
@user_errors
def simulate(
    out_dir: Annotated[
        Path,
        typer.Argument(
            metavar="OUT_DIR", help="Directory to create for the dataset.", show_default=False
        ),
    ],
    preset: Annotated[
        Preset,
        typer.Option(
            "--preset",
            "-p",
            help="demo: 5 East Midlands forces 2014-2019, about 145,000 episodes (the data "
            "of `evaltk demo`). small: Nottinghamshire alone, about 5,600. region: the 5 "
            "forces at full scale 2014-2023, about 1.1M. national: all 43 forces "
            "2014-2023, about 14M. synthetic: all 43 forces 2014-2019, Nottinghamshire alone "
            "starting (the data of the demo's synthetic-control example).",
        ),
    ] = Preset.demo,
    seed: Annotated[
        int | None, typer.Option(help="Random seed (default: the preset's).", show_default=False)
    ] = None,
    scale: Annotated[
        float | None,
        typer.Option(
            help="Multiply the incident rate (1 = real-world volume).", show_default=False
        ),
    ] = None,
    years: Annotated[
        int | None,
        typer.Option(help="Years to simulate from January 2014.", min=1, show_default=False),
    ] = None,
    effect: Annotated[
        list[str] | None,
        typer.Option(
            "--effect",
            "-e",
            metavar="KEY=RATIO",
            help="True effect as a ratio over all incidents in treated force-months, e.g. "
            "s136=0.7 (30% fewer detentions); repeat for several. Replaces the preset's effects. "
            f"Keys: {', '.join(EFFECT_NAMES)}.",
            show_default=False,
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace OUT_DIR if it exists and is not empty.")
    ] = False,
) -> None:
    """Write a synthetic dataset to OUT_DIR (see ``HELP``)."""
    # Imported here, not with the command line: pandas and pyarrow are for simulating only.
    import pyarrow.parquet as pq

    from evaltk.simulate import SimulationConfig, write_dataset
    from evaltk.simulate.write import EPISODES_FILE

    overrides: dict[str, Any] = {}
    if seed is not None:
        overrides["seed"] = seed
    if scale is not None:
        overrides["scale"] = scale
    if years is not None:
        overrides["months"] = 12 * years
    if effect:
        overrides["effects"] = parse_effects(effect)
    config = SimulationConfig.preset(preset.value, **overrides)

    with Progress(
        TextColumn("[bold]simulating[/] forces"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,  # no bar debris in logs and pipes
    ) as bar:
        task = bar.add_task("forces", total=len(config.forces))

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        path = write_dataset(config, out_dir, progress=advance, overwrite=overwrite)

    rows = pq.ParquetFile(path / EPISODES_FILE).metadata.num_rows
    typer.echo(
        f"Wrote {rows:,} episodes for {len(config.forces)} force(s) to {path} "
        "(episodes.parquet, population.csv, truth.json)"
    )
