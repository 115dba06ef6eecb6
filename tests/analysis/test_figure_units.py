"""Every outcome figure says what it plots in the outcome's own unit, and every ITS outcome
has its residual and autocorrelation figure (issue 13, part 6)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from statsmodels.tsa.stattools import acf

from evaltk.analysis.figures import outcome_figure
from evaltk.analysis.residual_figures import residual_figure
from evaltk.analysis.run import run_with_fits
from evaltk.results.figure_files import residual_file
from evaltk.verdict.axis_labels import axis_label

# What an ITS with a count family plots (the monthly numerator, the rate's population or the
# mean's incidents entering as an offset), by the measure's aggregate, written out here rather
# than taken from evaltk: the street-triage template's fields are minutes.
NUMERATOR = {
    "rate": "events per month (count)",
    "count": "events per month (count)",
    "share": "events per month (the share's numerator)",
    "mean": "minutes per month (all incidents, summed)",
}


def test_every_its_figure_is_labelled_in_its_outcomes_unit_with_residual_plots(
    analysis_dir: Path,
) -> None:
    result, fits = run_with_fits(analysis_dir)
    figures = analysis_dir / "results" / "figures"
    assert fits
    for fit in fits:
        outcome = result.outcome(fit.outcome.id)
        assert fit.scale == "ratio" and outcome.figure is not None, fit.outcome.id
        fig = outcome_figure(fit, result)
        ax = fig.axes[0]
        assert ax.get_ylabel() == NUMERATOR[fit.aggregate], fit.outcome.id
        assert "events" not in ax.get_ylabel() or fit.aggregate in {"rate", "count", "share"}
        # The residual figure sits beside the main one, with both panels labelled.
        path = figures / residual_file(fit.outcome.id)
        assert path.is_file(), path
    fig = residual_figure(fits[0])
    assert fig is not None
    top, bottom = fig.axes
    assert top.get_ylabel().startswith("Pearson residual")
    assert bottom.get_xlabel() == "lag (months)"
    assert bottom.get_ylabel() == "autocorrelation (−1 to 1)"
    # The points are the autocorrelations of the fit's residuals at lags 1 to 24, as
    # statsmodels computes them (the lag-0 value of 1 left out).
    expected = acf(fits[0].result.residuals["residual"].to_numpy(), nlags=24)[1:]
    points = [line for line in bottom.lines if len(line.get_ydata()) == 24]
    assert len(points) == 1
    np.testing.assert_allclose(points[0].get_ydata(), expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("design", "aggregate", "scale", "kind", "field", "label"),
    [
        ("its", "rate", "difference", "main", None, "events per 100,000 residents per month"),
        ("its", "share", "difference", "main", None, "share (proportion, 0.1 = 10 %)"),
        ("its", "mean", "difference", "main", "officer_minutes", "minutes per incident"),
        ("cits", "sum", "ratio", "main", "hospital_wait_minutes", NUMERATOR["mean"]),
        (
            "staggered_did",
            "rate",
            "difference",
            "main",
            None,
            "difference in events per 100,000 residents per month",
        ),
        (
            "staggered_did",
            "share",
            "difference",
            "main",
            None,
            "difference in share (proportion, 0.1 = 10 %)",
        ),
        ("event_study", "rate", "ratio", "main", None, "rate ratio (1 = no change)"),
        ("staggered_did", "rate", "difference", "heatmap", None, None),  # the cohort axis stays
    ],
)
def test_axis_label_by_design_and_measure(
    design: str, aggregate: str, scale: str, kind: str, field: str | None, label: str | None
) -> None:
    assert axis_label(design, aggregate, scale, kind, field) == label
