r"""Multiplier bootstrap of influence functions: standard errors and uniform bands.

Draw :math:`b` perturbs each cluster's influence-function sum by an independent multiplier
:math:`V_{c,b}` with mean 0 and variance 1:
:math:`\hat\theta^*_b - \hat\theta = n^{-1}\sum_c V_{c,b} S_c` (units are their own clusters
by default). As R ``did`` (``mboot``), the standard error is the interquartile range of the
draws over that of the standard normal (order statistics, R's quantile type 1), and the
uniform (sup-t) critical value is the ``level`` quantile over draws of
:math:`\max_j |\hat\theta^*_{b,j} - \hat\theta_j| / \mathrm{se}_j`. Columns whose draws are
numerically zero (a cell fixed at 0) get no standard error and are left out of the maximum.

Draws come from numpy's PCG64 generator, so they differ from R's; bootstrap figures agree with
R only within Monte Carlo error.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from evaltk.estimators.staggered.inference import cluster_sums

IQR_NORMAL = NormalDist().inv_cdf(0.75) - NormalDist().inv_cdf(0.25)
SQRT5 = math.sqrt(5.0)
MAMMEN_LOW = (1 - SQRT5) / 2
MAMMEN_HIGH = (1 + SQRT5) / 2
MAMMEN_P_LOW = (SQRT5 + 1) / (2 * SQRT5)
# Multiplier matrix entries generated per chunk (bounds memory at about 32 MB).
CHUNK_ENTRIES = 4_000_000
_FUZZ = 4 * np.finfo(float).eps


def multiplier_draws(
    inf: np.ndarray,
    *,
    n_boot: int,
    seed: int,
    multiplier: str = "rademacher",
    cluster: np.ndarray | None = None,
    n_clusters: int | None = None,
) -> np.ndarray:
    r"""Bootstrap perturbations :math:`n^{-1}\sum_c V_{c,b} S_c` of every column.

    Parameters
    ----------
    inf : numpy.ndarray
        Influence functions, ``(n_units, p)``.
    n_boot : int
        Number of draws.
    seed : int
        Seed for ``numpy.random.default_rng``; the same seed, data and columns give the same
        draws.
    multiplier : {"rademacher", "mammen"}
        Rademacher: :math:`\pm 1` with probability 1/2 each. Mammen:
        :math:`(1-\sqrt5)/2` with probability :math:`(\sqrt5+1)/(2\sqrt5)`, else
        :math:`(1+\sqrt5)/2`.
    cluster : numpy.ndarray, optional
        Cluster code per unit; None draws one multiplier per unit.
    n_clusters : int, optional
        Number of clusters (required with ``cluster``).

    Returns
    -------
    numpy.ndarray
        ``(n_boot, p)`` draws of :math:`\hat\theta^* - \hat\theta`.
    """
    n_units = inf.shape[0]
    s = cluster_sums(inf, cluster, n_clusters or n_units)
    rows = s.shape[0]
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, s.shape[1]))
    # Each multiplier is c0 + c1 * I with I a 0/1 indicator, so V'S = c0 * 1'S + c1 * I'S:
    # only the indicators are drawn, into one reused buffer (allocation dominates otherwise).
    if multiplier == "rademacher":
        c0, c1 = -1.0, 2.0
    else:
        c0, c1 = MAMMEN_HIGH, MAMMEN_LOW - MAMMEN_HIGH
    base = c0 * s.sum(axis=0)
    step = max(1, min(n_boot, CHUNK_ENTRIES // max(rows, 1)))
    buf = np.empty((step, rows))
    for start in range(0, n_boot, step):
        b = min(step, n_boot - start)
        u = buf[:b]
        if multiplier == "rademacher":
            bits = np.unpackbits(np.frombuffer(rng.bytes((b * rows + 7) // 8), np.uint8))
            u[...] = bits[: b * rows].reshape(b, rows)
        else:
            np.less(rng.random((b, rows)), MAMMEN_P_LOW, out=u, casting="unsafe")
        out[start : start + b] = base + c1 * (u @ s)
    return out / n_units


def nondegenerate(draws: np.ndarray, n_units: int, n_clusters: int) -> np.ndarray:
    """Columns whose draws are not numerically zero, on R ``mboot``'s scale."""
    scaled = draws * (n_units / math.sqrt(n_clusters))
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(scaled).all(axis=0) & (
            np.einsum("ij,ij->j", scaled, scaled) > math.sqrt(np.finfo(float).eps) * 10
        )
    return ok


def bootstrap_se(draws: np.ndarray, n_units: int, n_clusters: int) -> np.ndarray:
    """Interquartile-range standard error of each column; NaN for degenerate columns."""
    se = np.full(draws.shape[1], np.nan)
    ok = nondegenerate(draws, n_units, n_clusters)
    if ok.any():
        ordered = np.sort(draws[:, ok], axis=0)
        se[ok] = (quantile_type1(ordered, 0.75) - quantile_type1(ordered, 0.25)) / IQR_NORMAL
    return se


def sup_t_critical(
    draws: np.ndarray, se: np.ndarray, level: float, n_units: int, n_clusters: int
) -> float:
    """Critical value of the simultaneous band over the columns (NaN if none is usable).

    A bootstrap quantile of the largest t statistic, not a quantile of a reference
    distribution, so it is not :func:`evaltk.estimators.effect.critical_value`.

    Parameters
    ----------
    draws : numpy.ndarray
        ``(n_boot, p)`` from :func:`multiplier_draws`.
    se : numpy.ndarray
        Bootstrap standard errors of the columns (:func:`bootstrap_se`).
    level : float
        The band's coverage.
    n_units, n_clusters : int
        For the degeneracy check.
    """
    ok = nondegenerate(draws, n_units, n_clusters) & np.isfinite(se) & (se > 0)
    if not ok.any():
        return float("nan")
    t_max = np.max(np.abs(draws[:, ok] / se[ok]), axis=1)
    return float(quantile_type1(np.sort(t_max)[:, None], level)[0])


def quantile_type1(ordered: np.ndarray, p: float) -> np.ndarray:
    """R's ``quantile(type = 1)`` (inverse empirical CDF) of each column of a sorted array."""
    n = ordered.shape[0]
    nppm = n * p
    j = math.floor(nppm + _FUZZ)
    k = j + (1 if nppm > j + _FUZZ else 0)
    return ordered[min(max(k, 1), n) - 1]
