"""The power of a registered interrupted time series: simulate the grid, fit every replicate,
and write ``power.json``, ``power.csv`` and ``power.png``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from evaltk import __version__
from evaltk.estimators.figure_file import save_png
from evaltk.power.backends import run_cells
from evaltk.power.report import PowerReport, cells_from, minimum_detectable, size_warnings
from evaltk.power.settings import ITSPowerSettings
from evaltk.protocol.model_description import (
    AUTO_RULE,
    GLS_ERRORS,
    errors_words,
    family_words,
    seasonality_words,
)


def _estimator(settings: ITSPowerSettings) -> str:
    # The same phrases as the plan and the results (evaltk.protocol.model_description).
    test = f"two-sided test of the level change at alpha = {settings.alpha:g}"
    seasonality = seasonality_words(settings.seasonality, settings.harmonics)
    slope = ", slope change" if settings.slope_change else ""
    gls = (
        f"segmented regression of the log rate by GLS, level change{slope}, {seasonality}, "
        f"{GLS_ERRORS}"
    )
    glm = (
        f"segmented GLM, {family_words(settings.family)}, level change{slope}, {seasonality}, "
        f"{errors_words(settings.hac, settings.hac_lags, settings.ar1)}"
    )
    if settings.model == "gls":
        return f"{gls}; {test}"
    if settings.model == "auto":
        return (
            f"model auto, as the analysis resolves it for each replicate ({AUTO_RULE}): "
            f"{gls}; otherwise {glm}; {test}"
        )
    return f"{glm}; two-sided Wald test of the level change at alpha = {settings.alpha:g}"


def power_analysis(
    settings: ITSPowerSettings,
    *,
    workers: int = -1,
    scheduler: str | None = None,
    protocol_sha256: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PowerReport:
    """Power of the registered ITS test over the grid of ``settings``.

    Parameters
    ----------
    settings : ITSPowerSettings
        From :func:`its_settings`, or built by hand.
    workers : int
        Local processes (joblib); ``1`` runs in this process.
    scheduler : str, optional
        A Dask distributed scheduler address; the cells run there instead.
    protocol_sha256 : str, optional
        The protocol's hash, recorded so that the book can tell which design was powered.
    progress : callable, optional
        Called with (cells done, cells in all).

    Returns
    -------
    PowerReport
        The same for the same settings whatever the backend (cells are seeded by their
        coordinates).
    """
    results = run_cells(settings, workers=workers, scheduler=scheduler, progress=progress)
    cells = cells_from(results)
    notes = [
        "Power is the share of replicates in which the two-sided test of the level change is "
        "significant; a replicate whose model cannot be fitted counts as a miss.",
        "Monte Carlo SE = sqrt(p (1 - p) / replicates).",
        "Every effect of one post-period length is simulated on the same latent series "
        "(common random numbers), so the curves are smooth in the effect.",
    ]
    if settings.family == "negative_binomial":
        notes.append("Negative binomial fits run one replicate at a time (statsmodels).")
    if settings.model != "glm":
        fitted = sum(c.gls_fits or 0 for c in cells)
        total = sum(c.replicates for c in cells)
        rest = "; the others had a month with no events: the GLM" if fitted < total else ""
        notes.append(f"GLS fitted {fitted:,} of the {total:,} replicates{rest}.")
    notes.append(f"Baseline: {settings.baseline_source or 'given'}.")
    return PowerReport(
        design="its",
        evaltk_version=__version__,
        protocol_sha256=protocol_sha256,
        estimator=_estimator(settings),
        settings=settings.model_dump(mode="json"),
        cells=cells,
        minimum_detectable=minimum_detectable(cells, settings.target_power),
        notes=notes,
        warnings=size_warnings(cells, settings.alpha),
    )


def write_power(report: PowerReport, folder: Path) -> list[Path]:
    """Write ``power.json``, ``power.csv`` and ``power.png`` into ``folder`` (whole or none)."""
    import matplotlib

    matplotlib.use("Agg")
    from evaltk.power.plot import plot_power
    from evaltk.results.atomic import replace_folder

    with replace_folder(folder) as staging:
        (staging / "power.json").write_text(report.to_json(), encoding="utf-8")
        report.to_frame().to_csv(staging / "power.csv", index=False, float_format="%.6g")
        fig, _ = plot_power(report)
        save_png(fig, staging / "power.png", metadata={"Software": "evaltk"}, tight=True)
    return [folder / name for name in ("power.json", "power.csv", "power.png")]
