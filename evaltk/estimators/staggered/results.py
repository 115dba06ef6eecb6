"""The read-only result of a Callaway & Sant'Anna fit: ATT(g,t), aggregations, pre-test."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimators.effect import Effect, critical_value, p_values
from evaltk.estimators.render import Fact, RendersItself, Section, format_level
from evaltk.estimators.result import tidy_frame
from evaltk.estimators.staggered.aggregate import aggregate_cells
from evaltk.estimators.staggered.aggregate_result import LABEL_COLUMN, AggregateResult
from evaltk.estimators.staggered.bootstrap import bootstrap_se, sup_t_critical
from evaltk.estimators.staggered.format import (
    json_label,
    json_value,
    label,
    records,
    whole_labels,
)
from evaltk.estimators.staggered.inference import analytical_se
from evaltk.estimators.staggered.options import (
    AGGREGATION_TYPES,
    CSInference,
    CSSpec,
    is_int,
    resolve_level,
)
from evaltk.estimators.staggered.pretest import PreTest

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

ATTGT_COLUMNS = (
    "group",
    "time",
    "event_time",
    "base_period",
    "post",
    "att",
    "std_error",
    "ci_low",
    "ci_high",
    "p_value",
)
LABELS = ("group", "time", "event_time", "base_period")
METHOD_TEXT = {
    "dr": "doubly robust",
    "ipw": "inverse probability weighting",
    "reg": "outcome regression",
}


@dataclass(frozen=True, eq=False, repr=False)
class CSResult(RendersItself):
    """Result of :meth:`CallawaySantAnna.fit`. Nothing in it changes after it is made.

    Attributes
    ----------
    spec : CSSpec
        Comparison group, estimator, base period, anticipation, covariates.
    inference : CSInference
        Bootstrap, draws, seed, bands and level used.
    columns : Mapping[str, str]
        The data's column names for ``outcome``, ``unit``, ``time``, ``group``, ``cluster``.
    n_units, n_clusters : int
        Units used (after dropping those treated in the first period) and clusters.
    periods, groups : tuple of float
        Periods of the panel and treated cohorts estimated.
    group_sizes : Mapping[str, int]
        Units per cohort (``"never"`` for never treated).
    pretest : PreTest
        Wald pre-test of parallel trends on the pre-treatment ATT(g,t).
    crit_val : float
        Critical value of the ATT(g,t) intervals (simultaneous with ``cband``).
    notes : tuple of str
        Units recoded or dropped, cells skipped.
    """

    spec: CSSpec
    inference: CSInference
    columns: Mapping[str, str | None]
    n_units: int
    n_clusters: int
    periods: tuple[float, ...]
    groups: tuple[float, ...]
    group_sizes: Mapping[str, int]
    pretest: PreTest
    crit_val: float
    notes: tuple[str, ...]
    _cells: pd.DataFrame = field(repr=False)
    _inf: np.ndarray = field(repr=False)
    _indicators: np.ndarray = field(repr=False)
    _pg: np.ndarray = field(repr=False)
    _draws: np.ndarray | None = field(repr=False)
    _cluster: np.ndarray | None = field(repr=False)
    _unit_ids: np.ndarray = field(repr=False)

    # -- tables --------------------------------------------------------------------------
    @property
    def level(self) -> float:
        """Confidence level of the intervals."""
        return self.inference.level

    @property
    def alpha(self) -> float:
        """``1 - level`` (R ``did``'s name; kept for callers that read it)."""
        return self.inference.alpha

    @property
    def att(self) -> pd.Series:
        """ATT(g,t) indexed by (group, time)."""
        f = self.to_frame()
        return f.set_index(["group", "time"])["att"]

    def to_frame(self) -> pd.DataFrame:
        """Tidy ATT(g,t) table, one row per cell in group-then-time order.

        Columns ``group, time, event_time, base_period, post, att, std_error, ci_low,
        ci_high, p_value``. ``event_time = time - group``; ``post`` is ``group <= time``.
        Intervals use :attr:`crit_val` (simultaneous over all cells with ``cband``); the
        p-value is pointwise. The universal base-period cell has ``att = 0`` and no standard
        error.
        """
        return self._cells.loc[:, list(ATTGT_COLUMNS)].copy()

    def influence_function(self) -> pd.DataFrame:
        r"""Per-unit influence functions of the ATT(g,t), scaled so that
        :math:`\widehat{ATT}-ATT \approx n^{-1}\sum_i\psi_i`; columns ``"g=…,t=…"``, rows
        indexed by unit id (in cohort order)."""
        names = [
            f"g={label(g)},t={label(t)}"
            for g, t in zip(self._cells["group"], self._cells["time"], strict=True)
        ]
        return pd.DataFrame(self._inf, columns=names, index=self._unit_index())

    def _unit_index(self) -> pd.Index:
        return pd.Index(self._unit_ids, name=self.columns["unit"])

    # -- aggregation -----------------------------------------------------------------------
    def aggregate(
        self,
        type: str = "simple",
        *,
        min_e: float | None = None,
        max_e: float | None = None,
        balance_e: int | None = None,
        cband: bool | None = None,
        level: float | None = None,
        alpha: float | None = None,
    ) -> AggregateResult:
        """Aggregate the ATT(g,t) as R ``did::aggte``.

        Parameters
        ----------
        type : {"simple", "group", "dynamic", "calendar"}
            See :mod:`evaltk.estimators.staggered.aggregate`.
        min_e, max_e : float, optional
            Event-time window for ``dynamic`` (``max_e`` also limits ``simple`` and
            ``group``).
        balance_e : int, optional
            ``dynamic`` only: keep cohorts observed at least ``balance_e`` periods after
            treatment.
        cband : bool, optional
            Simultaneous band over the levels; defaults to the fit's ``cband``. Needs the
            fit's bootstrap draws (``fit(bootstrap=True)`` or ``fit(cband=True)``).
        level : float, optional
            Confidence level; defaults to the fit's.
        alpha : float, optional
            ``1 - level``, accepted instead of ``level`` (R ``did``'s ``alp``).

        Returns
        -------
        AggregateResult

        Raises
        ------
        EstimationError
            For an unknown type, an option that does not apply to it, an empty selection, or
            a band requested from a fit without bootstrap draws.
        """
        if type not in AGGREGATION_TYPES:
            raise EstimationError(
                f"aggregate type {type!r} is not supported; use one of "
                f"{', '.join(AGGREGATION_TYPES)}."
            )
        level = resolve_level(level, alpha, default=self.level)
        cband = self.inference.cband if cband is None else cband
        if not isinstance(cband, bool):
            raise EstimationError(f"aggregate cband must be true or false, got {cband!r}.")
        for name, value in (("min_e", min_e), ("max_e", max_e)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, numbers.Real)
            ):
                raise EstimationError(f"aggregate {name} must be a number, got {value!r}.")
        if balance_e is not None and (not is_int(balance_e) or balance_e < 0):
            raise EstimationError(
                f"aggregate balance_e must be a non-negative integer, got {balance_e!r}."
            )
        if cband and self._draws is None:
            raise EstimationError(
                "A simultaneous band needs multiplier-bootstrap draws; refit with "
                "fit(cband=True) or fit(bootstrap=True)."
            )
        c = self._cells
        agg = aggregate_cells(
            type,
            group=c["group"].to_numpy(float),
            time=c["time"].to_numpy(float),
            att=c["att"].to_numpy(float),
            groups=np.asarray(self.groups),
            pg=self._pg,
            first_period=self.periods[0],
            min_e=min_e,
            max_e=max_e,
            balance_e=balance_e,
        )
        a = np.column_stack([agg.a, agg.overall_a])
        b = np.column_stack([agg.b, agg.overall_b])
        inf = self._inf @ a + self._indicators @ b
        est = np.append(agg.estimates, agg.overall)
        se = analytical_se(inf, self._cluster, self.n_clusters)
        draws = None
        if self._draws is not None:
            k = self._inf.shape[1]
            draws = self._draws[:, :k] @ a + self._draws[:, k:] @ b
        if self.inference.bootstrap and draws is not None:
            bse = bootstrap_se(draws, self.n_units, self.n_clusters)
            se = np.where(np.isfinite(se), bse, np.nan)
        z = critical_value(level, like_r=True)
        crit, notes = z, []
        m = len(agg.estimates)
        if cband and m and draws is not None:
            bse_levels = bootstrap_se(draws[:, :m], self.n_units, self.n_clusters)
            crit = sup_t_critical(draws[:, :m], bse_levels, level, self.n_units, self.n_clusters)
            if not np.isfinite(crit) or crit < z:
                notes.append(
                    "The simultaneous band could not be formed or was narrower than pointwise "
                    "intervals; pointwise intervals are shown."
                )
                crit, cband = z, False
        elif cband and not m:
            cband = False
        levels = pd.DataFrame(
            {
                LABEL_COLUMN[type] or "label": agg.labels,
                "estimate": agg.estimates,
                "std_error": se[:m],
                "ci_low": agg.estimates - crit * se[:m],
                "ci_high": agg.estimates + crit * se[:m],
                "p_value": p_values(agg.estimates, se[:m]),
                "n_cells": agg.n_cells,
            }
        )
        levels = whole_labels(levels, (LABEL_COLUMN[type] or "label",))
        if type == "dynamic" and not np.isfinite(agg.overall):
            notes.append("No event time >= 0 in the window, so there is no overall effect.")
        overall_se = se[m]
        return AggregateResult(
            type=type,
            estimate=float(est[m]),
            std_error=float(overall_se),
            ci_low=float(est[m] - z * overall_se),
            ci_high=float(est[m] + z * overall_se),
            p_value=float(p_values(est[m:], se[m:])[0]),
            level=level,
            cband=cband,
            crit_val=float(crit),
            bootstrap=self.inference.bootstrap,
            min_e=min_e,
            max_e=max_e,
            balance_e=balance_e,
            spec=self.spec,
            n_units=self.n_units,
            n_cells=int(np.count_nonzero(agg.overall_a)),
            notes=tuple(notes),
            _levels=levels.reset_index(drop=True),
            _inf=inf,
            _unit_index=self._unit_index(),
        )

    @cached_property
    def overall(self) -> AggregateResult:
        """The simple aggregation (the headline ATT), with the fit's inference settings."""
        return self.aggregate("simple")

    @property
    def headline(self) -> Effect:
        """The simple ATT (:attr:`overall`); other aggregations' headlines are their own
        :attr:`AggregateResult.headline`."""
        return self.overall.headline

    # -- rendering -------------------------------------------------------------------------
    def tidy(self) -> pd.DataFrame:
        """Every result's tidy table (:data:`evaltk.estimators.result.TIDY_COLUMNS`): the
        simple ATT (``att``), then one row per ATT(g,t) (``att(g=2004,t=2005)``), whose
        intervals use :attr:`crit_val` (simultaneous with ``cband``)."""
        rows = [{**asdict(self.headline), "df": None}]
        for cell in self._cells.to_dict("records"):
            rows.append(
                {
                    "term": f"att(g={label(cell['group'])},t={label(cell['time'])})",
                    "estimate": cell["att"],
                    "std_error": cell["std_error"],
                    "ci_low": cell["ci_low"],
                    "ci_high": cell["ci_high"],
                    "p_value": cell["p_value"],
                    "df": None,
                    "level": self.level,
                    "scale": "difference",
                }
            )
        return tidy_frame(rows)

    def _title(self) -> str:
        return "Callaway & Sant'Anna (2021) staggered difference-in-differences"

    def _facts(self) -> list[Fact]:
        s, inf = self.spec, self.inference
        se_kind = (
            f"multiplier bootstrap ({inf.n_boot} {inf.multiplier} draws, seed {inf.seed})"
            if inf.bootstrap
            else "analytical (influence function)"
        )
        cluster = self.columns.get("cluster")
        by = cluster + f" ({self.n_clusters} clusters)" if cluster else "unit"
        band = "simultaneous" if inf.cband else "pointwise"
        return [
            ("outcome", self.columns["outcome"]),
            ("units", self.n_units),
            (
                "periods",
                f"{label(self.periods[0])}-{label(self.periods[-1])} ({len(self.periods)})",
            ),
            ("cohorts", ", ".join(label(g) for g in self.groups)),
            ("comparison", s.control_group.replace("_", " ")),
            ("estimator", METHOD_TEXT[s.est_method]),
            ("base period", s.base_period),
            ("anticipation", s.anticipation),
            ("covariates", ", ".join(s.covariates) if s.covariates else "none"),
            ("standard errors", f"{se_kind}, clustered by {by}"),
            (
                "intervals",
                f"{format_level(inf.level)} {band} (critical value {self.crit_val:.3f})",
            ),
        ]

    def _sections(self) -> list[Section]:
        sections: list[Section] = [("", self.pretest.text())]
        if self.notes:
            sections.append(("Notes", "\n".join(f"  - {n}" for n in self.notes)))
        return sections

    def __repr__(self) -> str:
        o = self.overall
        return (
            f"CSResult(est_method={self.spec.est_method!r}, "
            f"control_group={self.spec.control_group!r}, cells={len(self._cells)}, "
            f"simple_att={o.estimate:.4g} [{o.ci_low:.4g}, {o.ci_high:.4g}])"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (plain numbers, None for missing values).

        The top-level ``estimate, std_error, ci_low, ci_high, p_value, scale`` are the simple
        ATT, the headline an outcome entry of ``results.json`` reports. ``aggregations`` holds
        all four types with the fit's inference settings.
        """
        o = self.overall
        return {
            "estimator": "callaway_santanna",
            "spec": {
                k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.spec).items()
            },
            "inference": {**asdict(self.inference), "alpha": self.alpha},
            "columns": dict(self.columns),
            "estimate": json_value(o.estimate),
            "std_error": json_value(o.std_error),
            "ci_low": json_value(o.ci_low),
            "ci_high": json_value(o.ci_high),
            "p_value": json_value(o.p_value),
            "scale": "difference",
            "level": self.level,
            "n_units": self.n_units,
            "n_clusters": self.n_clusters,
            "n_periods": len(self.periods),
            "periods": [json_label(p) for p in self.periods],
            "groups": [json_label(g) for g in self.groups],
            "group_sizes": dict(self.group_sizes),
            "crit_val": json_value(self.crit_val),
            "pretest": self.pretest.to_dict(),
            "notes": list(self.notes),
            "attgt": records(self.to_frame(), labels=LABELS),
            "aggregations": {t: self.aggregate(t).to_dict() for t in AGGREGATION_TYPES},
        }

    # -- plotting --------------------------------------------------------------------------
    def plot_event_study(
        self,
        ax: Axes | None = None,
        title: str | None = None,
        *,
        min_e: float | None = None,
        max_e: float | None = None,
        balance_e: int | None = None,
    ) -> tuple[Figure, Axes]:
        """Event-study plot: the dynamic aggregation by event time with its intervals.

        Returns
        -------
        (matplotlib.figure.Figure, matplotlib.axes.Axes)
        """
        agg = self.aggregate("dynamic", min_e=min_e, max_e=max_e, balance_e=balance_e)
        return agg.plot(ax=ax, title=title)

    def plot_heatmap(self, ax: Axes | None = None, title: str | None = None) -> tuple[Figure, Axes]:
        """Group × time heat map of ATT(g,t), post-treatment cells outlined.

        Returns
        -------
        (matplotlib.figure.Figure, matplotlib.axes.Axes)
        """
        from evaltk.estimators.staggered.plot import plot_heatmap

        return plot_heatmap(self.to_frame(), ax=ax, title=title)

    def plot(self, ax: Axes | None = None, title: str | None = None) -> tuple[Figure, Axes]:
        """The event-study plot (:meth:`plot_event_study`)."""
        return self.plot_event_study(ax=ax, title=title)
