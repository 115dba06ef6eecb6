r"""The DiD analysis's tests of the treatment coefficient, for every replicate at once.

What :func:`evaltk.estimators.did.inference.run_inference` does for one data set, done here
for ``R`` replicates of a balanced force × month panel (rows unit by unit, months in order):

- the wild cluster bootstrap. The analysis draws its weights with the protocol's seed
  (:func:`~evaltk.estimators.did.wild_bootstrap.draw_weights`: every pattern when there are
  no more than ``draws``, Rademacher or Webb as ``auto`` says, by unit or unit × calendar
  year as ``bootstrap_by`` says), so every replicate uses the same ``(H, B)`` weight matrix,
  drawn once here too, and each replicate's bootstrap statistics are matrix products with it.
  Linear models: the restricted wild cluster bootstrap (WCR) of
  :class:`~evaltk.estimators.did.wild_bootstrap.LinearWCR` at ``r = 0``, whose pieces that
  depend on the design alone (``(X'X)^{-1}`` and the cluster sums of ``X``) are shared by all
  replicates. Poisson models: the score bootstrap of
  :class:`~evaltk.estimators.did.score_bootstrap.PoissonScoreBootstrap` from the effective
  scores of :func:`~evaltk.power.batch_poisson.effective_scores`.
- randomisation inference over the analysis's own assignments
  (:func:`~evaltk.estimators.did.randomization.assignments` with the protocol's seed) and its
  p-value (:func:`~evaltk.estimators.did.randomization.p_value`): the linear TWFE coefficient
  of each assignment on the two-way demeaned panel, or the Poisson TWFE refitted per
  assignment (batched over replicates).

``tests/power/test_did_models.py`` checks replicates' p-values against the estimators.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import scipy.sparse
from scipy import stats

from evaltk.estimators.did.inference import bootstrap_groups
from evaltk.estimators.did.options import InferenceSpec
from evaltk.estimators.did.randomization import assignments, p_value
from evaltk.estimators.did.wild_bootstrap import TIE_TOLERANCE, BootstrapWeights, draw_weights
from evaltk.power.batch_poisson import effective_scores, fit_poisson_twfe

#: Replicates whose bootstrap statistics are formed at once (bounds memory at ``(R, B)``).
CHUNK = 50


def within(values: np.ndarray) -> np.ndarray:
    """Two-way demeaning of a balanced panel (last two axes: units, months)."""
    return (
        values
        - values.mean(axis=-1, keepdims=True)
        - values.mean(axis=-2, keepdims=True)
        + values.mean(axis=(-2, -1), keepdims=True)
    )


def panel_clock(first_month: dt.date, n_units: int, n_months: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit code and the estimators' period clock (``12 year + month - 1``) of every row."""
    first = 12 * first_month.year + first_month.month - 1
    unit = np.repeat(np.arange(n_units), n_months)
    clock = np.tile(first + np.arange(n_months, dtype=float), n_units)
    return unit, clock


class BootstrapPlan:
    """The analysis's bootstrap clusters and weights for one panel shape.

    Attributes
    ----------
    codes : numpy.ndarray
        ``(G T,)`` bootstrap cluster of each row, numbered as ``ClusterSums`` numbers them.
    nesting : numpy.ndarray
        ``(G, H)``: 1 where bootstrap cluster ``h`` lies in unit ``g``.
    weights : BootstrapWeights
        The ``(H, B)`` weights the analysis draws.
    by : str
        The phrase the analysis uses for the bootstrap clusters.
    """

    def __init__(self, spec: InferenceSpec, first_month: dt.date, n_units: int, n_months: int):
        unit, clock = panel_clock(first_month, n_units, n_months)
        groups, self.by = bootstrap_groups(spec, unit, clock)
        labels = unit if groups is None else groups
        _, self.codes = np.unique(labels, return_inverse=True)
        n_boot = int(self.codes.max()) + 1
        self.nesting = np.zeros((n_units, n_boot))
        self.nesting[unit, self.codes] = 1.0
        self.weights: BootstrapWeights = draw_weights(n_boot, spec.draws, spec.weights, spec.seed)
        rows = np.arange(unit.size)
        self._boot = scipy.sparse.csr_matrix(
            (np.ones(unit.size), (self.codes, rows)), shape=(n_boot, unit.size)
        )
        self._unit = scipy.sparse.csr_matrix(
            (np.ones(unit.size), (unit, rows)), shape=(n_units, unit.size)
        )

    def boot_sums(self, values: np.ndarray) -> np.ndarray:
        """``(R, H)`` sums of ``(R, N)`` values within each bootstrap cluster."""
        return np.asarray((self._boot @ values.T).T)

    def unit_sums(self, values: np.ndarray) -> np.ndarray:
        """``(R, G)`` sums of ``(R, N)`` values within each unit."""
        return np.asarray((self._unit @ values.T).T)


