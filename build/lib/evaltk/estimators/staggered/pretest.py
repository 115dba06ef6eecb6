r"""Wald pre-test of parallel trends on the pre-treatment ATT(g,t).

As R ``did`` ("P-value for pre-test of parallel trends assumption"): with :math:`\hat\beta` the
pre-treatment ATT(g,t) (:math:`g > t`) that have a standard error, and :math:`\widehat V` their
analytical covariance (:mod:`~evaltk.estimators.staggered.inference`),

.. math::

    W = n\,\hat\beta'\widehat V^{-1}\hat\beta \sim \chi^2_q \text{ under } H_0: \beta = 0,

with q the number of cells tested. The analytical covariance is used even when the standard
errors are bootstrapped, as R does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import chdtrc

from evaltk.estimators.staggered.inference import vcov


@dataclass(frozen=True)
class PreTest:
    r"""Result of the pre-trend Wald test.

    Attributes
    ----------
    statistic : float or None
        :math:`W`; None when the test cannot be computed (``reason`` says why).
    df : int
        Number of pre-treatment ATT(g,t) tested.
    p_value : float or None
        :math:`P(\chi^2_{df} > W)`.
    reason : str or None
        Why there is no statistic (no pre-treatment cells, singular covariance).
    """

    statistic: float | None
    df: int
    p_value: float | None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "statistic": self.statistic,
            "df": self.df,
            "p_value": self.p_value,
            "reason": self.reason,
        }

    def text(self) -> str:
        if self.statistic is None:
            return f"Pre-trend Wald test: not computed ({self.reason})"
        return (
            f"Pre-trend Wald test (H0: all pre-treatment ATT(g,t) = 0): W = "
            f"{self.statistic:.3f}, df = {self.df}, p = {self.p_value:.4f}"
        )


def wald_pretest(
    att: np.ndarray,
    pre: np.ndarray,
    se: np.ndarray,
    inf: np.ndarray,
    cluster: np.ndarray | None = None,
    n_clusters: int | None = None,
) -> PreTest:
    """Test that every pre-treatment ATT(g,t) is zero.

    Parameters
    ----------
    att : numpy.ndarray
        All ATT(g,t).
    pre : numpy.ndarray of bool
        Pre-treatment cells (``group > time``).
    se : numpy.ndarray
        Analytical standard errors; cells with none (NaN) are left out, as R does.
    inf : numpy.ndarray
        Influence functions of all cells, ``(n_units, n_cells)``.
    cluster : numpy.ndarray, optional
        Cluster code per unit; None clusters by unit.
    n_clusters : int, optional

    Returns
    -------
    PreTest
    """
    use = np.flatnonzero(pre & np.isfinite(se))
    if len(use) == 0:
        reason = (
            "every pre-treatment ATT(g,t) lacks a standard error"
            if pre.any()
            else "no pre-treatment ATT(g,t): every cohort starts in the second period"
        )
        return PreTest(None, 0, None, reason)
    b = att[use]
    n_units = inf.shape[0]
    v_pre = vcov(inf[:, use], cluster, n_clusters or n_units)
    if 1 / np.linalg.cond(v_pre, 1) <= np.finfo(float).eps:
        return PreTest(None, len(use), None, "singular covariance of the pre-treatment cells")
    w = float(n_units * b @ np.linalg.solve(v_pre, b))
    return PreTest(w, len(use), float(chdtrc(len(use), w)))
