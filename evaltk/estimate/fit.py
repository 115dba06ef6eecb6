"""What every outcome's fit hands to the run, whatever the design: the headline :class:`Effect`,
the inference used and why, the pre-trend test, the event-time effects, the figures to draw,
the tidy effects and the post-period totals the ledger reads.

One type for every design (its, did, event_study, staggered_did, cits). Where the designs
differ the fit carries the difference as data: an ITS fills ``slope_change``,
``trend_per_year``, ``cumulative``, ``diagnostics`` and ``series``; the comparison designs fill
``inference``, ``pretrend``, ``event_time``, ``figures`` and ``effects``; a field a design does
not have stays None (or empty). The run and the verdict read the fields, never the design.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaltk.estimate.its_totals import its_post_totals, its_total_change
from evaltk.estimate.total_change import TotalChange
from evaltk.estimators.effect import Effect
from evaltk.protocol.spec import Outcome

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from evaltk.estimators.did.results import PostTotals
    from evaltk.estimators.its import ITSModel
    from evaltk.estimators.its.effects import CumulativeEffect

Draw = Callable[[], "tuple[Figure, Axes]"]

#: Extra figures an outcome may have, besides its main one, in the order the book shows them.
FIGURE_KINDS = ("event_study", "heatmap", "groups", "series", "placebo")


@dataclass(frozen=True)
class PreTrend:
    """A test of parallel trends before the start: small p-values are evidence against them."""

    statistic: float | None
    df: int | None
    p_value: float | None
    method: str
    text: str


@dataclass(frozen=True)
class OutcomeFit:
    """One outcome's fit (or why it could not be made), for every design.

    Attributes
    ----------
    outcome : Outcome
        The protocol's outcome.
    aggregate : str
        The measure's aggregate (``rate``, ``count``, ``share``, ``mean``, ``sum``).
    design : str
        ``its``, ``did``, ``event_study``, ``staggered_did`` or ``cits``.
    estimator : str
        The model in words, for results.json.
    scale : str
        ``ratio`` or ``difference``: the scale of ``effect``.
    n_units, n_periods : int
        Units and periods the model was fitted to.
    effect : Effect or None
        The headline; None when the outcome could not be estimated. Numbers the design does not
        give are NaN (``std_error`` is that of log(estimate) for ratios; ``df`` None for a normal
        reference).
    result : object or None
        The estimator's own result (:class:`~evaltk.estimators.its.ITSResult`,
        :class:`~evaltk.estimators.did.DiDResult` or
        :class:`~evaltk.estimators.staggered.CSResult`).
    slope_change, trend_per_year : Effect or None
        ITS only: the change in slope and the underlying trend over a year.
    cumulative : CumulativeEffect or None
        ITS only: events averted over the post months.
    diagnostics : Mapping or None
        ITS only: dispersion, Ljung-Box, Durbin-Watson, month counts.
    series : pandas.DataFrame or None
        ITS only: observed, fitted and counterfactual by month (``series.csv``).
    total_unit : str
        What the post-period totals count: ``events``, ``minutes``, ``units of the field`` or
        ``not additive``.
    totals : PostTotals or None
        The treated series' post-period totals for the ledger, where the estimator gives them
        (comparative ITS); an ITS builds them from ``model`` (:meth:`post_totals`).
    change : TotalChange or None
        The change over the treated force-months that the headline implies (comparison
        designs set it; an ITS builds it from its cumulative effect, :meth:`total_change`).
    model : ITSModel or None
        ITS only: the model, whose month-level estimating functions the ledger correlates.
    n_clusters, inference, inference_text : optional
        Comparison designs: the clusters and the inference used, with why.
    pretrend : PreTrend or None
        Comparison designs: the test of parallel trends before the start.
    event_time : pandas.DataFrame or None
        ``event_time, estimate, ci_low, ci_high, p_value, kind`` by period since the start.
    event_time_unit : str or None
        What one step of ``event_time`` is.
    baseline : float or None
        Mean of the measure in treated units before their start.
    figure : callable or None
        Draws the main figure; ``figures`` the extra ones by kind (:data:`FIGURE_KINDS`).
    figure_data : dict of str to pandas.DataFrame
        The observed values the figures that show them plot (``period, group, observed`` and,
        for the comparative ITS, ``fitted, counterfactual, post``), by figure (``main`` or a
        kind), for disclosure control by ``evaltk book``.
    effects : pandas.DataFrame or None
        Tidy table for ``results/effects.csv``.
    sensitivity : Mapping or None
        Event-study and staggered designs: Rambachan & Roth bounds on the effect under
        non-parallel trends and their breakdown values, or why they were not computed
        (:mod:`evaltk.estimate.sensitivity`).
    synthetic : Mapping or None
        Synthetic control and synthetic DiD: donor weights by force, the pre-period fit, every
        placebo and the robustness checks (:func:`evaltk.estimate.synthetic.synthetic_record`).
    note : str
        What the reader must know (months left out, why it failed).
    error : str or None
        Why the outcome could not be fitted.
    """

    outcome: Outcome
    aggregate: str
    design: str
    estimator: str
    scale: str
    n_units: int
    n_periods: int
    effect: Effect | None = None
    result: Any = None
    slope_change: Effect | None = None
    trend_per_year: Effect | None = None
    cumulative: CumulativeEffect | None = None
    diagnostics: Mapping[str, Any] | None = None
    series: pd.DataFrame | None = None
    total_unit: str = "events"
    totals: PostTotals | None = None
    change: TotalChange | None = None
    model: ITSModel | None = None
    n_clusters: int | None = None
    inference: str | None = None
    inference_text: str | None = None
    pretrend: PreTrend | None = None
    event_time: pd.DataFrame | None = None
    event_time_unit: str | None = None
    baseline: float | None = None
    figure: Draw | None = None
    figures: dict[str, Draw] = field(default_factory=dict)
    figure_data: dict[str, pd.DataFrame] = field(default_factory=dict)
    effects: pd.DataFrame | None = None
    sensitivity: Mapping[str, Any] | None = None
    synthetic: Mapping[str, Any] | None = None
    note: str = ""
    error: str | None = None

    @property
    def estimated(self) -> bool:
        return self.effect is not None

    @property
    def p_value(self) -> float | None:
        """The headline's raw p-value (None when not estimated), for the multiplicity
        correction."""
        return self.effect.p_value if self.effect is not None else None

    def post_totals(self) -> PostTotals | None:
        """The post-period totals the ledger reads: the estimator's own (comparative ITS) or
        those of the ITS model (its month-level estimating functions); None without either."""
        if self.totals is not None or self.model is None or self.effect is None:
            return self.totals
        return its_post_totals(self.model, self.result)

    def total_change(self) -> TotalChange | None:
        """The change over the treated force-months implied by the headline, for the events
        averted and the ledger; None when the outcome was not estimated or its values do not
        add up over months."""
        if self.effect is None or self.total_unit == "not additive":
            return None
        if self.change is not None or self.model is None:
            return self.change
        change = its_total_change(self.model, self.result)
        if change is None or self.n_units <= 1:
            return change
        # A series that adds several forces up: the scheme runs in each of them, so its
        # treated force-months (what the scheme's running cost is charged on) count each.
        return replace(change, force_months=change.force_months * self.n_units)


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
) -> OutcomeFit:
    """A fit that could not be made: the error is recorded, not raised."""
    return OutcomeFit(
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


def headline(
    term: str,
    estimate: float | None,
    ci_low: float | None,
    ci_high: float | None,
    p_value: float | None,
    scale: str,
    std_error: float | None,
    level: float,
    df: float | None = None,
) -> Effect | None:
    """The headline :class:`Effect` of a comparison design, None when there is no estimate;
    a missing number is NaN."""
    if estimate is None:
        return None

    def nan(value: float | None) -> float:
        return float("nan") if value is None else value

    return Effect(
        term=term,
        estimate=estimate,
        ci_low=nan(ci_low),
        ci_high=nan(ci_high),
        p_value=nan(p_value),
        scale=scale,
        std_error=nan(std_error),
        level=level,
        df=df,
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
