"""Read-only results of the DiD-type estimators: text, tidy table, HTML, JSON and plot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaltk.estimators.effect import Effect
from evaltk.estimators.render import Fact, RendersItself, Section, format_level, format_number
from evaltk.estimators.result import optional_df, tidy_frame

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Columns of :meth:`DiDResult.to_frame` (``effects.csv`` keeps them); :meth:`DiDResult.tidy`
#: has every result's columns.
TIDY_COLUMNS = ("term", "estimate", "ci_low", "ci_high", "p_value", "scale", "std_error")
DESIGN_NAMES = {
    "did_2x2": "2 x 2 difference-in-differences",
    "twfe": "two-way fixed effects difference-in-differences",
    "event_study": "event study (two-way fixed effects with leads and lags)",
    "cits": "comparative interrupted time series",
}


@dataclass(frozen=True)
class PostTotals:
    """The treated series' change in events over the post months, for the whole-system ledger.

    Attributes
    ----------
    averted : float
        Counterfactual minus observed, summed over the treated series' post months (washout
        months are not in the series).
    sd : float
        Its delta-method standard error (the uncertainty of the counterfactual sum).
    df : float or None
        Degrees of freedom of a Student t reference (GLS), None for a normal one.
    months : int
        Post months summed.
    month_influence : pandas.Series
        Influence of each fitted month on the counterfactual sum (its estimating function
        times the bread times the gradient), indexed by month: what correlates outcomes.
    """

    averted: float
    sd: float
    df: float | None
    months: int
    month_influence: pd.Series = field(repr=False)


@dataclass(frozen=True, eq=False, repr=False)
class DiDResult(RendersItself):
    """Result of a 2 × 2, two-way fixed effects or comparative ITS fit. Never changes.

    Attributes
    ----------
    design : str
        ``did_2x2``, ``twfe``, ``event_study`` or ``cits``.
    family : str
        ``linear`` / ``poisson`` (or the CITS family).
    term : str
        Name of the headline effect.
    estimate, ci_low, ci_high : float
        The headline effect and its interval, on ``scale``: a rate ratio ``exp(b)`` for
        log-link models, a difference ``b`` otherwise.
    p_value : float
        Two-sided p-value of no effect, from the inference named in ``inference``.
    scale : str
        ``ratio`` or ``difference``.
    inference : str
        ``cluster``, ``wild_bootstrap`` or ``randomization`` (DiD models); ``model``, ``hac``
        or ``gls`` (CITS).
    inference_text : str
        The same in words, with weights, draws or permutations and the reason it was chosen.
    n_clusters : int
        Units (clusters); series for CITS.
    n_obs : int
        Unit-periods fitted.
    n_periods : int
        Distinct periods.
    n_treated : int
        Units treated in some period of the data.
    level : float
        Confidence level.
    std_error : float
        Cluster-robust (CITS: model-based, HAC or GLS) standard error of the coefficient, on the
        link scale, whatever the inference.
    df : float or None
        Degrees of freedom of the Student t reference of the headline test and interval (the
        Satterthwaite df of CITS model ``gls``); None where the reference is normal or the
        inference is not a t test.
    """

    design: str
    family: str
    term: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    scale: str
    inference: str
    inference_text: str
    n_clusters: int
    n_obs: int
    n_periods: int
    n_treated: int
    level: float
    std_error: float
    _table: pd.DataFrame = field(repr=False)
    _details: Mapping[str, Any] = field(repr=False)
    _plot_data: pd.DataFrame = field(repr=False)
    df: float | None = None
    #: The ledger's post-period totals (comparative ITS only).
    totals: PostTotals | None = None

    @property
    def ci(self) -> tuple[float, float]:
        return (self.ci_low, self.ci_high)

    @property
    def details(self) -> dict[str, Any]:
        """Everything else: the cluster-robust comparison, bootstrap or permutation settings,
        the starts of each unit, model options."""
        return dict(self._details)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: ``term, estimate, ci_low, ci_high, p_value, scale, std_error``, the
        headline effect first."""
        return self._table.copy()

    def get_plot_data(self) -> pd.DataFrame:
        """The frame :meth:`plot` draws."""
        return self._plot_data.copy()

    @property
    def headline(self) -> Effect:
        """The headline effect (``term``) with its interval, p-value and reference."""
        return Effect(
            term=self.term,
            estimate=self.estimate,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            p_value=self.p_value,
            scale=self.scale,
            std_error=self.std_error,
            level=self.level,
            df=optional_df(self.df),
        )

    def tidy(self) -> pd.DataFrame:
        """Every result's tidy table (:data:`evaltk.estimators.result.TIDY_COLUMNS`): the rows
        of :meth:`to_frame` with their degrees of freedom and level."""
        per_term = (self._details.get("gls") or {}).get("df") or {}
        rows = [
            {**row, "df": per_term.get(row["term"], self.df), "level": self.level}
            for row in self._table.to_dict("records")
        ]
        return tidy_frame(rows)

    def _title(self) -> str:
        return f"{DESIGN_NAMES.get(self.design, self.design)} ({self.family})"

    def _facts(self) -> list[Fact]:
        return [
            ("units", f"{self.n_clusters} ({self.n_treated} treated)"),
            ("periods", self.n_periods),
            ("observations", self.n_obs),
            ("inference", self.inference_text),
            ("intervals", format_level(self.level)),
            ("effect scale", self.scale),
        ]

    def _sections(self) -> list[Section]:
        cluster = self._details.get("cluster")
        if self.inference in ("cluster", "model", "hac") or not cluster:
            return []
        return [
            (
                "",
                f"For comparison, cluster-robust (CR1): p = {format_number(cluster['p_value'])}, "
                f"interval {format_number(cluster['ci_low'])} to "
                f"{format_number(cluster['ci_high'])} (too liberal with few clusters).",
            )
        ]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(design={self.design!r}, {self.term}={self.estimate:.4g} "
            f"[{self.ci_low:.4g}, {self.ci_high:.4g}], p={self.p_value:.3g}, "
            f"scale={self.scale!r}, inference={self.inference!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (plain floats, None for undefined or infinite values)."""
        return {
            "estimator": self.design,
            "design": self.design,
            "family": self.family,
            "term": self.term,
            "estimate": json_value(self.estimate),
            "ci_low": json_value(self.ci_low),
            "ci_high": json_value(self.ci_high),
            "p_value": json_value(self.p_value),
            "scale": self.scale,
            "level": self.level,
            "std_error": json_value(self.std_error),
            "df": json_value(self.df),
            "inference": self.inference,
            "inference_text": self.inference_text,
            "n_clusters": self.n_clusters,
            "n_units": self.n_clusters,
            "n_obs": self.n_obs,
            "n_periods": self.n_periods,
            "n_treated": self.n_treated,
            "terms": _records(self._table),
            "details": json_value(dict(self._details)),
        }

    def plot(self, ax: Axes | None = None, title: str | None = None) -> tuple[Figure, Axes]:
        """Mean outcome by period for treated and comparison units (or the CITS series).

        Returns
        -------
        (matplotlib.figure.Figure, matplotlib.axes.Axes)
        """
        from evaltk.estimators.did.plot import plot_cits, plot_groups

        if self.design == "cits":
            return plot_cits(self._plot_data, self._details, ax=ax, title=title)
        return plot_groups(self._plot_data, self._details, ax=ax, title=title)


@dataclass(frozen=True)
class PreTrendTest:
    """Joint test that every lead coefficient is zero (parallel pre-trends).

    Attributes
    ----------
    statistic : float
        ``F = W / q`` (cluster), the bootstrap Wald or score statistic, or the Wald statistic
        whose permutation distribution was used.
    df : int
        Number of leads tested ``q``.
    p_value : float
        p-value of the joint test.
    method : str
        The same inference as the effect: ``cluster`` (``F(q, G - 1)`` reference),
        ``wild_bootstrap`` or ``randomization``.
    text : str
        In words.
    """

    statistic: float
    df: int
    p_value: float
    method: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "statistic": json_value(self.statistic),
            "df": self.df,
            "p_value": json_value(self.p_value),
            "method": self.method,
            "text": self.text,
        }


