"""The read-only result of an aggregation of ATT(g,t): text, tidy table, HTML, JSON, plot."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaltk.estimators.effect import Effect
from evaltk.estimators.render import Fact, RendersItself, Section, format_level
from evaltk.estimators.result import tidy_frame
from evaltk.estimators.staggered.format import json_label, json_value, records
from evaltk.estimators.staggered.options import CSSpec

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LABEL_COLUMN = {"simple": None, "group": "group", "dynamic": "event_time", "calendar": "time"}
TITLES = {
    "simple": "Overall ATT (simple: cohort-size weighted mean of post-treatment ATT(g,t))",
    "group": "ATT by cohort (group)",
    "dynamic": "ATT by event time (dynamic / event study)",
    "calendar": "ATT by calendar period (calendar)",
}
OVERALL_TEXT = {
    "simple": "simple ATT",
    "group": "average over cohorts, weighted by cohort size",
    "dynamic": "average over event times >= 0",
    "calendar": "average over calendar periods",
}
LEVEL_COLUMNS = ("estimate", "std_error", "ci_low", "ci_high", "p_value", "n_cells")


@dataclass(frozen=True, eq=False, repr=False)
class AggregateResult(RendersItself):
    """Result of :meth:`CSResult.aggregate`. Nothing in it changes after it is made.

    Attributes
    ----------
    type : {"simple", "group", "dynamic", "calendar"}
    estimate, std_error, ci_low, ci_high, p_value : float
        The overall parameter (see ``OVERALL_TEXT``); its interval is pointwise, as R's.
        NaN for ``dynamic`` when no event time >= 0 is kept.
    level : float
        Confidence level of the intervals.
    cband : bool
        Whether the per-level intervals are a simultaneous band (False when asked for but
        the band could not be formed; ``notes`` then says why).
    crit_val : float
        Critical value of the per-level intervals.
    bootstrap : bool
        Standard errors from the multiplier bootstrap (else analytical).
    min_e, max_e, balance_e : float or None
        Event-time restrictions used.
    spec : CSSpec
        The ATT(g,t) specification aggregated.
    n_units : int
    n_cells : int
        Number of ATT(g,t) the overall parameter averages.
    notes : tuple of str
    """

    type: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    level: float
    cband: bool
    crit_val: float
    bootstrap: bool
    min_e: float | None
    max_e: float | None
    balance_e: int | None
    spec: CSSpec
    n_units: int
    n_cells: int
    notes: tuple[str, ...]
    _levels: pd.DataFrame = field(repr=False)
    _inf: np.ndarray = field(repr=False)
    _unit_index: pd.Index = field(repr=False)

    @property
    def alpha(self) -> float:
        """``1 - level`` (R ``did``'s name; kept for callers that read it)."""
        return 1 - self.level

    @property
    def headline(self) -> Effect:
        """The overall parameter: the simple ATT for ``simple``, else the average over the
        levels (``OVERALL_TEXT``), with its pointwise normal interval."""
        term = "att" if self.type == "simple" else f"att_{self.type}"
        return Effect(
            term=term,
            estimate=self.estimate,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            p_value=self.p_value,
            scale="difference",
            std_error=self.std_error,
            level=self.level,
        )

    @property
    def label_column(self) -> str | None:
        """Name of the level column (``event_time``, ``group``, ``time``; None for simple)."""
        return LABEL_COLUMN[self.type]

    @property
    def levels(self) -> pd.DataFrame:
        """One row per event time, cohort or period: the label column then ``estimate,
        std_error, ci_low, ci_high, p_value, n_cells`` (empty for ``simple``)."""
        return self._levels.copy()

    def influence_function(self) -> pd.DataFrame:
        """Per-unit influence functions (rows by unit id): one column per level, then
        ``overall``."""
        names = [f"{v:g}" for v in self._levels.iloc[:, 0]] if len(self._levels) else []
        return pd.DataFrame(self._inf, columns=[*names, "overall"], index=self._unit_index)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: the overall row (``term = "overall"``) then one row per level
        (``term`` like ``e=0``, ``g=2004`` or ``t=2005``), columns ``term, <label>, estimate,
        std_error, ci_low, ci_high, p_value, n_cells``."""
        col = self.label_column or "label"
        overall = {
            "term": "overall",
            col: np.nan,
            "estimate": self.estimate,
            "std_error": self.std_error,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "n_cells": self.n_cells,
        }
        rows = [overall]
        prefix = {"group": "g", "dynamic": "e", "calendar": "t"}.get(self.type, "")
        for rec in self._levels.to_dict("records"):
            rows.append({"term": f"{prefix}={rec[col]:g}", **{str(k): v for k, v in rec.items()}})
        out = pd.DataFrame(rows, columns=["term", col, *LEVEL_COLUMNS])
        if col in self._levels and self._levels[col].dtype == np.int64:
            out[col] = out[col].astype("Int64")
        return out

    def tidy(self) -> pd.DataFrame:
        """Every result's tidy table (:data:`evaltk.estimators.result.TIDY_COLUMNS`): the
        terms of :meth:`to_frame`, the overall row named as the headline (``att``,
        ``att_dynamic``, ...), then ``e=0``, ``g=2004``, .... The per-level
        intervals are a simultaneous band when :attr:`cband` is True."""
        rows = [
            {**row, "df": None, "level": self.level, "scale": "difference"}
            for row in self.to_frame().to_dict("records")
        ]
        rows[0]["term"] = self.headline.term
        return tidy_frame(rows)

    def _title(self) -> str:
        return TITLES[self.type]

    def _facts(self) -> list[Fact]:
        band = "simultaneous" if self.cband else "pointwise"
        se_kind = "multiplier bootstrap" if self.bootstrap else "analytical"
        return [
            ("overall", OVERALL_TEXT[self.type]),
            ("standard errors", se_kind),
            (
                "per-level intervals",
                f"{format_level(self.level)} {band} (critical value {self.crit_val:.3f})",
            ),
            ("ATT(g,t) averaged", self.n_cells),
        ]

    def _sections(self) -> list[Section]:
        if not self.notes:
            return []
        return [("Notes", "\n".join(f"  - {n}" for n in self.notes))]

    def __repr__(self) -> str:
        return (
            f"AggregateResult(type={self.type!r}, estimate={self.estimate:.4g}, "
            f"ci=[{self.ci_low:.4g}, {self.ci_high:.4g}], levels={len(self._levels)})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary: overall figures, inference settings and the levels."""
        col = self.label_column
        return {
            "type": self.type,
            "estimate": json_value(self.estimate),
            "std_error": json_value(self.std_error),
            "ci_low": json_value(self.ci_low),
            "ci_high": json_value(self.ci_high),
            "p_value": json_value(self.p_value),
            "n_cells": self.n_cells,
            "scale": "difference",
            "level": self.level,
            "alpha": self.alpha,
            "cband": self.cband,
            "crit_val": json_value(self.crit_val),
            "bootstrap": self.bootstrap,
            "min_e": json_label(self.min_e),
            "max_e": json_label(self.max_e),
            "balance_e": self.balance_e,
            "spec": {
                k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.spec).items()
            },
            "notes": list(self.notes),
            "levels": records(self._levels, labels=(col,) if col else ()),
        }

    def get_plot_data(self) -> pd.DataFrame:
        """The frame :meth:`plot` draws: :attr:`levels` plus ``post`` (event time >= 0 for
        ``dynamic``; True otherwise)."""
        data = self.levels
        if self.type == "dynamic":
            data["post"] = data["event_time"] >= 0
        else:
            data["post"] = True
        return data

    def plot(self, ax: Axes | None = None, title: str | None = None) -> tuple[Figure, Axes]:
        """Estimates by level with their intervals (an event-study plot for ``dynamic``).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is made (without pyplot's global state) otherwise.
        title : str, optional

        Returns
        -------
        (matplotlib.figure.Figure, matplotlib.axes.Axes)
        """
        from evaltk.estimators.staggered.plot import plot_aggregate

        return plot_aggregate(self, ax=ax, title=title)
