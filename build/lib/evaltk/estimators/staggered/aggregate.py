r"""Aggregate ATT(g,t) into summary parameters, as linear maps of the influence functions.

Every aggregate :math:`\theta = \sum_{gt} w_{gt}\,ATT(g,t)` uses weights built from the cohort
shares :math:`p_g = P(G = g)`, estimated over all units. Its influence function is
(Callaway & Sant'Anna 2021, Section 4 and R ``did::aggte``)

.. math::

    \psi^\theta_i = \sum_{gt} w_{gt}\,\psi^{gt}_i + \sum_g b_g\,(1\{G_i = g\} - \hat p_g),

the second term carrying the estimation of the weights (R's ``wif``). For weights
:math:`w_{gt} = p_g / S` over a set :math:`K` of cells with :math:`S = \sum_{K} p_g`,

.. math::

    b_g = \frac{1}{S}\sum_{(g',t) \in K,\ g' = g} \big(ATT(g',t) - \theta\big).

So each aggregate is stored as a pair of coefficient vectors: ``a`` on the ATT(g,t)
influence functions and ``b`` on the centred cohort indicators. Standard errors and bootstrap
draws of any aggregate then follow from those of the cells and the indicators.

Types (as R ``aggte``; "post" means :math:`g \le t`, :math:`e = t - g`):

- ``simple``: :math:`\sum p_g ATT(g,t) / \sum p_g` over post cells (with :math:`e \le`
  ``max_e``).
- ``group``: per cohort, the plain mean of its post cells (:math:`e \le` ``max_e``); overall,
  the :math:`p_g`-weighted mean of those, with the weight term.
- ``dynamic``: per event time :math:`e`, :math:`\sum p_g ATT(g, g+e) / \sum p_g`; overall,
  the plain mean over :math:`e \ge 0`. ``min_e``/``max_e`` restrict the event times;
  ``balance_e`` keeps only cohorts observed for at least ``balance_e`` periods after
  treatment.
- ``calendar``: per period :math:`t`, :math:`\sum p_g ATT(g,t)/\sum p_g` over cohorts treated
  by :math:`t`; overall, the plain mean over periods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from evaltk.errors import EstimationError


@dataclass(frozen=True, eq=False)
class Aggregation:
    """Aggregated estimates and the linear maps that give their influence functions.

    Attributes
    ----------
    type : str
    labels : numpy.ndarray
        Event times, cohorts or periods (empty for ``simple``).
    estimates : numpy.ndarray
        One per label.
    a : numpy.ndarray
        ``(n_cells, n_labels)`` coefficients on the ATT(g,t) influence functions.
    b : numpy.ndarray
        ``(n_groups, n_labels)`` coefficients on the centred cohort indicators.
    n_cells : numpy.ndarray
        Number of ATT(g,t) averaged per label.
    overall : float
        The overall parameter (NaN for ``dynamic`` with no event time >= 0).
    overall_a, overall_b : numpy.ndarray
        Its coefficient vectors.
    """

    type: str
    labels: np.ndarray
    estimates: np.ndarray
    a: np.ndarray
    b: np.ndarray
    n_cells: np.ndarray
    overall: float
    overall_a: np.ndarray
    overall_b: np.ndarray


def aggregate_cells(
    type_: str,
    *,
    group: np.ndarray,
    time: np.ndarray,
    att: np.ndarray,
    groups: np.ndarray,
    pg: np.ndarray,
    first_period: float,
    min_e: float | None = None,
    max_e: float | None = None,
    balance_e: int | None = None,
) -> Aggregation:
    """Build one aggregation of the ATT(g,t).

    Parameters
    ----------
    type_ : {"simple", "group", "dynamic", "calendar"}
    group, time, att : numpy.ndarray
        Cohort, period and estimate of each ATT(g,t).
    groups : numpy.ndarray
        The cohorts, ascending; ``pg`` holds their shares of all units.
    pg : numpy.ndarray
    first_period : float
        First period of the panel (for ``balance_e``).
    min_e, max_e : float, optional
        Event-time window (``min_e`` for ``dynamic`` only; ``max_e`` also limits the post
        cells of ``simple`` and ``group``).
    balance_e : int, optional
        ``dynamic`` only: keep cohorts with at least ``balance_e`` post periods.

    Returns
    -------
    Aggregation

    Raises
    ------
    EstimationError
        If an option does not apply to the type, or no ATT(g,t) falls in a requested set.
    """
    if type_ != "dynamic" and (min_e is not None or balance_e is not None):
        raise EstimationError(
            f"min_e and balance_e apply to aggregate('dynamic') only, not {type_!r}."
        )
    if type_ == "calendar" and max_e is not None:
        raise EstimationError("max_e does not apply to aggregate('calendar').")
    lo = -np.inf if min_e is None else float(min_e)
    hi = np.inf if max_e is None else float(max_e)
    gidx = np.searchsorted(groups, group)
    pg_cell = pg[gidx]
    event = time - group
    post = group <= time
    n_k, n_g = len(att), len(groups)

    def weighted(keep: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        a, b = np.zeros(n_k), np.zeros(n_g)
        s = pg_cell[keep].sum()
        theta = float(pg_cell[keep] @ att[keep] / s)
        a[keep] = pg_cell[keep] / s
        np.add.at(b, gidx[keep], (att[keep] - theta) / s)
        return theta, a, b

    if type_ == "simple":
        keep = post & (event <= hi)
        if not keep.any():
            raise EstimationError("aggregate('simple'): no post-treatment ATT(g,t) to average.")
        theta, a, b = weighted(keep)
        empty = np.empty(0)
        return Aggregation(
            type_,
            empty,
            empty,
            np.zeros((n_k, 0)),
            np.zeros((n_g, 0)),
            np.zeros(0, dtype=int),
            theta,
            a,
            b,
        )

    if type_ == "group":
        labels, est, cols_a, counts = [], [], [], []
        for g in groups:
            keep = (group == g) & post & (event <= hi)
            if not keep.any():
                raise EstimationError(
                    f"aggregate('group'): cohort {g:g} has no post-treatment ATT(g,t)"
                    + (f" with event time <= max_e={max_e}" if max_e is not None else "")
                    + "."
                )
            a = np.zeros(n_k)
            a[keep] = 1 / keep.sum()
            labels.append(g)
            est.append(float(att[keep].mean()))
            cols_a.append(a)
            counts.append(int(keep.sum()))
        est_arr = np.asarray(est)
        a_mat = np.column_stack(cols_a)
        s = pg.sum()
        overall = float(pg @ est_arr / s)
        return Aggregation(
            type_,
            np.asarray(labels),
            est_arr,
            a_mat,
            np.zeros((n_g, len(labels))),
            np.asarray(counts),
            overall,
            a_mat @ (pg / s),
            (est_arr - overall) / s,
        )

    if type_ == "dynamic":
        include = np.ones(n_k, dtype=bool)
        eseq = np.unique(event)
        if balance_e is not None:
            last = time.max()
            include = (last - group) >= balance_e
            eseq = np.unique(event[include])
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - last + first_period)]
        eseq = eseq[(eseq >= lo) & (eseq <= hi)]
        if len(eseq) == 0:
            raise EstimationError(
                "aggregate('dynamic'): no event times fall within the requested window; "
                "adjust min_e, max_e or balance_e."
            )
        return _by_level(
            type_, eseq, [(event == e) & include for e in eseq], weighted, overall_mask=eseq >= 0
        )

    if type_ == "calendar":
        tlist = np.unique(time)
        tlist = tlist[tlist >= group.min()]
        tlist = np.asarray([t for t in tlist if ((time == t) & post).any()])
        return _by_level(
            type_,
            tlist,
            [(time == t) & post for t in tlist],
            weighted,
            overall_mask=np.ones(len(tlist), dtype=bool),
        )

    raise EstimationError(
        f"aggregate type {type_!r} is not supported; use 'simple', 'group', 'dynamic' or "
        "'calendar'."
    )


def _by_level(
    type_: str,
    labels: np.ndarray,
    masks: list[np.ndarray],
    weighted: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]],
    overall_mask: np.ndarray,
) -> Aggregation:
    parts = [weighted(m) for m in masks]
    est = np.asarray([p[0] for p in parts])
    a = np.column_stack([p[1] for p in parts])
    b = np.column_stack([p[2] for p in parts])
    counts = np.asarray([int(m.sum()) for m in masks])
    if overall_mask.any():
        w = overall_mask / overall_mask.sum()
        overall, oa, ob = float(est @ w), a @ w, b @ w
    else:
        overall, oa, ob = float("nan"), np.zeros(a.shape[0]), np.zeros(b.shape[0])
    return Aggregation(type_, np.asarray(labels, dtype=float), est, a, b, counts, overall, oa, ob)
