"""The chapter section a stepped-wedge trial reports as the CONSORT extension for
stepped-wedge trials asks (Hemming et al. 2018, BMJ 363:k1614): the design (clusters, steps,
step length, periods), how the order was randomised, the schedule (the diagram is each
outcome's main figure), and the intra-cluster correlations. Read from results.json only."""

from __future__ import annotations

from typing import Any

from evaltk.publish import format as fmt
from evaltk.results.schema import AnalysisResult


def trial_context(result: AnalysisResult) -> dict[str, Any] | None:
    """The template's data for ``trial.md.j2``; None for other designs."""
    trial = result.trial
    if trial is None:
        return None
    labels = {o.outcome: o.label for o in result.outcomes}
    return {
        "n_clusters": len(trial.clusters),
        "population": f"{sum(c.population for c in trial.clusters):,}",
        "steps": trial.steps,
        "step_months": trial.step_months,
        "first_start": fmt.month(trial.first_start),
        "periods": trial.periods,
        "baseline_periods": trial.baseline_periods,
        "randomisation": trial.randomisation,
        "schedules": (
            f"{trial.schedules:,} possible schedules"
            if trial.schedules
            else "random orders of the clusters (too many schedules to list)"
        ),
        "clusters": [
            {
                "name": c.name,
                "population": f"{c.population:,}",
                "step": c.step,
                "start": fmt.month(c.start),
            }
            for c in trial.clusters
        ],
        "icc": [
            {
                "label": labels.get(outcome, outcome),
                "value": "not estimated" if value is None else f"{value:.3f}",
            }
            for outcome, value in trial.icc.items()
        ],
    }
