"""Run a DiD power grid and report it in the same ``power.json`` form as the ITS grid."""

from __future__ import annotations

from collections.abc import Callable

from evaltk import __version__
from evaltk.power.backends import run_cells
from evaltk.power.did import DiDPowerSettings
from evaltk.power.report import PowerReport, cells_from, minimum_detectable, size_warnings


def did_power_analysis(
    settings: DiDPowerSettings,
    *,
    workers: int = -1,
    scheduler: str | None = None,
    protocol_sha256: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PowerReport:
    """Power of the two-way fixed effects DiD test over effects × (treated, comparison) forces.

    Parameters are as for :func:`evaltk.power.power_analysis`.
    """
    results = run_cells(settings, workers=workers, scheduler=scheduler, progress=progress)
    cells = cells_from(results)
    return PowerReport(
        design="did",
        evaltk_version=__version__,
        protocol_sha256=protocol_sha256,
        estimator=(
            "two-way fixed effects DiD, linear in the rate per 100,000 (as "
            "evaltk.estimators.did.TWFEModel); "
            + (
                "randomisation test over which forces are treated"
                if settings.inference == "randomization"
                else "cluster-robust t test by force"
            )
            + f", two-sided at alpha = {settings.alpha:g}"
        ),
        settings=settings.model_dump(mode="json"),
        cells=cells,
        minimum_detectable=minimum_detectable(cells, settings.target_power),
        notes=[
            "Not simulated: the Poisson TWFE and the wild cluster bootstrap (TWFEModel's "
            "default with few forces). The randomisation test keeps its size with any number "
            "of forces but cannot reach p < alpha with fewer than 1 / alpha assignments; the "
            "cluster-robust test over-rejects with few forces (see the no-change row).",
            "Monte Carlo SE = sqrt(p (1 - p) / replicates).",
        ],
        warnings=size_warnings(cells, settings.alpha),
    )
