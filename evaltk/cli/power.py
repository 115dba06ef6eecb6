"""``evaltk power PROTOCOL_OR_ANALYSIS``: simulation-based power for the registered design."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evaltk.cli.app import app, err_console, user_errors
from evaltk.project import in_project

HELP = (
    "Simulation-based power and minimum detectable effect (MDE) for the registered design of "
    "an analysis or protocol template, using the project simulator.\n\n"
    "Interrupted time series: months before the start, washout, model (glm, gls or auto; "
    "family, seasonality, errors) and alpha come from the protocol. The primary outcome's "
    "baseline volume comes from the analysis's own data before the start when its data file "
    "exists (the output says so), otherwise from the simulator's real-world volume for the "
    "protocol's forces; trend, seasonality, overdispersion and autocorrelation from the "
    "simulator; each unless given here. Each cell of the grid (true rate ratio x months "
    "after the start) simulates REPLICATES series, fits each with the model the analysis "
    "uses (GLS one replicate at a time, the GLM all at once), and counts significant level "
    "changes: power with its Monte Carlo standard error. A no-change row that rejects more "
    "often than alpha plus Monte Carlo error is flagged as a warning.\n\n"
    "Writes power.json, power.csv and power.png into OUT (default ANALYSIS/power/, which the "
    "pre-registration page of the book shows, and whose hash `evaltk register` records). "
    "Cells run on all local cores (joblib), or on a Dask distributed cluster with "
    "--scheduler. The same seed gives the same table on any backend.\n\n"
    "Other designs, by the protocol's design.kind: cits (both series simulated, the "
    "registered CITS GLM or GLS), staggered_did (the registered forces and start dates; "
    "Callaway & Sant'Anna, simple aggregation, randomisation test over the adoption dates), "
    "synthetic_control (the registered treated force or region and donor pool, each force "
    "drawn around its own simulated volume; the analysis's outcome-only synthetic control and "
    "its placebo-in-space rank test, whose p-value cannot fall below 1 / (donors + 1); "
    "predictor-weighted fits and synthetic_did are not simulated), "
    "did and event_study (the registered numbers of treated and comparison forces; the "
    "analysis's two-way fixed effects model, Poisson or linear (event_study: the mean of its "
    "post-adoption bins), and its test: the wild "
    "cluster bootstrap that auto picks below 50 forces, randomisation or cluster, with the "
    "same weights or permutations from the same seed). --design did powers an "
    "ITS protocol's outcome as a DiD with the forces of --units (e.g. 1+4,2+3: treated + "
    "comparison). stepped_wedge: the registered clusters and steps, one design period a step "
    "(step_months months, as the analysis forms them); the ICC, cluster autocorrelation, "
    "trend and each cluster's count estimated from the analysis's own data in the complete "
    "baseline periods before design.trial.first_start (the output says so), else give "
    "--baseline (events per cluster a month) and --icc; counts simulated and tested by the "
    "registered test (randomisation inference over the scheme's schedules with the registered "
    "model's statistic: the power reported), with the mixed model's Wald z test and the closed "
    "form (Hussey & Hughes) beside it; power.csv, detectable.csv, power.json, power.png."
)


#: The default replicates of a synthetic control's grid: each replicate fits every force once
#: per cell. 400 keep the template's grid (28 cells, 42 forces) to about 40 s of CPU, and its
#: no-change cells inside Monte Carlo error at the protocol's seed (at 200, two of the four
#: were above the 99 % band by chance: 8.5 % and 9.5 %; at 400 they are 4-5 %).
SYNTHETIC_REPLICATES = 400


def _units(text: str) -> tuple[tuple[int, int], ...]:
    from evaltk.power import PowerError

    try:
        pairs = [part.split("+") for part in text.split(",") if part.strip()]
        return tuple((int(t), int(c)) for t, c in pairs)
    except ValueError:
        raise PowerError(
            f"--units {text!r}: give treated+comparison forces, e.g. 1+4,2+3"
        ) from None


def _floats(text: str | None, what: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    from evaltk.power import PowerError

    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise PowerError(f"{what} {text!r}: give numbers separated by commas") from None


@app.command(help=HELP)
@user_errors
def power(
    target: Path = typer.Argument(
        ..., metavar="PROTOCOL_OR_ANALYSIS", help="An analysis folder, analysis.yaml or template."
    ),
    replicates: int | None = typer.Option(
        None,
        "--replicates",
        min=10,
        help="Simulated series per cell (default 500; synthetic_control 400, as each "
        "replicate refits every force).",
    ),
    workers: int = typer.Option(-1, "--workers", help="Local processes; -1 = all cores."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786."
    ),
    effects: str | None = typer.Option(
        None,
        "--effects",
        help="True rate ratios, comma-separated (default: 0.5 to 3 times the protocol's "
        "minimum important change, in the beneficial direction).",
    ),
    months_after: str | None = typer.Option(
        None,
        "--months-after",
        help="Post-period lengths, e.g. 12,24,45 (default: 12, 24, 36 "
        "below the registered length, and the registered length).",
    ),
    baseline: float | None = typer.Option(
        None, "--baseline", help="Expected primary-outcome events per month before the start."
    ),
    overdispersion: float | None = typer.Option(
        None, "--overdispersion", help="CV of the month-to-month gamma multiplier (extra-Poisson)."
    ),
    ar_rho: float | None = typer.Option(None, "--ar-rho", help="AR(1) coefficient of log noise."),
    ar_sd: float | None = typer.Option(None, "--ar-sd", help="Marginal sd of the AR(1) noise."),
    icc: float | None = typer.Option(
        None, "--icc", help="stepped_wedge: intra-cluster correlation of the log rate."
    ),
    cac: float | None = typer.Option(
        None, "--cac", help="stepped_wedge: cluster autocorrelation (1 = none over time)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed (default: the protocol's)."),
    design: str | None = typer.Option(
        None,
        "--design",
        help="Default: the protocol's design.kind (its, cits, staggered_did, did, event_study, "
        "synthetic_control); "
        "did powers an ITS protocol's outcome as a DiD (give --units).",
    ),
    units: str = typer.Option(
        "1+1,1+4,2+3,5+5",
        "--units",
        help="With --design did: treated+comparison forces per column, comma-separated.",
    ),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default ANALYSIS/power)."),
) -> None:
    """Power analysis (see :data:`HELP`)."""
    from evaltk.power import POWER_DIR, PowerError, did_settings, its_settings, write_power
    from evaltk.power.design_report import design_power_analysis
    from evaltk.power.design_settings import design_settings
    from evaltk.power.report import BY_MONTHS
    from evaltk.power.synthetic import SyntheticPowerSettings
    from evaltk.protocol import load_protocol
    from evaltk.protocol.canonical import protocol_sha256

    target = in_project(target)  # a name in the project works from any folder in it
    loaded = load_protocol(target)
    months = _floats(months_after, "--months-after")
    kind = loaded.protocol.design.kind
    if replicates is None:
        replicates = SYNTHETIC_REPLICATES if kind == "synthetic_control" and not design else 500
    if design not in (None, kind, "did"):
        raise PowerError(f"--design {design!r}: leave it out (the protocol's {kind}) or say did")
    if out is None:
        is_analysis = loaded.path.name == "analysis.yaml"
        out = loaded.folder / POWER_DIR if is_analysis else Path(f"power-{loaded.path.stem}")
    if kind == "stepped_wedge" and design is None:
        from evaltk.cli.power_sw import stepped_wedge_power

        unused = {"months_after": months, "overdispersion_cv": overdispersion}
        return stepped_wedge_power(
            loaded, out, workers=workers, scheduler=scheduler, replicates=replicates,
            effects=_floats(effects, "--effects"), baseline=baseline, icc=icc, cac=cac,
            seed=seed, ar_rho=ar_rho, ar_sd=ar_sd, **unused,
        )  # fmt: skip
    # What every design's settings take from the command line (did: not months after).
    common: dict[str, Any] = {
        "replicates": replicates,
        "effects": _floats(effects, "--effects"),
        "baseline": baseline,
        "overdispersion_cv": overdispersion,
        "ar_rho": ar_rho,
        "ar_sd": ar_sd,
        "seed": seed,
    }
    after = None if months is None else tuple(int(m) for m in months)
    settings: Any
    if design is None and kind != "its":
        settings = design_settings(loaded, months_after=after, **common)
    elif design == "did":
        settings = did_settings(loaded, _units(units), **common)
    else:
        settings = its_settings(loaded, months_after=after, **common)
    with Progress(
        TextColumn("[bold]power[/] cells"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as bar:
        task = bar.add_task("cells", total=len(settings.cells))
        report = design_power_analysis(
            settings,
            design or kind,
            workers=workers,
            scheduler=scheduler,
            protocol_sha256=protocol_sha256(loaded.protocol),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    paths = write_power(report, out)
    console = Console(highlight=False, soft_wrap=True)
    table = Table(title=f"Power for {settings.outcome} ({settings.replicates} replicates a cell)")
    table.add_column("true ratio")
    frame = report.table()
    for column in frame.columns:
        if report.design not in BY_MONTHS:
            table.add_column(str(column))
            continue
        mark = " (registered)" if column == settings.registered_months_after else ""
        table.add_column(f"{column} months after{mark}")
    for effect, row in frame.iterrows():
        table.add_row(f"{effect:g}", *row.tolist())
    console.print(table)
    console.print(
        f"baseline {settings.baseline:.1f} events/month ({settings.baseline_source}); "
        f"overdispersion CV {settings.overdispersion_cv:g}, AR(1) rho {settings.ar_rho:g} "
        f"sd {settings.ar_sd:g}"
    )
    for mde in report.minimum_detectable:
        where = (
            f"{mde.months_after} months after"
            if mde.treated_units is None
            else f"{mde.treated_units} treated + {mde.comparison_units} comparison forces"
        )
        text = (
            "beyond the grid"
            if mde.effect is None
            else f"{'at most ' if mde.how == 'at_most' else ''}ratio {mde.effect:.3g}"
        )
        console.print(f"minimum detectable effect at {mde.target:.0%} power, {where}: {text}")
    if isinstance(settings, SyntheticPowerSettings):
        console.print(report.notes[0])  # the placebo p-value's floor, 1 / units
    for warning in report.warnings:
        err_console.print(f"[bold red]warning:[/] {warning}")
    console.print(f"wrote {', '.join(str(p) for p in paths)}")
