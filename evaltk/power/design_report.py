"""Run the power grid of a protocol's own design and report it as ``power.json``.

``evaltk power ANALYSIS`` dispatches on ``design.kind``: its
(:func:`~evaltk.power.its.power_analysis`), cits, staggered_did, and did / event_study
(:func:`~evaltk.power.did_report.did_power_analysis` with the registered numbers of forces),
synthetic_control (:mod:`evaltk.power.synthetic`: the registered treated unit and donors).
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
from evaltk.power.synthetic import SyntheticPowerSettings

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
            return report.model_copy(update={"design": "event_study"})
        return report
    if isinstance(settings, StaggeredPowerSettings):
        return _staggered(settings, protocol_sha256, backend)
    if isinstance(settings, SyntheticPowerSettings):
        return _synthetic(settings, protocol_sha256, backend)
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


#: Why a synthetic control's rank test can reject a true null too often, and what to check.
SYNTHETIC_ADVICE = (
    "the rank test is exact only when the treated unit is no more likely than any donor to "
    "have been the one treated; if more replicates confirm it, check the treated force's "
    "pre-period fit and drop donors unlike it"
)


def floor_note(settings: SyntheticPowerSettings) -> str:
    """The p-value floor of the placebo rank test, and what it means at this alpha."""
    n = settings.n_units
    text = (
        f"The placebo p-value is the treated unit's rank among {n} units ({len(settings.donors)} "
        f"donors + the treated unit), so it can never be below 1/{n} = {1 / n:.3f}."
    )
    if settings.smallest_p >= settings.alpha:
        return text + (
            f" That is not below alpha = {settings.alpha:g}: no effect of any size can be "
            f"detected with this donor pool; it needs more than {1 / settings.alpha:g} units."
        )
    rank = sum(k / n < settings.alpha for k in range(1, n + 1))
    return text + (
        f" It is below alpha = {settings.alpha:g} only when the treated unit's ratio is among "
        f"the top {rank} of the {n}."
    )


def _synthetic(
    settings: SyntheticPowerSettings, protocol_sha256: str | None, backend: dict[str, Any]
) -> PowerReport:
    cells = cells_from(run_cells(settings, **backend))
    what = "rate per 100,000" if settings.rates else "monthly count"
    return PowerReport(
        design="synthetic_control",
        evaltk_version=__version__,
        protocol_sha256=protocol_sha256,
        estimator=(
            f"synthetic control of {settings.treated} on {len(settings.donors)} donors, fitted "
            f"to the {what} in the months before the start (as "
            "evaltk.estimators.synthetic.synthetic_control without predictors); placebo in "
            "space: every donor refitted as if treated, the treated unit's post/pre RMSPE "
            f"ratio ranked among all, significant when rank / units < alpha = "
            f"{settings.alpha:g} (the p-value can never be below 1/{settings.n_units} = "
            f"{settings.smallest_p:.3f})"
        ),
        settings=settings.model_dump(mode="json"),
        cells=cells,
        minimum_detectable=minimum_detectable(cells, settings.target_power),
        notes=[
            floor_note(settings),
            "Each force's series is drawn around its own simulated volume and population with "
            "the simulator's trend, season, AR(1) and overdispersion, independently by force; "
            "the true rate ratio multiplies the treated unit's expected count from the start.",
            MC_NOTE,
            f"Baseline: {settings.baseline_source or 'given'}.",
        ],
        warnings=size_warnings(cells, settings.alpha, SYNTHETIC_ADVICE),
    )
