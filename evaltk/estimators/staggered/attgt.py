r"""Every group-time average treatment effect ATT(g,t) and its influence function.

Which periods are compared (as R ``did``; ``a`` is the anticipation, periods are the values of
the time variable):

- post-treatment cells (:math:`g \le t`) compare t with the base period
  :math:`b_g`, the last period before :math:`g - a`;
- pre-treatment cells compare t with t's previous period (``base_period="varying"``) or with
  :math:`b_g` (``"universal"``; the cell :math:`t = b_g` is then reported as 0 with a zero
  influence function and no standard error).

Who is compared: the units of cohort g against never-treated units, or (not-yet-treated)
against units whose cohort is later than the later of the two periods plus ``a`` and is not
g. A cell with no such units is skipped, and the result's notes say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimators.staggered.data import StaggeredPanel
from evaltk.estimators.staggered.estimators import (
    Nuisance,
    did_2x2,
    did_2x2_unconditional,
    fit_nuisance,
)
from evaltk.estimators.staggered.options import TRIM_LEVEL, CSSpec


@dataclass(frozen=True, eq=False)
class CellEstimates:
    r"""ATT(g,t) point estimates and the influence-function matrix.

    Attributes
    ----------
    cells : pandas.DataFrame
        One row per ATT(g,t) in group-then-time order: ``group, time, base_period,
        event_time, post, normalized`` (``normalized`` marks the universal base cell, 0 by
        construction).
    att : numpy.ndarray
        The estimates, aligned with ``cells``.
    inf : numpy.ndarray
        Influence functions, ``(n_units, n_cells)``: :math:`\psi_{i,gt} \cdot n / n_{1,gt}`,
        zero for units outside the comparison, so that
        :math:`\widehat{ATT}_{gt} - ATT_{gt} \approx \frac{1}{n}\sum_i \psi_{i,gt}`.
    notes : tuple of str
        Cells skipped for lack of units.
    """

    cells: pd.DataFrame
    att: np.ndarray
    inf: np.ndarray
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Cell:
    """One ATT(g,t): cohort, evaluated and base period indices, and who is compared."""

    group: float
    ti: int
    base: int
    cutoff: float
    n_treated: int
    n_control: int

    @property
    def normalized(self) -> bool:
        """The universal base cell: compared with itself, 0 by construction."""
        return self.ti == self.base


def plan_cells(panel: StaggeredPanel, spec: CSSpec) -> tuple[list[Cell], list[str]]:
    """Every ATT(g,t) to estimate, in group-then-time order, and notes on cells skipped.

    Raises
    ------
    EstimationError
        For ``ipw``/``dr`` without covariates, when a cohort is 99.5 % or more of the units it
        is compared with (every comparison unit would be trimmed, and R ``did`` reports no
        estimate).
    """
    periods, ant = panel.periods, spec.anticipation
    values, sizes = panel.cohort_values, panel.cohort_sizes
    first_t = 1 if spec.base_period == "varying" else 0
    cells, notes = [], []
    for g in panel.groups:
        base_g = int(np.flatnonzero(periods + ant < g)[-1])
        n_t = int(sizes[values == g].sum())
        for ti in range(first_t, len(periods)):
            post = g <= periods[ti]
            base = base_g if (post or spec.base_period == "universal") else ti - 1
            if spec.control_group == "never_treated":
                cutoff = np.inf
            else:
                cutoff = float(periods[max(ti, base)] + ant)
            later = values > cutoff if np.isfinite(cutoff) else np.isinf(values)
            n_c = int(sizes[later & (values != g)].sum())
            cell = Cell(float(g), ti, base, cutoff, n_t, n_c)
            if not cell.normalized and n_c == 0:
                notes.append(f"ATT(g={g:g}, t={periods[ti]:g}) skipped: no comparison units.")
                continue
            if (
                not cell.normalized
                and panel.x is None
                and spec.est_method != "reg"
                and n_t / (n_t + n_c) >= TRIM_LEVEL
            ):
                raise EstimationError(
                    f"Callaway-Sant'Anna ATT(g={g:g}, t={periods[ti]:g}): overlap fails, the "
                    f"cohort is {n_t / (n_t + n_c):.1%} of the units compared, so every "
                    "comparison unit is trimmed; use est_method='reg' or more comparison units."
                )
            cells.append(cell)
    return cells, notes


def estimate_cells(panel: StaggeredPanel, spec: CSSpec) -> CellEstimates:
    """Estimate every ATT(g,t) of the panel.

    Without covariates all cells of a cohort are computed together in closed form
    (:func:`~evaltk.estimators.staggered.estimators.did_2x2_unconditional`); with covariates
    each cell runs its 2 × 2 estimator, reusing the propensity score and Gram matrix across
    cells that share the comparison units and covariate period.

    Parameters
    ----------
    panel : StaggeredPanel
    spec : CSSpec

    Returns
    -------
    CellEstimates

    Raises
    ------
    EstimationError
        Naming the cell, if its 2 × 2 estimator fails (no overlap, singular covariates, a
        logit that does not converge).
    """
    cells, att, inf, notes = estimate_cell_arrays(panel, spec)
    assert inf is not None  # asked for
    periods = panel.periods
    frame = pd.DataFrame(
        {
            "group": [c.group for c in cells],
            "time": [periods[c.ti] for c in cells],
            "base_period": [periods[c.base] for c in cells],
            "normalized": [c.normalized for c in cells],
        }
    )
    frame.insert(2, "event_time", frame["time"] - frame["group"])
    frame.insert(4, "post", frame["group"] <= frame["time"])
    return CellEstimates(cells=frame, att=att, inf=inf, notes=tuple(notes))


class Block(NamedTuple):
    """Cells sharing a cohort and comparison units, computed together on row slices."""

    cols: np.ndarray  # the cells' positions
    a: int  # the cohort's rows are a:b
    b: int
    parts: list[tuple[int, int]]  # the comparison units' row ranges
    ti: np.ndarray  # the periods compared, per cell
    base: np.ndarray


@dataclass(frozen=True)
class CellPlan:
    """The cells of a panel and, without covariates, how they are computed: what depends on
    the cohorts' sizes and the panel's order only, not on which units are in them.

    Randomisation inference permutes the adoption dates among the units, which changes
    neither the cohorts nor their sizes, and the panel orders units by cohort: one plan
    serves every assignment (:class:`~evaltk.estimators.staggered.permuted.PermutedEstimates`).
    """

    cells: list[Cell]
    notes: list[str]
    #: Without covariates, the cells computed together (:class:`Block`).
    blocks: list[Block]


def plan_estimates(panel: StaggeredPanel, spec: CSSpec) -> CellPlan:
    """The :class:`CellPlan` of ``panel``.

    Raises
    ------
    EstimationError
        As :func:`plan_cells`, and when no cell has comparison units.
    """
    cells, notes = plan_cells(panel, spec)
    if not cells:
        raise EstimationError(
            "Callaway-Sant'Anna: no ATT(g,t) could be estimated (no cohort has comparison "
            "units in any period)."
        )
    return CellPlan(cells, notes, _blocks(panel, cells) if panel.x is None else [])


def estimate_cell_arrays(
    panel: StaggeredPanel,
    spec: CSSpec,
    plan: CellPlan | None = None,
    *,
    influence: bool = True,
) -> tuple[list[Cell], np.ndarray, np.ndarray | None, list[str]]:
    """The cells, their estimates and influence functions, and the notes, as arrays: what
    :func:`estimate_cells` tabulates, without the table.

    Randomisation inference computes hundreds of assignments and needs only the estimates:
    it passes the ``plan`` its panels share and ``influence=False`` (no influence functions
    are computed without covariates; the estimates are the same bits).
    """
    plan = plan_estimates(panel, spec) if plan is None else plan
    cells = plan.cells
    n, k = panel.n_units, len(cells)
    att = np.zeros(k)
    if panel.x is None:
        inf = np.zeros((n, k), order="F") if influence else None
        _unconditional(panel, plan.blocks, att, inf)
    else:
        # Column-major, so that writing one cell's influence function touches contiguous
        # memory.
        inf = np.zeros((n, k), order="F")
        _conditional(panel, spec, cells, att, inf)
    return cells, att, inf, plan.notes


def _blocks(panel: StaggeredPanel, cells: list[Cell]) -> list[Block]:
    # Units are sorted by cohort (never treated last), so a cohort and the units later than a
    # cutoff are contiguous blocks of rows: cells sharing a cohort and comparison units are
    # computed together on slices, without copying masks over all units.
    cohort, n = panel.cohort, panel.n_units
    sets: dict[tuple[float, int], list[int]] = {}
    for j, c in enumerate(cells):
        if not c.normalized:
            start_c = int(np.searchsorted(cohort, c.cutoff, side="right"))
            if np.isinf(c.cutoff):
                start_c = int(np.searchsorted(cohort, np.inf, side="left"))
            sets.setdefault((c.group, start_c), []).append(j)
    blocks = []
    for (g, start_c), cols in sets.items():
        a, b = int(np.searchsorted(cohort, g, "left")), int(np.searchsorted(cohort, g, "right"))
        parts = [(start_c, n)] if b <= start_c else [(start_c, a), (b, n)]
        parts = [(lo, hi) for lo, hi in parts if hi > lo]
        ti = np.asarray([cells[j].ti for j in cols])
        base = np.asarray([cells[j].base for j in cols])
        blocks.append(Block(np.asarray(cols), a, b, parts, ti, base))
    return blocks


def _unconditional(
    panel: StaggeredPanel,
    blocks: list[Block],
    att: np.ndarray,
    inf: np.ndarray | None,
) -> None:
    y, n = panel.y, panel.n_units
    for cols, a, b, parts, ti, base in blocks:
        dy_t = y[a:b, ti] - y[a:b, base]
        if len(parts) == 1:
            lo, hi = parts[0]
            dy_c = y[lo:hi, ti] - y[lo:hi, base]
        else:
            dy_c = np.concatenate([y[lo:hi, ti] - y[lo:hi, base] for lo, hi in parts])
        if inf is None:
            # did_2x2_unconditional's estimate without its influence functions, in the same
            # operations (ndarray.mean is this sum divided by the count) and so the same bits;
            # randomisation inference calls this for every block of hundreds of assignments.
            add = np.add.reduce
            att[cols] = add(dy_t, axis=0) / dy_t.shape[0] - add(dy_c, axis=0) / dy_c.shape[0]
            continue
        est, psi_t, psi_c = did_2x2_unconditional(dy_t, dy_c, n)
        att[cols] = est
        inf[a:b, cols] = psi_t
        offset = 0
        for lo, hi in parts:
            inf[lo:hi, cols] = psi_c[offset : offset + hi - lo]
            offset += hi - lo


def _conditional(
    panel: StaggeredPanel, spec: CSSpec, cells: list[Cell], att: np.ndarray, inf: np.ndarray
) -> None:
    cohort, y, x_all, periods = panel.cohort, panel.y, panel.x, panel.periods
    assert x_all is not None
    n = panel.n_units
    never = np.isinf(cohort)
    samples: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]] = {}
    nuisances: dict[tuple[float, float, int], Nuisance] = {}
    for j, c in enumerate(cells):
        if c.normalized:
            continue
        key = (c.group, c.cutoff)
        if key not in samples:
            treated = cohort == c.group
            control = never if np.isinf(c.cutoff) else (cohort > c.cutoff) & ~treated
            idx = np.flatnonzero(treated | control)
            samples[key] = (idx, treated[idx])
        idx, d = samples[key]
        dy = y[idx, c.ti] - y[idx, c.base]
        xp = 0 if panel.x_time_invariant else min(c.base, c.ti)
        try:
            nkey = (c.group, c.cutoff, xp)
            if nkey not in nuisances:
                x = np.column_stack([np.ones(len(idx)), x_all[idx, xp, :]])
                nuisances[nkey] = fit_nuisance(spec.est_method, d, x)
            est, psi = did_2x2(spec.est_method, dy, nuisances[nkey])
        except (EstimationError, np.linalg.LinAlgError) as err:
            raise EstimationError(
                f"Callaway-Sant'Anna ATT(g={c.group:g}, t={periods[c.ti]:g}) with base period "
                f"{periods[c.base]:g}: {err}."
            ) from err
        if not np.isfinite(est) or not np.all(np.isfinite(psi)):
            raise EstimationError(
                f"Callaway-Sant'Anna ATT(g={c.group:g}, t={periods[c.ti]:g}) is not finite; "
                "check the outcome and covariates of that cohort and its comparison units."
            )
        att[j] = est
        inf[idx, j] = psi * (n / len(idx))