@dataclass(frozen=True, eq=False, repr=False)
class EventStudyResult(DiDResult):
    """Event study: the headline is the average of the post-adoption coefficients.

    Attributes
    ----------
    pretrend : PreTrendTest
        Joint test of the leads.
    """

    pretrend: PreTrendTest = field(default=None)  # type: ignore[assignment]
    _coefficients: pd.DataFrame = field(default=None, repr=False)  # type: ignore[assignment]
    _event_estimates: pd.Series | None = field(default=None, repr=False)
    _event_covariance: pd.DataFrame | None = field(default=None, repr=False)

    def event_time_covariance(self) -> tuple[pd.Series, pd.DataFrame] | None:
        """The bins' coefficients on the model's scale (log rate ratios for Poisson) by event
        time, reference bin left out, and their cluster-robust covariance; None when not
        kept. What sensitivity bounds to non-parallel trends start from."""
        if self._event_estimates is None or self._event_covariance is None:
            return None
        return self._event_estimates.copy(), self._event_covariance.copy()

    @property
    def coefficients(self) -> pd.DataFrame:
        """One row per event-time bin: ``event_time, estimate, ci_low, ci_high, p_value,
        std_error, scale, kind`` (``lead``, ``reference`` or ``lag``) and ``binned`` (the
        endpoint bins that hold every earlier or later period). The reference bin ``-1`` is 0
        (difference) or 1 (ratio) with no interval."""
        return self._coefficients.copy()

    def _sections(self) -> list[Section]:
        pre = self.pretrend
        return [
            *super()._sections(),
            ("Event-time coefficients", self._coefficients),
            (
                "",
                f"Pre-trend test (all {pre.df} leads = 0): statistic "
                f"{format_number(pre.statistic)}, p = {format_number(pre.p_value)}; {pre.text}",
            ),
        ]

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["pretrend"] = self.pretrend.to_dict()
        out["event_time"] = _records(self._coefficients)
        return out

    def get_plot_data(self) -> pd.DataFrame:
        return self._coefficients.copy()

    def plot(self, ax: Axes | None = None, title: str | None = None) -> tuple[Figure, Axes]:
        """Coefficients with intervals against event time; reference bin -1 marked.

        Returns
        -------
        (matplotlib.figure.Figure, matplotlib.axes.Axes)
        """
        from evaltk.estimators.did.plot import plot_event_study

        return plot_event_study(
            self._coefficients, self.scale, self.level, self.pretrend, ax=ax, title=title
        )


def tidy_row(
    term: str, estimate: float, low: float, high: float, p: float, scale: str, se: float
) -> dict[str, Any]:
    """One row of the tidy table, mapped through ``exp`` on the ratio scale."""
    if scale == "ratio":
        estimate, low, high = np.exp(estimate), np.exp(low), np.exp(high)
    return {
        "term": term,
        "estimate": float(estimate),
        "ci_low": float(low),
        "ci_high": float(high),
        "p_value": float(p),
        "scale": scale,
        "std_error": float(se),
    }


def json_value(value: Any) -> Any:
    """Plain JSON types: finite floats or None, ints, bools, strings, lists, dicts."""
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_value(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if value is None or isinstance(value, str):
        return value
    if pd.isna(value):
        return None
    return str(value)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(c): json_value(v) for c, v in row.items()} for row in frame.to_dict(orient="records")
    ]