def _share_extreme(numer: np.ndarray, t: np.ndarray, denom: np.ndarray) -> np.ndarray:
    # |t*| >= |t|  <=>  numer >= t^2 denom, with the analysis's tie tolerance.
    return np.mean(numer >= (t * t)[:, None] * denom * (1 - TIE_TOLERANCE), axis=1)


def score_bootstrap_p(
    y: np.ndarray, d: np.ndarray, plan: BootstrapPlan, weights: np.ndarray | None = None
) -> np.ndarray:
    """Score wild cluster bootstrap p-value of the Poisson TWFE coefficient (or of
    ``weights @ coefficients`` of the regressors ``d``, ``(p, G, T)``), per replicate."""
    scores, ok = effective_scores(y, d, weights)
    s = plan.boot_sums(scores.reshape(len(y), -1))  # (R, H)
    by_unit = s @ plan.nesting.T
    with np.errstate(invalid="ignore", divide="ignore"):
        t = s.sum(axis=1) / np.sqrt(np.sum(by_unit**2, axis=1))
    V = plan.weights.values
    out = np.full(len(y), np.nan)
    for start in range(0, len(y), CHUNK):
        part = slice(start, start + CHUNK)
        numer = (s[part] @ V) ** 2
        denom = np.zeros_like(numer)
        for g in range(plan.nesting.shape[0]):
            inside = plan.nesting[g] > 0
            denom += (s[part][:, inside] @ V[inside]) ** 2
        out[part] = _share_extreme(numer, t[part], denom)
    return np.where(ok & np.isfinite(t), out, np.nan)


