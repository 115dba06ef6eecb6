"""Run the power grid of a protocol's own design and report it as ``power.json``.

``evaltk power ANALYSIS`` dispatches on ``design.kind``: its
(:func:`~evaltk.power.its.power_analysis`), cits, staggered_did, and did / event_study
(:func:`~evaltk.power.did_report.did_power_analysis` with the registered numbers of forces).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evaltk import __version__
from evaltk.power.backends import run_cells
from evaltk.power.cits import CITSPowerSettings
from evaltk.power.design_settings import AnySettings
from evaltk.power.did import DiDPowerSettings
from evaltk.power.did_report import did_power_analysis
from evaltk.power.its import power_analysis
from evaltk.power.report import PowerReport, cells_from, minimum_detectable, size_warnings
from evaltk.power.staggered import StaggeredPowerSettings

MC_NOTE = "Monte Carlo SE = sqrt(p (1 - p) / replicates)."


def design_power_analysis(
    settings: AnySettings,
    kind: str,
    *,
    workers: int = -1,
    scheduler: str | None = None,
    protocol_sha256: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PowerReport:
    """Power of the registered test of design ``kind`` over the grid of ``settings``."""
    backend: dict[str, Any] = {"workers": workers, "scheduler": scheduler, "progress": progress}
    if isinstance(settings, DiDPowerSettings):
        report = did_power_analysis(settings, protocol_sha256=protocol_sha256, **backend)
        if kind == "event_study":
            notes = [
                *report.notes,
                "design event_study: powered by the two-way fixed effects coefficient of the "
                "same panel; the mean of the event-time bins is not simulated.",
            ]
            return report.model_copy(update={"design": "event_study", "notes": notes})
        return report
    if isinstance(settings, StaggeredPowerSettings):
        return _staggered(settings, protocol_sha256, backend)
    if isinstance(settings, CITSPowerSettings):
        report = power_analysis(settings, protocol_sha256=protocol_sha256, **backend)
        model = (
            "GLS of the difference of the two log rates, Poisson sampling, white and AR(1) "
            "errors, REML, Satterthwaite t"
            if settings.model == "gls"
            else f"joint segmented GLM of both series ({settings.family}), model-based errors"
        )
        notes = [n for n in report.notes if not n.startswith("GLS fitted")]
        if settings.model == "gls":
            fitted = sum(c.gls_fits or 0 for c in report.cells)
            total = sum(c.replicates for c in report.cells)
            notes.append(
                f"GLS fitted {fitted:,} of the {total:,} replicates; the others (a month with no "
                "events in either series) count as misses, as the analysis cannot fit them."
            )
        return report.model_copy(
            update={
                "design": "cits",
                "notes": notes,
                "estimator": f"comparative ITS ({model}, as evaltk.estimators.did.CITSModel); "
                f"two-sided test of the difference in level change at alpha = "
                f"{settings.alpha:g}",
            }
        )
    return power_analysis(settings, protocol_sha256=protocol_sha256, **backend)


def _staggered(
    settings: StaggeredPowerSettings, protocol_sha256: str | None, backend: dict[str, Any]
) -> PowerReport:
    cells = cells_from(run_cells(settings, **backend))
    return PowerReport(
        design="staggered_did",
        evaltk_version=__version__,
        protocol_sha256=protocol_sha256,
        estimator=(
            "Callaway & Sant'Anna ATT(g,t) without covariates, comparison "
            f"{settings.control_group.replace('_', ' ')}, {settings.base_period} base period, "
            f"{settings.period_bin}ly periods, simple aggregation (as "
            "evaltk.estimators.staggered); randomisation test over the registered forces' "
            f"adoption dates, two-sided at alpha = {settings.alpha:g}"
        ),
        settings=settings.model_dump(mode="json"),
        cells=cells,
        minimum_detectable=minimum_detectable(cells, settings.target_power),
        notes=[
            "The randomisation test is the analysis's (auto with fewer than 50 forces); "
            "with few forces and dates it has few distinct assignments and cannot reach "
            "p below 1 / assignments.",
            MC_NOTE,
            f"Baseline: {settings.baseline_source or 'given'}.",
        ],
        warnings=size_warnings(cells, settings.alpha),
    )
