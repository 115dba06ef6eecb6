"""The result of a synthetic control or synthetic DiD fit, with its placebo inference.

The headline :class:`~evaltk.estimators.effect.Effect` is the average post-period gap; its
p-value is the placebo-in-space rank of the treated unit's post/pre RMSPE ratio (exact under
random assignment of the treated unit, never below ``1 / units``); its standard error is the
placebo standard error (the spread of the estimate when a donor is treated instead: Algorithm 4
of Arkhangelsky et al. 2021, over every donor rather than random draws), and the interval the
estimate plus or minus the normal quantile times it, as that paper reports. The interval and
the p-value come from different arguments and need not agree at the margin; the summary says
which is which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from evaltk.estimators.effect import Effect, critical_value
from evaltk.estimators.render import Fact, RendersItself, Section, format_level, format_number
from evaltk.estimators.result import effect_row, tidy_frame
from evaltk.estimators.synthetic.data import SyntheticData
from evaltk.estimators.synthetic.inference import LeaveOneOut, PlaceboInSpace, PlaceboInTime
from evaltk.estimators.synthetic.plot import plot_paths, plot_placebo_gaps

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

METHOD_NAMES = {
    "synthetic_control": "synthetic control (Abadie, Diamond & Hainmueller 2010)",
    "synthetic_did": "synthetic difference-in-differences (Arkhangelsky et al. 2021)",
}


@dataclass(frozen=True, eq=False, repr=False)
class SyntheticResult(RendersItself):
    """A synthetic control or synthetic DiD estimate with its inference. Never changes.

    Attributes
    ----------
    method : str
        ``synthetic_control`` or ``synthetic_did``.
    data : SyntheticData
        What was fitted.
    estimate : float
        Average gap over the post periods (in the outcome's units).
    weights : numpy.ndarray
        Donor weights, in ``data.donors`` order.
    time_weights : numpy.ndarray or None
        Pre-period weights (synthetic DiD), None for the synthetic control.
    predictor_weights : numpy.ndarray or None
        ``V`` of the synthetic control with predictors.
    gaps : numpy.ndarray
        Treated minus synthetic, every period (synthetic DiD: after its level shift).
    placebo_space : PlaceboInSpace
    placebo_se : float
        Placebo standard error.
    placebo_time : PlaceboInTime or None
    leave_one_out : LeaveOneOut or None
    level : float
    """

    method: str
    data: SyntheticData
    estimate: float
    weights: NDArray[np.float64]
    time_weights: NDArray[np.float64] | None
    predictor_weights: NDArray[np.float64] | None
    gaps: NDArray[np.float64]
    placebo_space: PlaceboInSpace
    placebo_se: float
    placebo_time: PlaceboInTime | None
    leave_one_out: LeaveOneOut | None
    level: float = 0.95

    @property
    def headline(self) -> Effect:
        """The estimate with the placebo in space's rank p-value. The synthetic control's
        interval inverts that same rank test (:meth:`PlaceboInSpace.interval`), so interval
        and p-value agree; the synthetic DiD's is the paper's, the estimate plus or minus the
        normal quantile times the placebo standard error, and so is the synthetic control's
        when no finite interval inverts the test (:attr:`inverts_rank_test` False)."""
        inverted = (
            self.placebo_space.interval(self.level) if self.method == "synthetic_control" else None
        )
        if inverted is not None:
            low, high = inverted
        else:
            half = critical_value(self.level) * self.placebo_se
            low, high = self.estimate - half, self.estimate + half
        return Effect(
            term="att",
            estimate=self.estimate,
            ci_low=low,
            ci_high=high,
            p_value=self.placebo_space.p_value,
            scale="difference",
            std_error=self.placebo_se,
            level=self.level,
            df=None,
        )

    @property
    def inverts_rank_test(self) -> bool:
        """Whether the headline interval inverts the rank test (synthetic control with enough
        units for the interval's level); else it is the placebo standard error's."""
        return (
            self.method == "synthetic_control"
            and self.placebo_space.interval(self.level) is not None
        )

    @property
    def synthetic(self) -> NDArray[np.float64]:
        """The synthetic unit's series (the treated series minus the gaps)."""
        return self.data.treated_series - self.gaps

    def donor_weights(self) -> pd.Series:
        """Donor weights by donor, largest first (zeros kept, so the pool is visible)."""
        series = pd.Series(self.weights, index=pd.Index(self.data.donors, name="donor"))
        return series.sort_values(ascending=False, kind="stable").rename("weight")

    def predictor_balance(self) -> pd.DataFrame | None:
        """Each predictor for the treated unit, its synthetic unit and the donors' mean (the
        balance table Abadie asks practitioners to show); None without predictors."""
        x = self.data.x
        if x is None:
            return None
        return pd.DataFrame(
            {
                "predictor": self.data.predictors,
                "treated": x[:, -1],
                "synthetic": x[:, :-1] @ self.weights,
                "donor_mean": x[:, :-1].mean(axis=1),
                "v": self.predictor_weights,
            }
        )

    def tidy(self) -> pd.DataFrame:
        """The headline (``att``), then the placebo-in-time estimate and the range of the
        leave-one-donor-out estimates (estimates only: they are checks, not inference)."""
        rows: list[dict[str, Any]] = [effect_row(self.headline)]
        bare = {"scale": "difference", "level": self.level}
        if self.placebo_time is not None:
            rows.append({"term": "placebo_in_time", "estimate": self.placebo_time.estimate} | bare)
        if self.leave_one_out is not None and self.leave_one_out.estimates.size:
            est = self.leave_one_out.estimates
            rows.append({"term": "leave_one_out_min", "estimate": float(est.min())} | bare)
            rows.append({"term": "leave_one_out_max", "estimate": float(est.max())} | bare)
        return tidy_frame(rows)

    def _title(self) -> str:
        name = METHOD_NAMES[self.method]
        return f"{name[:1].upper()}{name[1:]}: {self.data.treated}"

    def _facts(self) -> Sequence[Fact]:
        space = self.placebo_space
        facts: list[Fact] = [
            ("outcome", self.data.outcome),
            ("donors", self.data.n_donors),
            ("periods", f"{self.data.n_pre} before {self.data.start}, {self.data.n_post} from it"),
            ("pre-period RMSPE", float(np.sqrt(np.mean(self.gaps[: self.data.n_pre] ** 2)))),
            (
                "p-value",
                f"placebo in space: rank {space.rank} of {len(space.units)} by post/pre RMSPE "
                f"ratio (smallest possible {format_number(space.smallest_p)})",
            ),
            (
                "interval",
                f"{format_level(self.level)}: estimate ± normal quantile × placebo standard "
                "error (spread of the estimate over every donor treated in turn)",
            ),
        ]
        if self.placebo_time is not None:
            facts.append(
                (
                    "placebo in time",
                    f"pretend start {self.placebo_time.start}: estimate "
                    f"{format_number(self.placebo_time.estimate)}",
                )
            )
        return facts

    def _sections(self) -> Sequence[Section]:
        weights = self.donor_weights()
        shown = weights[weights > 1e-4].reset_index()
        sections: list[Section] = [("Donor weights (above 0.0001)", shown)]
        balance = self.predictor_balance()
        if balance is not None:
            sections.append(("Predictor balance", balance))
        sections.append(("Placebo in space", self.placebo_space.table().head(10)))
        if self.leave_one_out is not None and self.leave_one_out.estimates.size:
            sections.append(("Leave one donor out", self.leave_one_out.table()))
        return sections

    def plot(self, ax: Axes | None = None, title: str | None = None) -> tuple[Figure, Axes]:
        """The treated unit's series and its synthetic counterfactual."""
        return plot_paths(
            self.data.periods,
            self.data.treated_series,
            self.synthetic,
            self.data.start,
            (self.data.treated, f"synthetic {self.data.treated}", self.data.outcome),
            ax=ax,
            title=title,
        )

    def plot_placebos(
        self, ax: Axes | None = None, title: str | None = None
    ) -> tuple[Figure, Axes]:
        """Every donor's placebo gap (grey) and the treated unit's (black)."""
        return plot_placebo_gaps(
            self.data.periods,
            self.placebo_space.gaps,
            self.data.start,
            self.data.treated,
            ax=ax,
            title=title,
        )
