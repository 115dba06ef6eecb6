"""Run a DiD power grid and report it in the same ``power.json`` form as the ITS grid."""

from __future__ import annotations

from collections.abc import Callable

from evaltk import __version__
from evaltk.power.backends import run_cells
from evaltk.power.did import DiDPowerSettings
from evaltk.power.did_inference import BootstrapPlan
from evaltk.power.report import PowerReport, cells_from, minimum_detectable, size_warnings

#: What a DiD whose test over-rejects can do instead.
DID_ADVICE = (
    "with few forces, design.inference.method: randomization keeps its size exactly; or "
    "compare more forces"
)

MODELS = {
    "linear": "two-way fixed effects DiD, linear in the rate per 100,000",
    "poisson": "Poisson two-way fixed effects DiD (counts, population as exposure; the "
    "effect a rate ratio)",
}


def inference_words(settings: DiDPowerSettings, units: tuple[int, int]) -> str:
    """The analysis's test with these forces, in words (as ``auto`` resolves it)."""
    n_units = sum(units)
    method, reason = settings.method(n_units)
    if method == "randomization":
        text = f"randomisation test over which forces are treated ({settings.permutations:,} "
        text += "permutations at most, all distinct ones when fewer)"
    elif method == "cluster":
        text = "cluster-robust test by force"
    else:
        kind = "score" if settings.family == "poisson" else "restricted wild cluster (WCR)"
        plan = BootstrapPlan(
            settings.inference_spec(n_units),
            settings.first_month,
            n_units,
            settings.months_before + settings.months_after,
        )
        weights = plan.weights
        drawn = "all patterns" if weights.enumerated else f"{weights.draws:,} draws"
        text = f"{kind} bootstrap, {weights.kind.capitalize()} weights, {drawn}, {plan.by}"
    if reason != "as specified":
        text += f" ({reason})"
    return text


def model_words(settings: DiDPowerSettings) -> str:
    """The model whose headline is tested, in words."""
    model = MODELS[settings.family]
    if settings.event_study is None:
        return f"{model} (as evaltk.estimators.did.TWFEModel); "
    leads, lags, width = settings.event_study
    return (
        f"event study: {model} with {leads} leads and {lags} lags of {width} months (as "
        "evaltk.estimators.did.EventStudyModel), the headline the mean of the post-adoption "
        "bins; "
    )


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
    tests = [f"{t} + {c} forces: {inference_words(settings, (t, c))}" for t, c in settings.units]
    return PowerReport(
        design="did",
        evaltk_version=__version__,
        protocol_sha256=protocol_sha256,
        estimator=(
            model_words(settings)
            + "; ".join(tests)
            + f"; two-sided, rejecting when p < alpha = {settings.alpha:g}"
        ),
        settings=settings.model_dump(mode="json"),
        cells=cells,
        minimum_detectable=minimum_detectable(cells, settings.target_power),
        notes=[
            "Each replicate is fitted and tested as the analysis would (the same model, the "
            "same bootstrap weights or permutations from the same seed). The randomisation "
            "test keeps its size with any number of forces but cannot reach p < alpha with "
            "fewer than 1 / alpha assignments; the cluster-robust test, and the wild bootstrap "
            "with very few forces, can over-reject (see the no-change row).",
            "Monte Carlo SE = sqrt(p (1 - p) / replicates).",
            *(
                [
                    "design.did.estimator two_by_two: powered by the TWFE coefficient, which on "
                    "a balanced panel with one common start is the same linear estimate (the "
                    "Poisson one close to it); the 2 x 2 model's own errors are not simulated."
                ]
                if settings.estimator == "two_by_two"
                else []
            ),
        ],
        warnings=size_warnings(cells, settings.alpha, DID_ADVICE),
    )
