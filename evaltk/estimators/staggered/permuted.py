"""Aggregate estimates of one panel under other adoption dates, without refitting from scratch.

Randomisation inference (:mod:`~evaltk.estimators.staggered.randomization`) needs, for each
permuted assignment of adoption dates to units, a few aggregate estimates and nothing else.
A permutation changes only which units belong to which cohort, so the long panel is checked
and reshaped once (:func:`~.data.wide_panel`: the unit × period outcome matrix); each
assignment re-cuts it (:func:`~.data.select_panel`), takes the ATT(g,t) from the cohorts'
means of the outcome changes (:func:`~.attgt.estimate_cell_arrays`) and aggregates them
(:func:`~.aggregate.aggregate_cells`). Standard errors, the Wald
pre-test and the result tables a full fit builds are skipped. The functions and the order of
arithmetic are those of ``CallawaySantAnna(...).fit().aggregate(...)``, so the estimates are
the same bits (tested against a refit on permuted data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltk.estimators.staggered.aggregate import Aggregation, aggregate_cells
from evaltk.estimators.staggered.attgt import CellPlan, estimate_cell_arrays, plan_estimates
from evaltk.estimators.staggered.data import select_panel, wide_panel
from evaltk.estimators.staggered.options import CSSpec


@dataclass(frozen=True)
class AggregateRequest:
    """One aggregation, with the arguments of :meth:`CSResult.aggregate` that change estimates."""

    type: str = "simple"
    min_e: float | None = None
    max_e: float | None = None
    balance_e: int | None = None


class PermutedEstimates:
    """One balanced panel (columns ``unit``, ``t``, ``g`` and ``outcome``), for any assignment.

    ``units`` are in ascending order and ``cohort`` holds their observed first treated
    periods (``inf`` for never treated); an assignment is a reordering of ``cohort``.
    """

    def __init__(self, data: pd.DataFrame, outcome: str, spec: CSSpec) -> None:
        self.spec = spec
        self._plans: dict[tuple[bytes, bytes], CellPlan] = {}
        self.wide = wide_panel(data, outcome=outcome, unit="unit", time="t", group="g", spec=spec)

    @property
    def units(self) -> np.ndarray:
        return self.wide.unit_ids

    @property
    def cohort(self) -> np.ndarray:
        return self.wide.cohort

    def treated(self) -> np.ndarray:
        """The observed treatment indicator D (1 from each unit's start on), units × periods."""
        return (self.wide.periods[None, :] >= self.wide.cohort[:, None]).astype(float)

    def aggregates(
        self,
        cohort: np.ndarray,
        requests: Sequence[AggregateRequest],
        y: np.ndarray | None = None,
    ) -> list[Aggregation]:
        """The aggregations of the ATT(g,t) when the units' cohorts are ``cohort``.

        ``y`` (units × periods, default the panel's outcome) replaces the outcome, as for
        the treatment indicator in the test inversion.
        """
        panel = select_panel(self.wide, self.spec, cohort=cohort, y=y)
        # The panel orders units by cohort, so every assignment of the same cohorts gives the
        # same sorted cohorts, periods and so the same plan: made once.
        key = (panel.cohort.tobytes(), panel.periods.tobytes())
        if key not in self._plans:
            self._plans[key] = plan_estimates(panel, self.spec)
        cells, att, _, _ = estimate_cell_arrays(panel, self.spec, self._plans[key], influence=False)
        # As CallawaySantAnna.fit: cohort shares over all units of the panel.
        pg = (panel.cohort[:, None] == panel.groups[None, :]).mean(axis=0)
        group = np.array([c.group for c in cells], dtype=float)
        time = panel.periods[[c.ti for c in cells]].astype(float)
        return [
            aggregate_cells(
                r.type,
                group=group,
                time=time,
                att=att,
                groups=panel.groups,
                pg=pg,
                first_period=float(panel.periods[0]),
                min_e=r.min_e,
                max_e=r.max_e,
                balance_e=r.balance_e,
            )
            for r in requests
        ]


def pre_square(aggregation: Aggregation) -> float:
    """Mean square of the pre-treatment event-time effects of a ``dynamic`` aggregation."""
    pre = aggregation.estimates[aggregation.labels < 0]
    pre = pre[np.isfinite(pre)]
    return float(np.mean(pre**2)) if pre.size else float("nan")
