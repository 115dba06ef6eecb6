r"""Score (wild) cluster bootstrap for Poisson GLMs (Kline & Santos 2012).

Re-fitting a Poisson model with hundreds of fixed effects for every one of 9,999 bootstrap
samples would take minutes; the score bootstrap perturbs the cluster sums of the *effective
scores* at the restricted estimate instead, so the model is fitted once per hypothesised value
(Kline & Santos 2012, "A score based approach to wild bootstrap inference", *Journal of
Econometric Methods* 1(1); it is what ``boottest`` does after maximum-likelihood estimation,
Roodman et al. 2019, section 5).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM

from evaltk.errors import EstimationError
from evaltk.estimators.did.wild_bootstrap import (
    CHUNK,
    TIE_TOLERANCE,
    BootstrapTest,
    BootstrapWeights,
    ClusterSums,
    _bootclusters,
    check_weights,
    invert,
)

#: The interval search stops this far from the estimate on the log scale (a ratio of e^8, about
#: 3,000); a bound not found by then is reported as infinite.
MAX_LOG_DISTANCE = 8.0


class PoissonScoreBootstrap:
    r"""Restricted score bootstrap tests of coefficients of a clustered Poisson GLM.

    Parameters
    ----------
    y : numpy.ndarray
        ``(N,)`` counts.
    X : numpy.ndarray
        ``(N, k)`` full design (tested columns and fixed-effect dummies).
    offset : numpy.ndarray
        ``(N,)`` offset, ``log(exposure)``.
    clusters : numpy.ndarray
        ``(N,)`` cluster labels.
    bootclusters : numpy.ndarray, optional
        Groups nested in the clusters that share a bootstrap weight (default: the clusters).

    Notes
    -----
    To test :math:`\beta_j = r` (columns :math:`D = X_j`, the rest :math:`Z`), the model
    :math:`\log \mu = \text{offset} + r D + Z\theta` is fitted, giving :math:`\tilde\mu`. The
    effective score of cluster :math:`g` is

    .. math::

        \hat s_g = \sum_{i \in g} \tilde D_i (y_i - \tilde\mu_i), \qquad
        \tilde D = D - Z (Z'WZ)^{-1} Z'W D, \quad W = \mathrm{diag}(\tilde\mu),

    the score for :math:`\beta_j` net of its correlation with the nuisance scores (the
    expected and observed information coincide for the canonical log link). The statistic is
    the cluster-robust score (Rao) statistic :math:`t = \sum_g \hat s_g / \sqrt{\sum_g \hat
    s_g^2}`; bootstrap draw :math:`v` gives :math:`t^* = \sum_g v_g \hat s_g / \sqrt{\sum_g
    v_g^2 \hat s_g^2}` (with bootstrap clusters :math:`h` nested in the clusters, the
    weights multiply :math:`\hat s_h` and the denominator sums :math:`h \subset g` within each
    cluster first) and the p-value is the share of :math:`|t^*| \ge |t|`. For several
    columns the statistic is :math:`S'(\sum_g \hat s_g \hat s_g')^{-1}S` with
    :math:`S = \sum_g \hat s_g`. The interval for one coefficient inverts the test over
    :math:`r` (one restricted fit per value tried).
    """

    def __init__(
        self,
        y: np.ndarray,
        X: np.ndarray,
        offset: np.ndarray,
        clusters: np.ndarray,
        bootclusters: np.ndarray | None = None,
    ) -> None:
        self.y = np.asarray(y, dtype=float)
        self.X = np.asarray(X, dtype=float)
        self.offset = np.asarray(offset, dtype=float)
        self.sums = ClusterSums(np.asarray(clusters))
        self.boot_sums, self.nesting = _bootclusters(self.sums, bootclusters)
        self.n_clusters = self.sums.n_clusters
        self._start: dict[tuple[int, ...], np.ndarray] = {}

    def scores(self, columns: Sequence[int], r: np.ndarray | float = 0.0) -> np.ndarray:
        """``(H, q)`` bootstrap-cluster sums of effective scores at the estimate restricted to
        ``r`` (``E @ scores`` sums them by cluster)."""
        cols = list(columns)
        D = self.X[:, cols]
        Z = np.delete(self.X, cols, axis=1)
        offset = self.offset + D @ np.broadcast_to(np.asarray(r, dtype=float), (len(cols),))
        key = tuple(cols)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = GLM(self.y, Z, family=families.Poisson(), offset=offset).fit(
                    start_params=self._start.get(key), maxiter=200
                )
            params = np.asarray(fit.params)
            converged = bool(getattr(fit, "converged", True))
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            params, converged = np.full(Z.shape[1], np.nan), False
        if not (converged and np.all(np.isfinite(params))):
            raise EstimationError(
                "the restricted Poisson fit of the score bootstrap did not converge; use "
                "inference='cluster' or family='linear'."
            )
        self._start[key] = params
        mu = np.exp(Z @ params + offset)
        root = np.sqrt(mu)
        coef, *_ = np.linalg.lstsq(Z * root[:, None], D * root[:, None], rcond=None)
        d_tilde = D - Z @ coef
        return self.boot_sums(d_tilde * (self.y - mu)[:, None])

    def t_test(
        self,
        column: int,
        weights: BootstrapWeights,
        r: float = 0.0,
        level: float | None = None,
        estimate: float | None = None,
        se: float | None = None,
    ) -> BootstrapTest:
        """Test ``beta[column] = r``; with ``level`` (and the unrestricted ``estimate`` and its
        ``se`` to start the search), also the interval by test inversion on the log scale."""
        self._check(weights)
        V, E = weights.values, self.nesting

        def statistic(value: float) -> tuple[float, float]:
            s = self.scores([column], value)[:, 0]
            by_cluster = E @ s
            denom = float(by_cluster @ by_cluster)
            t = float(s.sum() / np.sqrt(denom)) if denom > 0 else float("nan")
            numer = (s @ V) ** 2
            boot_denom = np.sum((E @ (s[:, None] * V)) ** 2, axis=0)
            p = float(np.mean(numer >= t * t * boot_denom * (1 - TIE_TOLERANCE)))
            return t, p

        t, p = statistic(r)
        low = high = float("nan")
        if level is not None and estimate is not None and se is not None:
            cache: dict[float, float] = {}

            def p_value(value: float) -> float:
                if value not in cache:
                    cache[value] = statistic(value)[1]
                return cache[value]

            low, high = invert(
                p_value, estimate, se, 1.0 - level, rel_tol=1e-4, max_distance=MAX_LOG_DISTANCE
            )
        return BootstrapTest(
            t, p, low, high, "score", weights.kind, weights.draws, weights.enumerated, weights.seed
        )

    def wald_test(self, columns: Sequence[int], weights: BootstrapWeights) -> BootstrapTest:
        """Joint test that the coefficients of ``columns`` are zero (score statistic)."""
        self._check(weights)
        q = len(columns)
        if q >= self.n_clusters:
            raise EstimationError(
                f"a joint test of {q} coefficients needs more than {q} clusters (have "
                f"{self.n_clusters}): use fewer leads (or wider bins)."
            )
        S = self.scores(columns, 0.0)
        E = self.nesting
        total = S.sum(axis=0)
        omega = (E @ S).T @ (E @ S)
        if np.linalg.matrix_rank(omega) < q:
            raise EstimationError("the score covariance of the joint test is singular.")
        stat = float(total @ np.linalg.solve(omega, total))
        V = weights.values
        extreme = 0
        for start in range(0, V.shape[1], CHUNK):
            v = V[:, start : start + CHUNK]
            numer = S.T @ v  # (q, b)
            by_cluster = np.einsum("gh,hj,hb->gjb", E, S, v)
            cov = np.einsum("gjb,gib->bji", by_cluster, by_cluster)
            with np.errstate(all="ignore"):
                solved = np.linalg.solve(cov, numer.T[:, :, None])[:, :, 0]
            boot = np.einsum("bj,bj->b", numer.T, solved)
            extreme += int(np.sum(~(boot < stat * (1 - TIE_TOLERANCE))))
        return BootstrapTest(
            stat,
            extreme / V.shape[1],
            float("nan"),
            float("nan"),
            "score",
            weights.kind,
            weights.draws,
            weights.enumerated,
            weights.seed,
        )

    def _check(self, weights: BootstrapWeights) -> None:
        check_weights(weights, self.boot_sums.n_clusters)
