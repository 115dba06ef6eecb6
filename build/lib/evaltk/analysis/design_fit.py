"""What every comparison-design fit hands to the run: the headline, the inference used and why,
the pre-trend test, the event-time effects and the figures to draw, whatever the estimator.

The ITS keeps its own :class:`~evaltk.analysis.estimate.OutcomeFit` (the ledger reads its
month-level estimating functions); did, event_study, staggered_did and cits fits are
:class:`DesignFit`, built by :mod:`evaltk.analysis.estimate_did`,
:mod:`evaltk.analysis.estimate_staggered` and :mod:`evaltk.analysis.estimate_cits`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaltk.protocol.spec import Outcome

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from evaltk.estimators.did.results import PostTotals

Draw = Callable[[], "tuple[Figure, Axes]"]

#: Extra figures an outcome may have, besides its main one, in the order the book shows them.
FIGURE_KINDS = ("event_study", "heatmap", "groups", "series")


@dataclass(frozen=True)
class PreTrend:
    """A test of parallel trends before the start: small p-values are evidence against them."""

    statistic: float | None
    df: int | None
    p_value: float | None
    method: str
    text: str


@dataclass(frozen=True)
class DesignFit:
    """One outcome's comparison-design fit (or why it could not be made).

    ``estimate``, ``ci_low``, ``ci_high`` are on ``scale`` (a rate ratio, or a difference in the
    measure's units); ``std_error`` is that of log(estimate) for ratios. ``figure`` draws the
    main figure (the event-study plot, or the CITS series); ``figures`` the extra ones by kind
    (:data:`FIGURE_KINDS`). ``effects`` is a tidy table for ``results/effects.csv``.
    """

    outcome: Outcome
    aggregate: str
    design: str
    estimator: str
    scale: str
    n_units: int
    n_periods: int
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    std_error: float | None = None
    #: Degrees of freedom of a Student t reference (CITS model gls), None for a normal one.
    df: float | None = None
    n_clusters: int | None = None
    inference: str | None = None
    inference_text: str | None = None
    pretrend: PreTrend | None = None
    event_time: pd.DataFrame | None = None
    event_time_unit: str | None = None
    baseline: float | None = None
    figure: Draw | None = None
    figures: dict[str, Draw] = field(default_factory=dict)
    effects: pd.DataFrame | None = None
    note: str = ""
    error: str | None = None
    #: The treated series' post-period totals for the whole-system ledger (cits only).
    totals: PostTotals | None = None

    @property
    def estimated(self) -> bool:
        return self.error is None and self.estimate is not None


def failed(
    outcome: Outcome,
    aggregate: str,
    design: str,
    estimator: str,
    scale: str,
    error: str,
    *,
    n_units: int = 0,
    n_periods: int = 0,
    note: str = "",
) -> DesignFit:
    """A fit that could not be made: the error is recorded, not raised."""
    return DesignFit(
        outcome=outcome,
        aggregate=aggregate,
        design=design,
        estimator=estimator,
        scale=scale,
        n_units=n_units,
        n_periods=n_periods,
        note=" ".join(part for part in (note, error) if part),
        error=error,
    )


def number(value: Any) -> float | None:
    """A finite float, or None (JSON has no NaN)."""
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def log_std_error(estimate: float, low: float, high: float, level: float, scale: str) -> float:
    """The standard error an interval implies (of log(estimate) for ratios), for the
    equivalence tests, when the library's own SE is not the one the interval came from."""
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + level / 2))
    if scale == "ratio":
        return (np.log(high) - np.log(low)) / (2 * z)
    return (high - low) / (2 * z)
