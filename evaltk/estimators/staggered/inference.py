r"""Analytical standard errors and covariance from influence functions.

For an estimator with influence function :math:`\psi_i` (normalised so that
:math:`\hat\theta - \theta \approx n^{-1}\sum_i \psi_i`), the variance is estimated as R ``did``
does: :math:`\widehat{V} = n^{-1}\sum_i \psi_i\psi_i'` and
:math:`\mathrm{se} = \sqrt{\mathrm{diag}(\widehat V)/n}`. Clustered at a coarser level
:math:`c`, :math:`\psi` is first summed within clusters:
:math:`\widehat V = n^{-1}\sum_c S_c S_c'` with :math:`S_c = \sum_{i\in c}\psi_i`
(Callaway & Sant'Anna 2021, Remark 10). Clustering by unit is the unclustered formula.
"""

from __future__ import annotations

import numpy as np

# R did reports a standard error at or below this as missing (a cell fixed at 0).
ZERO_SE = float(np.sqrt(np.finfo(float).eps) * 10)


def cluster_sums(inf: np.ndarray, cluster: np.ndarray | None, n_clusters: int) -> np.ndarray:
    """Influence functions summed within clusters (returned unchanged without clusters)."""
    if cluster is None:
        return inf
    return np.column_stack(
        [np.bincount(cluster, weights=inf[:, j], minlength=n_clusters) for j in range(inf.shape[1])]
    )


def analytical_se(inf: np.ndarray, cluster: np.ndarray | None, n_clusters: int) -> np.ndarray:
    r"""Standard error of each column's estimator; NaN where it is numerically zero.

    Parameters
    ----------
    inf : numpy.ndarray
        Influence functions, ``(n_units, p)``.
    cluster : numpy.ndarray or None
        Cluster code per unit; None clusters by unit.
    n_clusters : int

    Returns
    -------
    numpy.ndarray
        :math:`\sqrt{\sum_c S_c^2}/n` per column.
    """
    s = cluster_sums(inf, cluster, n_clusters)
    se = np.sqrt(np.einsum("ij,ij->j", s, s)) / inf.shape[0]
    se[~(se > ZERO_SE)] = np.nan
    return se


def vcov(inf: np.ndarray, cluster: np.ndarray | None, n_clusters: int) -> np.ndarray:
    r""":math:`\widehat V = n^{-1} S'S` (the covariance of :math:`\sqrt n(\hat\theta-\theta)`)."""
    s = cluster_sums(inf, cluster, n_clusters)
    return s.T @ s / inf.shape[0]
