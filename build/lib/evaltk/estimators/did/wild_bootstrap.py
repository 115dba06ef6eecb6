r"""Restricted wild cluster bootstrap (WCR) for linear models, by the "fast and wild" algorithm.

Roodman, MacKinnon, Nielsen & Webb (2019), "Fast and wild: bootstrap inference in Stata using
boottest", *Stata Journal* 19(1). The bootstrap never forms a bootstrap sample: every draw's
numerator and cluster-robust denominator are linear maps of the ``G`` weights, precomputed from
cluster-level sums, so a draw costs :math:`O(G^2)` whatever the number of observations, and
all draws are one matrix product.

This module only bootstraps; the point estimates and the reported cluster-robust standard errors
come from linearmodels / statsmodels. ``tests/estimators/did/test_wild_bootstrap.py`` checks it
draw by draw against statsmodels' CR1 covariance and against the ``wildboottest`` package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse

from evaltk.errors import EstimationError

WEBB_POINTS = np.array(
    [-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)], dtype=float
)
RADEMACHER_POINTS = np.array([-1.0, 1.0])
# |t*| within this relative distance of |t| counts as "at least as extreme": the draw with all
# weights one reproduces the sample exactly and must count, whatever the rounding.
TIE_TOLERANCE = 1e-9
# Columns of weights processed at once by the joint (Wald) test, to bound memory.
CHUNK = 4096


@dataclass(frozen=True)
class BootstrapWeights:
    """Wild bootstrap weights, one row per cluster and one column per draw.

    Attributes
    ----------
    values : numpy.ndarray
        ``(G, B)`` array.
    kind : str
        ``"rademacher"`` (+-1) or ``"webb"`` (+-sqrt(1/2), +-1, +-sqrt(3/2), each 1/6).
    enumerated : bool
        True when the columns are every one of the ``2**G`` or ``6**G`` patterns, so the
        p-value is exact and does not depend on the seed.
    seed : int or None
        Seed of the random draws (None when enumerated).
    """

    values: np.ndarray
    kind: str
    enumerated: bool
    seed: int | None

    @property
    def draws(self) -> int:
        return int(self.values.shape[1])


def resolve_weights(n_clusters: int, draws: int, kind: str = "auto") -> str:
    """The weight distribution ``auto`` stands for: Rademacher when ``2**G >= draws``, else Webb.

    With ``G`` clusters Rademacher weights give only ``2**G`` distinct bootstrap samples (half of
    them mirror images with the same ``|t|``); when that is fewer than the draws asked for, the
    bootstrap distribution is too coarse and Webb's (2014) six-point distribution is used.
    """
    if kind != "auto":
        return kind
    return "rademacher" if 2.0**n_clusters >= draws else "webb"


def draw_weights(
    n_clusters: int, draws: int, kind: str = "auto", seed: int | None = None
) -> BootstrapWeights:
    """Bootstrap weights; every pattern when there are no more patterns than ``draws``.

    Parameters
    ----------
    n_clusters : int
        Number of clusters ``G``.
    draws : int
        Requested number of draws ``B``.
    kind : {"auto", "rademacher", "webb"}
        See :func:`resolve_weights`.
    seed : int, optional
        Seed of ``numpy.random.default_rng`` for random draws.

    Returns
    -------
    BootstrapWeights
    """
    kind = resolve_weights(n_clusters, draws, kind)
    points = {"rademacher": RADEMACHER_POINTS, "webb": WEBB_POINTS}.get(kind)
    if points is None:
        raise EstimationError(f"bootstrap weights {kind!r} unknown; use rademacher or webb.")
    base = len(points)
    if float(base) ** n_clusters <= draws:
        codes = np.arange(base**n_clusters)[None, :] // base ** np.arange(n_clusters)[:, None]
        return BootstrapWeights(points[codes % base], kind, True, None)
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, base, size=(n_clusters, draws))
    return BootstrapWeights(points[codes], kind, False, seed)


@dataclass(frozen=True)
class BootstrapTest:
    """A bootstrap (or randomisation) test of one hypothesis, with its inverted interval.

    Attributes
    ----------
    statistic : float
        Observed statistic: cluster-robust t (one restriction), Wald (several) or the robust
        score statistic (score bootstrap).
    p_value : float
        Share of bootstrap statistics at least as extreme (symmetric, two-sided).
    ci_low, ci_high : float
        Interval by test inversion on the coefficient scale (NaN when not computed, infinite
        when the test cannot reject any value at the level asked for).
    method : str
        ``"wcr"`` (restricted wild cluster bootstrap) or ``"score"`` (score bootstrap).
    weights : str
        ``"rademacher"`` or ``"webb"``.
    draws : int
        Number of bootstrap samples used.
    enumerated : bool
        Whether all weight patterns were enumerated (exact p-value).
    seed : int or None
        Seed of the draws.
    """

    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    method: str
    weights: str
    draws: int
    enumerated: bool
    seed: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "statistic": _finite(self.statistic),
            "p_value": _finite(self.p_value),
            "ci_low": _finite(self.ci_low),
            "ci_high": _finite(self.ci_high),
            "method": self.method,
            "weights": self.weights,
            "draws": self.draws,
            "enumerated": self.enumerated,
            "seed": self.seed,
        }


class ClusterSums:
    """Sums of rows within clusters, as one sparse product (clusters coded 0..G-1)."""

    def __init__(self, codes: np.ndarray) -> None:
        codes = np.asarray(codes)
        if codes.ndim != 1 or codes.size == 0:
            raise EstimationError("cluster codes must be a non-empty 1-d array.")
        _, codes = np.unique(codes, return_inverse=True)
        self.codes = codes
        self.n_clusters = int(codes.max()) + 1
        n = codes.size
        self._matrix = scipy.sparse.csr_matrix(
            (np.ones(n), (codes, np.arange(n))), shape=(self.n_clusters, n)
        )

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """``(G, ...)`` sums of ``values`` (``(N,)`` or ``(N, k)``) within each cluster."""
        return np.asarray(self._matrix @ values)


class LinearWCR:
    r"""Restricted wild cluster bootstrap for ``y = X b + u`` with CR1 t and Wald statistics.

    Parameters
    ----------
    y : numpy.ndarray
        ``(N,)`` response.
    X : numpy.ndarray
        ``(N, k)`` regressors of full column rank. Fixed effects nested in the clusters may be
        partialled out beforehand (it leaves every bootstrap statistic unchanged); others must
        be columns of ``X``.
    clusters : numpy.ndarray
        ``(N,)`` cluster labels (of the CR1 covariance).
    bootclusters : numpy.ndarray, optional
        ``(N,)`` labels of the groups that share a bootstrap weight, nested in ``clusters``
        (default: the clusters). Finer groups (unit × year) give the subcluster wild bootstrap
        of MacKinnon & Webb (2018), which the covariance still clusters by unit.

    Notes
    -----
    With :math:`A = (X'X)^{-1}`, :math:`\hat b = A X'y`, and one restriction :math:`R'b = r`,
    the restricted estimate is :math:`\tilde b = \hat b - a (R'\hat b - r) / (R'a)` with
    :math:`a = AR`, and :math:`\tilde u = y - X \tilde b`. The bootstrap sample of draw
    :math:`v` (one weight per cluster) is :math:`y^* = X\tilde b + \tilde u \circ v`, so

    .. math::

        R'\hat b^* - r = \sum_g c_g v_g, \qquad c_g = a' X_g' \tilde u_g,

    and the CR1 variance of :math:`R'\hat b^*` is :math:`m \sum_g s_g^2` with
    :math:`s = (\mathrm{diag}(c) - J) v`, :math:`J_{gh} = a' X_g' X_g A X_h' \tilde u_h`
    (Roodman et al. 2019, section 3; with bootstrap clusters :math:`h` nested in clusters,
    :math:`c` and :math:`v` run over :math:`h` and :math:`s_g` sums the :math:`h \subset g`).
    Both are affine in :math:`r`
    (:math:`\tilde u = \tilde u_0 - r X\delta`, :math:`\delta = a / R'a`), so for each draw
    :math:`t^*(r) = (n_0 - r n_1) / \sqrt{m (q_0 - 2 r q_1 + r^2 q_2)}` and a test at any
    :math:`r` costs :math:`O(B)`: the interval is found by bisection on the p-value. The
    small-sample factor :math:`m = \frac{G}{G-1}\frac{N-1}{N-k}` (Stata's CR1) cancels from
    the p-value. The p-value is symmetric: the share of draws with
    :math:`|t^*| \ge |t|` (ties counted, so the draw :math:`v = 1`, which reproduces the
    sample, always counts).
    """

    def __init__(
        self,
        y: np.ndarray,
        X: np.ndarray,
        clusters: np.ndarray,
        bootclusters: np.ndarray | None = None,
    ) -> None:
        y = np.asarray(y, dtype=float)
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        if y.shape[0] != X.shape[0] or len(clusters) != y.shape[0]:
            raise EstimationError("y, X and clusters must have the same number of rows.")
        self.y, self.X = y, X
        self.n_obs, self.k = X.shape
        self.sums = ClusterSums(np.asarray(clusters))
        self.boot_sums, self.nesting = _bootclusters(self.sums, bootclusters)
        self.n_clusters = self.sums.n_clusters
        self.n_boot = self.boot_sums.n_clusters
        if self.n_clusters < 2:
            raise EstimationError("the wild cluster bootstrap needs at least 2 clusters.")
        xtx = X.T @ X
        try:
            if np.linalg.matrix_rank(xtx) < self.k:
                raise np.linalg.LinAlgError
            factor = scipy.linalg.cho_factor(xtx)
        except np.linalg.LinAlgError:
            raise EstimationError(
                "the regressors are collinear (X'X is singular): drop a redundant term."
            ) from None
        self.A = scipy.linalg.cho_solve(factor, np.eye(self.k))
        self.beta = self.A @ (X.T @ y)
        self.resid = y - X @ self.beta
        g, n, k = self.n_clusters, self.n_obs, self.k
        self.small_sample = g / (g - 1) * (n - 1) / max(n - k, 1)

    # -- one restriction ----------------------------------------------------------------------
    def t_test(
        self,
        R: np.ndarray,
        weights: BootstrapWeights,
        r: float = 0.0,
        level: float | None = None,
    ) -> BootstrapTest:
        """Test ``R'b = r``; with ``level``, also invert the test into an interval.

        Parameters
        ----------
        R : numpy.ndarray
            ``(k,)`` restriction vector (e.g. a unit vector picking one coefficient).
        weights : BootstrapWeights
            From :func:`draw_weights`, one row per bootstrap cluster.
        r : float
            Hypothesised value.
        level : float, optional
            Confidence level of the interval; None skips it.

        Returns
        -------
        BootstrapTest
        """
        curve = self._curve(np.asarray(R, dtype=float), weights)
        p = curve.p_value(r)
        low = high = float("nan")
        if level is not None:
            low, high = invert(curve.p_value, curve.estimate, curve.se, 1.0 - level)
        return BootstrapTest(
            statistic=float(curve.t_obs(r)),
            p_value=p,
            ci_low=low,
            ci_high=high,
            method="wcr",
            weights=weights.kind,
            draws=weights.draws,
            enumerated=weights.enumerated,
            seed=weights.seed,
        )

    def _curve(self, R: np.ndarray, weights: BootstrapWeights) -> _TCurve:
        if R.shape != (self.k,):
            raise EstimationError(f"restriction vector must have {self.k} entries.")
        self._check_weights(weights)
        X, A, sums, boot, E = self.X, self.A, self.sums, self.boot_sums, self.nesting
        a = A @ R
        ra = float(R @ a)
        delta = a / ra
        estimate = float(R @ self.beta)
        x_delta = X @ delta
        u0 = self.resid + x_delta * estimate
        w = X @ a
        c0, c1 = boot(w * u0), boot(w * x_delta)
        dA = sums(X * w[:, None]) @ A  # rows d_g' A, d_g = X_g' X_g a
        K0 = E * c0[None, :] - dA @ boot(X * u0[:, None]).T
        K1 = E * c1[None, :] - dA @ boot(X * x_delta[:, None]).T
        V = weights.values
        P0, P1 = K0 @ V, K1 @ V
        m = self.small_sample
        se = float(np.sqrt(m * np.sum(sums(w * self.resid) ** 2)))
        return _TCurve(
            estimate=estimate,
            se=se,
            n0=c0 @ V,
            n1=c1 @ V,
            q0=m * np.einsum("gb,gb->b", P0, P0),
            q1=m * np.einsum("gb,gb->b", P0, P1),
            q2=m * np.einsum("gb,gb->b", P1, P1),
        )

    # -- several restrictions ------------------------------------------------------------------
    def wald_test(
        self, R: np.ndarray, weights: BootstrapWeights, r: np.ndarray | None = None
    ) -> BootstrapTest:
        """Joint test of ``R b = r`` (``q`` rows) by the bootstrap Wald statistic.

        The statistic is :math:`W = (R\\hat b - r)' (R V R')^{-1} (R\\hat b - r)` with the CR1
        covariance ``V``; each draw recomputes it with that draw's CR1 covariance, by the same
        cluster-level algebra as :meth:`t_test`. Needs ``q < G`` (the CR1 covariance of ``q``
        combinations has rank at most ``G - 1``).
        """
        R = np.atleast_2d(np.asarray(R, dtype=float))
        q = R.shape[0]
        if R.shape[1] != self.k:
            raise EstimationError(f"restriction matrix must have {self.k} columns.")
        if q >= self.n_clusters:
            raise EstimationError(
                f"a joint test of {q} restrictions needs more than {q} clusters (have "
                f"{self.n_clusters}): the cluster-robust covariance has rank at most G - 1. "
                "Test fewer leads (smaller leads or wider bins)."
            )
        self._check_weights(weights)
        r = np.zeros(q) if r is None else np.asarray(r, dtype=float)
        X, A, sums, boot, E = self.X, self.A, self.sums, self.boot_sums, self.nesting
        a = A @ R.T  # (k, q)
        gap = R @ self.beta - r
        beta_r = self.beta - a @ np.linalg.solve(R @ a, gap)
        u_r = self.y - X @ beta_r
        w = X @ a  # (N, q)
        C = boot(w * u_r[:, None])  # (H, q)
        AS = A @ boot(X * u_r[:, None]).T  # (k, H)
        J = np.stack([sums(X * w[:, [j]]) @ AS for j in range(q)])  # (q, G, H)
        m = self.small_sample
        obs_scores = sums(w * self.resid[:, None])  # (G, q)
        stat = float(gap @ np.linalg.solve(m * obs_scores.T @ obs_scores, gap))
        V = weights.values
        extreme = 0
        for start in range(0, V.shape[1], CHUNK):
            v = V[:, start : start + CHUNK]
            numer = C.T @ v  # (q, b)
            s = np.einsum("gh,hj,hb->gjb", E, C, v) - np.einsum("jgh,hb->gjb", J, v)
            cov = m * np.einsum("gjb,gib->bji", s, s)
            with np.errstate(all="ignore"):
                solved = np.linalg.solve(cov, numer.T[:, :, None])[:, :, 0]
            boot_stat = np.einsum("bj,bj->b", numer.T, solved)
            extreme += int(np.sum(~(boot_stat < stat * (1 - TIE_TOLERANCE))))
        return BootstrapTest(
            statistic=stat,
            p_value=extreme / V.shape[1],
            ci_low=float("nan"),
            ci_high=float("nan"),
            method="wcr",
            weights=weights.kind,
            draws=weights.draws,
            enumerated=weights.enumerated,
            seed=weights.seed,
        )

    def _check_weights(self, weights: BootstrapWeights) -> None:
        check_weights(weights, self.n_boot)


def check_weights(weights: BootstrapWeights, n_boot: int) -> None:
    """Raise unless there is one row of weights per bootstrap cluster."""
    if weights.values.shape[0] != n_boot:
        raise EstimationError(
            f"bootstrap weights have {weights.values.shape[0]} rows for {n_boot} bootstrap "
            "clusters."
        )


def _bootclusters(
    sums: ClusterSums, bootclusters: np.ndarray | None
) -> tuple[ClusterSums, np.ndarray]:
    """Sums by bootstrap cluster and the ``(G, H)`` 0/1 matrix nesting them in clusters."""
    boot = sums if bootclusters is None else ClusterSums(np.asarray(bootclusters))
    if boot.codes.size != sums.codes.size:
        raise EstimationError("bootstrap clusters must label the same rows as the clusters.")
    nesting = np.zeros((sums.n_clusters, boot.n_clusters))
    nesting[sums.codes, boot.codes] = 1.0
    if not np.all(nesting.sum(axis=0) == 1):
        raise EstimationError(
            "bootstrap clusters must be nested in the clusters (each inside one unit)."
        )
    return boot, nesting


@dataclass(frozen=True)
class _TCurve:
    """Per-draw pieces of ``t*(r)`` for every hypothesised value ``r`` (see LinearWCR Notes)."""

    estimate: float
    se: float
    n0: np.ndarray
    n1: np.ndarray
    q0: np.ndarray
    q1: np.ndarray
    q2: np.ndarray

    def t_obs(self, r: float) -> float:
        return (self.estimate - r) / self.se if self.se > 0 else float("nan")

    def p_value(self, r: float) -> float:
        t = self.t_obs(r)
        numer = (self.n0 - r * self.n1) ** 2
        denom = self.q0 - 2.0 * r * self.q1 + r * r * self.q2
        # |t*| >= |t|  <=>  numer >= t^2 denom, which needs no square root of a zero variance.
        return float(np.mean(numer >= t * t * denom * (1 - TIE_TOLERANCE)))


def invert(
    p_value: Callable[[float], float],
    estimate: float,
    se: float,
    alpha: float,
    *,
    max_doublings: int = 30,
    rel_tol: float = 1e-7,
    max_distance: float = np.inf,
) -> tuple[float, float]:
    """The interval ``{r : p(r) > alpha}`` around ``estimate``, by bracketing and bisection.

    Parameters
    ----------
    p_value : callable
        ``r -> p`` for the test of ``coefficient = r``.
    estimate, se : float
        Point estimate (where ``p`` is largest) and a scale for the first steps.
    alpha : float
        ``1 - level``.
    max_distance : float
        Search no further than this from ``estimate`` (e.g. 10 on a log scale, where a model
        far out cannot be fitted).

    Returns
    -------
    (float, float)
        Lower and upper bounds, ``-inf`` / ``inf`` when no value within ``2**30`` standard
        errors (or ``max_distance``) is rejected: the test has no power to exclude it, as
        happens with very few clusters.
    """
    if not (np.isfinite(estimate) and np.isfinite(se) and se > 0):
        return float("nan"), float("nan")
    bounds = []
    for sign in (-1.0, 1.0):
        inside, step = estimate, 2.0 * se
        outside = None
        for _ in range(max_doublings):
            if step > max_distance:
                break
            candidate = estimate + sign * step
            if p_value(candidate) <= alpha:
                outside = candidate
                break
            inside, step = candidate, 2.0 * step
        if outside is None:
            bounds.append(sign * np.inf)
            continue
        tol = rel_tol * se
        while abs(outside - inside) > tol:
            mid = 0.5 * (inside + outside)
            if p_value(mid) > alpha:
                inside = mid
            else:
                outside = mid
        bounds.append(0.5 * (inside + outside))
    return float(bounds[0]), float(bounds[1])


def _finite(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
