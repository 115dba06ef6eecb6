"""Small linear programmes through HiGHS (``highspy``), the solver scipy's ``linprog`` wraps.

``highspy`` is used directly because the least-favourable critical value solves the same
programme a thousand times with only its right-hand side changed: a warm-started re-solve
costs about a millisecond where a fresh ``linprog`` call costs ten.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

INF = highspy.kHighsInf


@dataclass(frozen=True)
class Solution:
    """Status (``optimal``, ``infeasible``, ``unbounded`` or another HiGHS status), objective,
    primal values and the duals of the rows (HiGHS's sign convention)."""

    status: str
    objective: float
    x: np.ndarray
    row_dual: np.ndarray


def _status(model: highspy.Highs) -> str:
    status = model.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        return "optimal"
    if status == highspy.HighsModelStatus.kInfeasible:
        return "infeasible"
    if status in (
        highspy.HighsModelStatus.kUnbounded,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        return "unbounded"
    return str(status)


class LinearProgramme:
    """``minimise cost @ x`` subject to ``row_lower <= A x <= row_upper`` and
    ``col_lower <= x <= col_upper``; bounds may be infinite (``±np.inf``)."""

    def __init__(
        self,
        cost: np.ndarray,
        A: np.ndarray,
        row_lower: np.ndarray,
        row_upper: np.ndarray,
        col_lower: np.ndarray,
        col_upper: np.ndarray,
    ) -> None:
        self.n_rows, self.n_cols = A.shape
        self._model = highspy.Highs()
        self._model.setOptionValue("output_flag", False)
        lp = highspy.HighsLp()
        lp.num_col_ = self.n_cols
        lp.num_row_ = self.n_rows
        lp.col_cost_ = np.asarray(cost, dtype=float)
        lp.col_lower_ = _finite_or_inf(col_lower)
        lp.col_upper_ = _finite_or_inf(col_upper)
        lp.row_lower_ = _finite_or_inf(row_lower)
        lp.row_upper_ = _finite_or_inf(row_upper)
        # Column-wise sparse form built directly (scipy.sparse costs more than the solve).
        columns, rows = np.nonzero(np.asarray(A, dtype=float).T)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.searchsorted(columns, np.arange(self.n_cols + 1)).astype(np.int32)
        lp.a_matrix_.index_ = rows.astype(np.int32)
        lp.a_matrix_.value_ = np.asarray(A, dtype=float)[rows, columns]
        self._model.passModel(lp)
        self._rows = np.arange(self.n_rows, dtype=np.int32)

    def set_row_bounds(self, lower: np.ndarray, upper: np.ndarray) -> None:
        """Change every row's bounds, keeping the last basis as a warm start."""
        # In HiGHS's pybind API but not in highspy's type stubs.
        self._model.changeRowsBounds(  # type: ignore[attr-defined]
            self.n_rows, self._rows, _finite_or_inf(lower), _finite_or_inf(upper)
        )

    def solve(self) -> Solution:
        self._model.run()
        status = _status(self._model)
        if status != "optimal":
            return Solution(status, float("nan"), np.full(self.n_cols, np.nan), np.array([]))
        solution = self._model.getSolution()
        return Solution(
            status,
            float(self._model.getInfo().objective_function_value),
            np.asarray(solution.col_value, dtype=float),
            np.asarray(solution.row_dual, dtype=float),
        )


def _finite_or_inf(values: np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype=float).copy()
    out[np.isposinf(out)] = INF
    out[np.isneginf(out)] = -INF
    return out
