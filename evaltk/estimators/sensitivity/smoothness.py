r"""Rambachan & Roth's (2023) smoothness restriction :math:`\Delta^{SD}(M)` and its optimal
fixed-length confidence interval (FLCI; Armstrong & Kolesár 2018, as R HonestDiD computes for
:math:`\Delta^{SD}`).

:math:`\Delta^{SD}(M)` bounds every second difference of the bias by :math:`M`, through the
reference period (fixed at 0): a linear trend in the bias is allowed whatever its slope,
and :math:`M` bounds how far the trend may bend in one period.

The interval is :math:`v'\hat\beta \pm \chi` for the affine estimator with post-start weights
:math:`l` and pre-start weights :math:`w` chosen to make :math:`\chi` smallest, where
:math:`\chi = s \cdot cv_\alpha(b / s)`, :math:`s` the estimator's standard error,
:math:`b` its worst-case bias over :math:`\Delta^{SD}(M)` and :math:`cv_\alpha(t)` the
:math:`1-\alpha` quantile of :math:`|N(t, 1)|`. Writing any :math:`\delta \in
\Delta^{SD}(M)` as a slope :math:`c` times :math:`u` (:math:`u_k` = periods from the
reference) plus :math:`Bs` with second differences :math:`s \in [-M, M]^{K}`, the bias of
weights :math:`g = (w, l)` is bounded only when :math:`g'u = 0` (the estimator extrapolates
linear trends exactly) and is then :math:`b = M\lVert B'g\rVert_1`. For a standard error
bound :math:`h` the smallest bias is a second-order cone programme (cvxpy); :math:`\chi` is
minimised over :math:`h` by a bounded scalar search.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
from scipy import optimize, stats

from evaltk.errors import EstimationError


@dataclass(frozen=True)
class FLCI:
    """The optimal FLCI: ``estimate ± half_length`` with the pre-start weights it uses."""

    estimate: float
    half_length: float
    pre_weights: np.ndarray
    std_error: float
    max_bias: float

    @property
    def low(self) -> float:
        return self.estimate - self.half_length

    @property
    def high(self) -> float:
        return self.estimate + self.half_length

    def excludes(self, value: float) -> bool:
        return not (self.low <= value <= self.high)


def folded_normal_quantile(level: float, shift: float) -> float:
    """The ``level`` quantile of ``|N(shift, 1)|``."""
    shift = abs(shift)
    if shift < 1e-10:
        return float(stats.norm.ppf((1 + level) / 2))
    return float(np.sqrt(stats.ncx2.ppf(level, df=1, nc=shift**2)))


def trend_and_bends(n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
    """``u`` (periods from the reference, reference left out) and ``B`` (``p x (p - 1)``) with
    every bias path through 0 at the reference equal to ``c u + B s`` for its slope into the
    first post period ``c`` and its second differences ``s``."""
    p = n_pre + n_post
    ref = n_pre
    u = np.arange(p + 1, dtype=float) - ref
    B = np.zeros((p + 1, p - 1))
    for j in range(p - 1):
        s = np.zeros(p - 1)
        s[j] = 1.0
        B[:, j] = _path_from_bends(s, ref, p + 1)
    return np.delete(u, ref), np.delete(B, ref, axis=0)


def _path_from_bends(s: np.ndarray, ref: int, n: int) -> np.ndarray:
    """The path with ``delta[ref] = delta[ref + 1] = 0`` and second differences ``s`` at the
    interior points ``1 .. n - 2``."""
    delta = np.zeros(n)
    for k in range(ref + 2, n):
        delta[k] = 2 * delta[k - 1] - delta[k - 2] + s[k - 2]
    for k in range(ref - 1, -1, -1):
        delta[k] = 2 * delta[k + 1] - delta[k + 2] + s[k]
    return delta


def sd_flci(
    beta: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    n_post: int,
    l_vec: np.ndarray,
    m: float,
    level: float,
) -> FLCI:
    """The optimal FLCI for ``l @ tau_post`` under :math:`\\Delta^{SD}(M)` at ``level``."""
    beta, sigma, l_vec = (np.asarray(a, dtype=float) for a in (beta, sigma, l_vec))
    p = n_pre + n_post
    if n_pre < 1 or n_post < 1 or beta.shape != (p,) or sigma.shape != (p, p):
        raise EstimationError(
            f"expected {p} coefficients and a {p} x {p} covariance, with pre and post periods"
        )
    u, B = trend_and_bends(n_pre, n_post)
    root = _square_root(sigma)
    w = cp.Variable(n_pre)
    g = cp.hstack([w, l_vec])
    bias = m * cp.norm1(B.T @ g)
    trend = [g @ u == 0]

    def weights(objective: cp.Expression, extra: list[cp.Constraint]) -> np.ndarray | None:
        problem = cp.Problem(cp.Minimize(objective), trend + extra)
        problem.solve(solver=cp.CLARABEL)
        if problem.status not in ("optimal", "optimal_inaccurate") or w.value is None:
            return None
        return np.asarray(w.value, dtype=float)

    def parts(pre: np.ndarray) -> tuple[float, float]:
        full = np.r_[pre, l_vec]
        return float(np.sqrt(full @ sigma @ full)), m * float(np.abs(B.T @ full).sum())

    def half_length(pre: np.ndarray) -> float:
        se, b = parts(pre)
        return se * folded_normal_quantile(level, b / se)

    w_min_var = weights(cp.sum_squares(root.T @ g), [])
    if w_min_var is None:
        raise EstimationError("the smoothness bounds' variance programme could not be solved")
    candidates = [w_min_var]
    if m > 0:
        w_min_bias = weights(bias + 1e-9 * cp.sum_squares(root.T @ g), [])
        if w_min_bias is not None:
            candidates.append(w_min_bias)
            h_low, h_high = parts(w_min_var)[0], parts(w_min_bias)[0]
            if h_high > h_low * (1 + 1e-9):
                best: dict[float, np.ndarray] = {}

                def chi(h: float) -> float:
                    pre = weights(bias, [cp.norm(root.T @ g) <= h])
                    if pre is None:
                        return np.inf
                    best[h] = pre
                    return half_length(pre)

                optimize.minimize_scalar(
                    chi, bounds=(h_low, h_high), method="bounded", options={"xatol": 1e-6 * h_high}
                )
                candidates += list(best.values())
    pre = min(candidates, key=half_length)
    se, b = parts(pre)
    full = np.r_[pre, l_vec]
    return FLCI(float(full @ beta), half_length(pre), pre, se, b)


def _square_root(sigma: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((sigma + sigma.T) / 2)
    return np.asarray(vectors * np.sqrt(np.clip(values, 0.0, None)))
