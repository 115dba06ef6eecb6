"""A run's figures: the ledger's waterfall and every outcome's main and extra figures, each
stamped when the run or the outcome is exploratory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # a run draws figures to files; never needs a screen
import matplotlib.pyplot as plt

from evaltk.estimate.fit import OutcomeFit
from evaltk.registration.stamp import (
    EXPLORATORY_OUTCOME,
    EXPLORATORY_RUN,
    png_metadata,
    stamp_figure,
)
from evaltk.results.schema import AnalysisResult, Registration
from evaltk.verdict.waterfall import plot_waterfall

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def draw_figures(fits: Sequence[OutcomeFit], folder: Path, result: AnalysisResult) -> None:
    """Draw the ledger (if any) and each outcome's figures where ``result`` says they are."""
    registration = result.registration
    folder.mkdir(parents=True, exist_ok=True)
    if result.ledger is not None:
        fig, _ = plot_waterfall(result.ledger)
        mark = EXPLORATORY_RUN if registration.status != "registered" else None
        _save(fig, folder / "ledger.png", registration, mark)
    for fit in fits:
        outcome = result.outcome(fit.outcome.id)
        mark = _figure_mark(fit.outcome.id, registration)
        if fit.figure is not None and outcome.figure is not None:
            fig, ax = fit.figure()
            ax.set_title(fit.outcome.label)
            _save(fig, folder / Path(outcome.figure).name, registration, mark)
        for extra in outcome.figures:
            fig, ax = fit.figures[extra.kind]()
            ax.set_title(fit.outcome.label)
            _save(fig, folder / Path(extra.path).name, registration, mark)


def _figure_mark(outcome_id: str, registration: Registration) -> str | None:
    """The exploratory mark a figure must carry, if any."""
    if registration.status != "registered":
        return EXPLORATORY_RUN
    if outcome_id in registration.exploratory_outcomes:
        return EXPLORATORY_OUTCOME
    return None


def _save(fig: Figure, path: Path, registration: Registration, mark: str | None) -> None:
    if mark:
        stamp_figure(fig, mark)
    fig.savefig(
        path, dpi=110, bbox_inches="tight", metadata=png_metadata(registration.status, mark)
    )
    plt.close(fig)
