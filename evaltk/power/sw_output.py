"""A stepped-wedge power analysis on disk: ``power.json``, the power curve (``power.csv``), the
detectable effects by clusters and steps (``detectable.csv``) and the curve as a figure
(``power.png``), written whole or not at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaltk.estimators.figure_file import save_png
from evaltk.power.sw_report import SWPowerReport


def plot_sw_power(report: SWPowerReport) -> tuple[Any, Any]:
    """Power against the true change: the registered randomisation test (filled points, 95 %
    Monte Carlo bars), the Wald z test (open points) and the closed form (lines), one colour
    per number of clusters and steps."""
    from matplotlib.figure import Figure

    frame = report.curve()
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for (clusters, steps), part in frame.groupby(["clusters", "steps"], sort=True):
        part = part.sort_values("effect")
        change = (part["effect"] - 1.0) * 100.0
        (line,) = ax.plot(change, part["closed_form"], lw=1.2)
        ax.errorbar(
            change,
            part["power"],
            yerr=1.96 * part["mc_se"],
            fmt="o",
            ms=4,
            capsize=2,
            color=line.get_color(),
            label=f"{clusters} clusters, {steps} steps",
        )
        ax.plot(
            change,
            part["z_test_power"],
            "o",
            ms=5,
            mfc="none",
            color=line.get_color(),
            label="z test (not the registered test)",
        )
    settings = report.settings
    ax.axhline(settings.get("target_power", 0.8), color="0.4", ls=":", lw=1, label="target")
    ax.axhline(settings.get("alpha", 0.05), color="0.7", ls="--", lw=1, label="alpha")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("true change in the rate after the start (%)")
    ax.set_ylabel("power")
    ax.set_title(
        "Stepped-wedge trial: registered test (filled), z test (open), closed form (lines), "
        f"{settings.get('replicates')} replicates a point",
        fontsize="medium",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", frameon=False, loc="best")
    return fig, ax


def write_sw_power(report: SWPowerReport, folder: Path) -> list[Path]:
    """Write the four files into ``folder`` (replacing it whole)."""
    import matplotlib

    matplotlib.use("Agg")
    from evaltk.results.atomic import replace_folder

    names = ("power.json", "power.csv", "detectable.csv", "power.png")
    with replace_folder(folder) as staging:
        (staging / names[0]).write_text(report.to_json(), encoding="utf-8")
        report.curve().to_csv(staging / names[1], index=False, float_format="%.6g")
        report.detectable_table().to_csv(staging / names[2], float_format="%.4g")
        fig, _ = plot_sw_power(report)
        save_png(fig, staging / names[3], metadata={"Software": "evaltk"})
    return [folder / name for name in names]