def wcr_p(
    y: np.ndarray, d: np.ndarray, plan: BootstrapPlan, weights: np.ndarray | None = None
) -> np.ndarray:
    r"""Restricted wild cluster bootstrap p-value of the linear TWFE coefficient (or of
    ``weights @ coefficients`` of the regressors ``d``, ``(p, G, T)``), per replicate.

    The design ``X = [regressors, month dummies 2..T]`` with unit effects partialled out, as
    :func:`~evaltk.estimators.did.design.wild_design` builds it; the algebra is that of
    :meth:`LinearWCR._curve <evaltk.estimators.did.wild_bootstrap.LinearWCR>` at ``r = 0``
    with the response the only thing that changes between replicates.
    """
    n_reps, g, t = y.shape
    n = g * t
    regs = d[None] if d.ndim == 2 else d
    p = regs.shape[0]
    months = np.zeros((g, t, t - 1))
    months[:, np.arange(1, t), np.arange(t - 1)] = 1.0
    X = np.concatenate([np.moveaxis(regs, 0, 2), months], axis=2)
    X = (X - X.mean(axis=1, keepdims=True)).reshape(n, p + t - 1)  # within units
    yy = (y - y.mean(axis=2, keepdims=True)).reshape(n_reps, n)
    k = X.shape[1]
    R = np.zeros(k)
    R[:p] = np.eye(p)[0] if weights is None else weights
    A = np.linalg.inv(X.T @ X)
    a = A @ R
    delta = a / float(R @ a)
    beta = yy @ (X @ A)  # (R, k)
    estimate = beta @ R
    resid = yy - beta @ X.T
    x_delta = X @ delta
    u0 = resid + estimate[:, None] * x_delta[None]
    w = X @ a
    c0 = plan.boot_sums(w[None] * u0)  # (R, H)
    dA = plan.unit_sums((X * w[:, None]).T).T @ A  # rows d_g' A: (G, k)
    x_dA = X @ dA.T  # (N, G)
    m = g / (g - 1) * (n - 1) / max(n - k, 1)
    se = np.sqrt(m * np.sum(plan.unit_sums(w[None] * resid) ** 2, axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        t_obs = estimate / se
    V, E = plan.weights.values, plan.nesting
    out = np.full(n_reps, np.nan)
    for start in range(0, n_reps, CHUNK):
        part = slice(start, start + CHUNK)
        numer = (c0[part] @ V) ** 2
        q0 = np.zeros_like(numer)
        for unit in range(g):
            # Row g of K0 = E * c0 - dA @ boot(X * u0)'.
            row = E[unit][None] * c0[part] - plan.boot_sums(u0[part] * x_dA[:, unit][None])
            q0 += m * (row @ V) ** 2
        out[part] = _share_extreme(numer, t_obs[part], q0)
    return np.where(np.isfinite(t_obs), out, np.nan)


def treatment_starts(treated: int, comparison: int, start: int) -> np.ndarray:
    """Each unit's start (a month index), treated units first, ``inf`` for never."""
    return np.r_[np.full(treated, float(start)), np.full(comparison, np.inf)]


def randomization_p(
    y: np.ndarray,
    starts: np.ndarray,
    spec: InferenceSpec,
    family: str,
    regressors: Callable[[np.ndarray], np.ndarray] | None = None,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Randomisation p-value of the TWFE coefficient (or of ``weights @ coefficients`` of the
    regressors ``regressors(starts)`` builds, ``(p, G, T)``) over the analysis's assignments.

    ``y``: rates (linear) or counts (Poisson), ``(R, G, T)``; ``starts``: the observed start
    of each unit on the months' index.
    """
    plan = assignments(starts, spec.permutations, spec.seed)
    months = np.arange(y.shape[2])

    def build(row: np.ndarray) -> np.ndarray:
        if regressors is not None:
            return regressors(row)
        return (months[None, :] >= row[:, None]).astype(float)[None]

    observed = build(starts)
    w = np.eye(observed.shape[0])[0] if weights is None else weights
    if family == "linear":
        yy = within(y)

        def estimate_of(row: np.ndarray) -> np.ndarray:
            regs = within(build(row))  # (p, G, T)
            gram = np.einsum("pgt,qgt->pq", regs, regs)
            cross = np.einsum("pgt,rgt->rp", regs, yy)
            return np.linalg.solve(gram, cross.T).T @ w

    else:

        def estimate_of(row: np.ndarray) -> np.ndarray:
            return fit_poisson_twfe(y, build(row), w).estimate

    permuted = np.stack([estimate_of(row) for row in plan.starts], axis=1)
    estimate = estimate_of(starts)
    out = np.array(
        [p_value(float(e), row, plan.enumerated) for e, row in zip(estimate, permuted, strict=True)]
    )
    bad = ~np.isfinite(estimate) | ~np.all(np.isfinite(permuted), axis=1)
    return np.where(bad, np.nan, out)


def event_regressors(
    starts: np.ndarray, n_months: int, leads: int, lags: int, width: int
) -> np.ndarray:
    """Event-time bin indicators ``(bins, G, T)`` as
    :meth:`EventBins.matrix <evaltk.estimators.did.event_study.EventBins>` builds them: bins
    ``-leads .. lags`` of ``width`` months, the ends holding every earlier and later month,
    bin -1 the reference (left out), every indicator zero for never-treated units."""
    months = np.arange(n_months)
    treated = np.isfinite(starts)
    event = months[None, :] - np.where(treated, starts, 0.0)[:, None]
    b = np.clip(np.floor(event / width), -leads, lags)
    columns = [c for c in range(-leads, lags + 1) if c != -1]
    return np.stack([(treated[:, None] & (b == c)).astype(float) for c in columns])


def post_average(leads: int, lags: int) -> np.ndarray:
    """The event study's headline: the mean of the post-adoption bins' coefficients."""
    columns = [c for c in range(-leads, lags + 1) if c != -1]
    lag = np.array([c >= 0 for c in columns], dtype=float)
    return lag / lag.sum()


def linear_cluster(
    y: np.ndarray, regs: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``weights @ coefficients`` of the linear TWFE on the regressors ``regs`` (``(p, G,
    T)``), its standard error clustered by unit and t p-value, as linearmodels' ``PanelOLS``
    reports them (the sandwich on the two-way demeaned data times ``n / df``, ``df = n - p -
    G - T + 1``; :func:`evaltk.power.did.twfe_batch` is the case ``p = 1``)."""
    p, g, t = regs.shape
    xx = within(regs).reshape(p, g * t).T  # (N, p)
    yy = within(y).reshape(len(y), g * t)
    bread = np.linalg.inv(xx.T @ xx)
    beta = yy @ xx @ bread  # (R, p)
    resid = yy - beta @ xx.T
    h = xx @ (bread @ weights)  # (N,)
    scores = (resid * h[None]).reshape(len(y), g, t).sum(axis=2)  # (R, G)
    n = g * t
    df = n - p - g - t + 1
    se = np.sqrt(np.sum(scores**2, axis=1) * n / df)
    estimate = beta @ weights
    return estimate, se, 2 * stats.t.sf(np.abs(estimate / se), df)
