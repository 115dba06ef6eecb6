"""Closed-form variance and power of a stepped-wedge cluster-randomised trial.

The model is the one the trial is analysed with, on cluster-period means (for counts, the log
rate of a cluster's month):

.. math::

    y_{ij} = \\mu + \\beta_j + \\theta X_{ij} + a_i + e_{ij}, \\qquad
    a_i \\sim N(0, \\tau^2), \\quad e_{ij} \\sim N(0, \\sigma^2_{ij})

with period fixed effects :math:`\\beta_j`, the treatment indicator :math:`X_{ij}` of the
schedule, a cluster random intercept and a cluster-period residual. With every
:math:`\\sigma^2_{ij} = \\sigma^2` the variance of the GLS estimate of :math:`\\theta` is the
closed form of Hussey & Hughes (2007, eq. 8), :func:`hussey_hughes_variance`; otherwise (clusters
of different sizes, months of different volume) it is :math:`[(Z'V^{-1}Z)^{-1}]_{\\theta\\theta}`
summed cluster by cluster, :func:`gls_variance`.

Cluster autocorrelation (Hooper et al. 2016; Girling & Hemming 2016) splits the cluster effect
into a part shared by all periods (:math:`\\tau^2`) and a cluster-period part
(:math:`\\gamma^2`): CAC :math:`= \\tau^2 / (\\tau^2 + \\gamma^2)`. An analysis of cluster-period
means cannot tell the cluster-period part from the residual, so it enters as
:math:`\\sigma^2_{ij} = \\gamma^2 + s^2_{ij}` (:func:`components`), and the closed form still
applies. For a count with mean :math:`m_{ij}` the sampling variance of its log is
:math:`s^2_{ij} \\approx 1/m_{ij}` (delta method).

Power is that of the two-sided Wald (z) test, both tails, as swCRTdesign's ``swPwr`` writes it:
:math:`\\Phi(|\\theta|/se - z_{1-\\alpha/2}) + \\Phi(-|\\theta|/se - z_{1-\\alpha/2})`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from evaltk.errors import PowerError


def schedule(
    clusters: int, steps: int, *, periods_per_step: int = 1, baseline: int = 1
) -> np.ndarray:
    """The standard stepped-wedge schedule, clusters × periods of 0/1.

    ``baseline`` periods with every cluster in control, then ``steps`` steps of
    ``periods_per_step`` periods; at each step the next group of clusters starts (and stays
    treated). Clusters are spread over the steps as evenly as possible, the earlier steps taking
    the remainder. The order of clusters is the randomised one: row ``i`` is the ``i``-th
    cluster to start.
    """
    if steps < 1 or clusters < steps:
        raise PowerError(
            f"{clusters} clusters over {steps} steps: a stepped wedge needs at least one step "
            "and at least one cluster per step"
        )
    if periods_per_step < 1 or baseline < 1:
        raise PowerError("periods_per_step and baseline periods must each be at least 1")
    per_step = np.full(steps, clusters // steps)
    per_step[: clusters % steps] += 1
    n_periods = baseline + steps * periods_per_step
    x = np.zeros((clusters, n_periods))
    row = 0
    for step, count in enumerate(per_step):
        x[row : row + count, baseline + step * periods_per_step :] = 1.0
        row += count
    return x


def hussey_hughes_variance(x: np.ndarray, sigma2: float, tau2: float) -> float:
    """Var(theta-hat) by Hussey & Hughes (2007), eq. 8: equal residual variance everywhere.

    ``sigma2`` is the variance of a cluster-period mean's residual (an individual variance
    divided by the cluster-period size), ``tau2`` that of the cluster intercept.
    """
    n_clusters, n_periods = x.shape
    u = x.sum()
    w = float(np.sum(x.sum(axis=0) ** 2))  # squared period (column) totals
    v = float(np.sum(x.sum(axis=1) ** 2))  # squared cluster (row) totals
    numerator = n_clusters * sigma2 * (sigma2 + n_periods * tau2)
    denominator = (n_clusters * u - w) * sigma2 + (
        u**2 + n_clusters * n_periods * u - n_periods * w - n_clusters * v
    ) * tau2
    if denominator <= 0:
        raise PowerError("the schedule does not identify the treatment effect apart from time")
    return float(numerator / denominator)


def gls_variance(x: np.ndarray, sigma2: np.ndarray | float, tau2: float) -> float:
    """Var(theta-hat) of the GLS fit with period effects, any residual variance per cell.

    ``sigma2`` is a scalar or clusters × periods array; each cluster's covariance is
    ``diag(sigma2_i) + tau2 J``, inverted by Sherman-Morrison.
    """
    n_periods = x.shape[1]
    s2 = np.broadcast_to(np.asarray(sigma2, float), x.shape)
    if np.any(s2 <= 0):
        raise PowerError("every cluster-period needs a residual variance above 0")
    d_inv = 1.0 / s2  # (I, T)
    # V_i^{-1} = D^{-1} - c_i d d',  d = D^{-1} 1,  c_i = tau2 / (1 + tau2 sum d)
    c = tau2 / (1.0 + tau2 * d_inv.sum(axis=1))
    k = n_periods + 1
    info = np.zeros((k, k))
    # Z_i = [I_T, x_i]; Z' V^{-1} Z assembled blockwise, summed over clusters.
    info[:n_periods, :n_periods] = np.diag(d_inv.sum(axis=0)) - np.einsum(
        "i,it,is->ts", c, d_inv, d_inv
    )
    dx = d_inv * x
    cross = dx.sum(axis=0) - np.einsum("i,it,i->t", c, d_inv, dx.sum(axis=1))
    info[:n_periods, -1] = info[-1, :n_periods] = cross
    info[-1, -1] = float(dx.sum() - np.sum(c * dx.sum(axis=1) ** 2))
    try:
        return float(np.linalg.inv(info)[-1, -1])
    except np.linalg.LinAlgError:
        raise PowerError(
            "the schedule does not identify the treatment effect apart from time"
        ) from None


def z_power(effect: float | np.ndarray, variance: float, alpha: float) -> np.ndarray:
    """Two-sided power of the Wald test of ``effect`` with standard error ``sqrt(variance)``."""
    z = stats.norm.ppf(1 - alpha / 2)
    shift = np.abs(np.asarray(effect, float)) / np.sqrt(variance)
    return stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z)


def detectable(variance: float, alpha: float, power: float) -> float:
    """The smallest |theta| detected with ``power`` (the far tail, below alpha/2, ignored)."""
    return float((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * np.sqrt(variance))


@dataclass(frozen=True)
class Components:
    """Variance components of a cluster-period log rate.

    Attributes
    ----------
    tau2 : float
        Between-cluster variance shared by every period.
    gamma2 : float
        Cluster-period variance beyond Poisson noise (``tau2 / (tau2 + gamma2)`` is the CAC).
    """

    tau2: float
    gamma2: float

    @property
    def cac(self) -> float:
        total = self.tau2 + self.gamma2
        return 1.0 if total == 0 else self.tau2 / total

    def icc(self, mean_count: float) -> float:
        """The share of a cluster-period log rate's variance that lies between clusters (its
        cluster and cluster-period effects) when the period's expected count is
        ``mean_count``: swCRTdesign's ICC with the Poisson variance ``1/m`` as the within
        part."""
        between = self.tau2 + self.gamma2
        return between / (between + 1.0 / mean_count)


def components(icc: float, cac: float, mean_count: float) -> Components:
    """The components with this ICC and CAC at a cluster-period expected count ``mean_count``
    (the inverse of :meth:`Components.icc` and :attr:`Components.cac`)."""
    if not 0 <= icc < 1:
        raise PowerError(f"icc {icc:g}: give a correlation from 0 up to (not including) 1")
    if not 0 <= cac <= 1:
        raise PowerError(f"cac {cac:g}: give a cluster autocorrelation between 0 and 1")
    if mean_count <= 0:
        raise PowerError("the expected count per cluster-period must be above 0")
    between = icc / (1 - icc) / mean_count
    return Components(tau2=cac * between, gamma2=(1 - cac) * between)


def log_rate_variance(expected: np.ndarray, gamma2: float) -> np.ndarray:
    """The residual variance of each cluster-period log rate: ``gamma2 + 1 / m_ij``."""
    expected = np.asarray(expected, float)
    if np.any(expected <= 0):
        raise PowerError("every cluster-period needs an expected count above 0")
    return gamma2 + 1.0 / expected
