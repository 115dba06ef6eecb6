"""A run's figures: the ledger's waterfall and every outcome's main and extra figures, each
stamped when the run or the outcome is exploratory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from evaltk.analysis.residual_figures import residual_figure
from evaltk.estimate.fit import OutcomeFit
from evaltk.estimators.figure_file import save_png
from evaltk.registration.stamp import (
    EXPLORATORY_OUTCOME,
    EXPLORATORY_RUN,
    png_metadata,
    stamp_figure,
)
from evaltk.results.figure_files import residual_file
from evaltk.results.schema import AnalysisResult, Registration
from evaltk.verdict.axis_labels import y_label
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
        if mark:
            stamp_figure(fig, mark)
        _save(fig, folder / "ledger.png", registration, mark)
    for fit in fits:
        outcome = result.outcome(fit.outcome.id)
        mark = _figure_mark(fit.outcome.id, registration)
        if fit.figure is not None and outcome.figure is not None:
            fig = outcome_figure(fit, result)
            _save(fig, folder / Path(outcome.figure).name, registration, mark)
        for extra in outcome.figures:
            fig = outcome_figure(fit, result, extra.kind)
            _save(fig, folder / Path(extra.path).name, registration, mark)
        # The residual plots go beside the main figure, found there by their name
        # (evaltk.publish.load): results.json does not list them, as they hold no result.
        residuals = residual_figure(fit) if outcome.figure is not None else None
        if residuals is not None:
            if mark:
                stamp_figure(residuals, mark)
            _save(residuals, folder / residual_file(fit.outcome.id), registration, mark)


def outcome_figure(fit: OutcomeFit, result: AnalysisResult, kind: str = "main") -> Figure:
    """One outcome's figure as the run writes it: titled, and stamped when exploratory.

    Parameters
    ----------
    fit : OutcomeFit
        The outcome's fit; ``fit.figure`` (``kind="main"``) or ``fit.figures[kind]`` draws it.
    result : AnalysisResult
        The run's result, whose registration decides the exploratory mark.
    kind : str, default "main"
        ``main`` or an extra figure's kind (:data:`evaltk.estimate.fit.FIGURE_KINDS`).

    Returns
    -------
    matplotlib.figure.Figure
        A bare Figure (no pyplot), so drawing one never changes the session's backend.

    Raises
    ------
    KeyError
        If the outcome has no figure of that kind.
    """
    draw = fit.figure if kind == "main" else fit.figures.get(kind)
    if draw is None:
        raise KeyError(f"{fit.outcome.id}: no {kind} figure")
    fig, ax = draw()
    ax.set_title(fit.outcome.label)
    label = y_label(fit, kind)
    if label is not None:
        # Keep what the estimator says of its bars ("(bars: 95 % ... interval)") on a line of
        # its own under the unit.
        old = ax.get_ylabel()
        note = old[old.index("(bars") :] if "(bars" in old else ""
        ax.set_ylabel(f"{label}\n{note}" if note else label)
    mark = _figure_mark(fit.outcome.id, result.registration)
    if mark:
        stamp_figure(fig, mark)
    return fig


def _figure_mark(outcome_id: str, registration: Registration) -> str | None:
    """The exploratory mark a figure must carry, if any."""
    if registration.status != "registered":
        return EXPLORATORY_RUN
    if outcome_id in registration.exploratory_outcomes:
        return EXPLORATORY_OUTCOME
    return None


def _save(fig: Figure, path: Path, registration: Registration, mark: str | None) -> None:
    """Write ``fig``, already stamped with ``mark``, with the mark in its PNG metadata.

    Every figure has a constrained layout, which already fits its labels inside the frame, so
    it is saved at its own size. Only a stamped figure is saved to its tight bounding box,
    which holds the banner drawn above the frame.
    """
    save_png(fig, path, metadata=png_metadata(registration.status, mark), tight=mark is not None)
