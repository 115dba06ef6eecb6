"""``evaltk power`` for a stepped-wedge trial: settings from the trial and its pre-trial data,
the simulation and the closed form, the files and the printed table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from evaltk.protocol import LoadedProtocol


def stepped_wedge_power(
    loaded: LoadedProtocol, out: Path, *, workers: int, scheduler: str | None, **options: Any
) -> None:
    """Run the stepped-wedge power analysis of ``loaded`` into ``out`` and print it."""
    from evaltk.power import PowerError
    from evaltk.power.stepped_wedge import sw_power_analysis
    from evaltk.power.sw_output import write_sw_power
    from evaltk.power.sw_settings import stepped_wedge_settings

    if scheduler is not None:
        raise PowerError("--scheduler: stepped-wedge power runs on local cores only; leave out")
    settings = stepped_wedge_settings(loaded, **options)
    report = sw_power_analysis(settings, workers=workers)
    paths = write_sw_power(report, out)
    console = Console(highlight=False, soft_wrap=True)
    clusters, steps = settings.clusters[0], settings.steps[0]
    table = Table(
        title=f"Power of the stepped-wedge trial, {clusters} clusters over {steps} steps "
        f"({settings.replicates} replicates a cell)"
    )
    columns = ("true ratio", "power (registered test)", "MC SE", "z test", "closed form (z)")
    for column in columns:
        table.add_column(column)
    for cell in report.cells:
        table.add_row(
            f"{cell.effect:g}",
            f"{cell.power:.3f}",
            f"{cell.mc_se:.3f}",
            f"{cell.z_test_power:.3f}",
            f"{cell.closed_form:.3f}",
        )
    console.print(table)
    console.print(
        f"registered test: randomisation inference over the scheme's schedules with the "
        f"{settings.test_model} model's statistic, as the analysis runs it; the z test and the "
        "closed form are the mixed model's Wald test, shown for comparison"
    )
    console.print(
        f"periods of {loaded.protocol.design.trial.step_months} months: "  # type: ignore[union-attr]
        f"{settings.baseline_periods} baseline, 1 a step, {settings.after_periods} after the "
        f"last step; source: {settings.source}"
    )
    for found in report.detectable:
        if found.registered_reduction is not None:
            console.print(
                f"effect detected with {found.target:.0%} power by the registered test "
                f"(simulated, interpolated between the effects above): ratio "
                f"{found.registered_reduction:.3g} (a fall)"
            )
        else:
            console.print(
                f"the registered test does not reach {found.target:.0%} power at the effects "
                "simulated; add smaller ratios with --effects"
            )
        console.print(
            f"minimum detectable effect at {found.target:.0%} power (closed form): ratio "
            f"{found.reduction:.3g} (a fall) or {found.increase:.3g} (a rise)"
        )
    console.print(f"wrote {', '.join(str(p) for p in paths)}")
