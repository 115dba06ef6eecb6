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


class _Programmes:
    """The FLCI's cone programmes for one covariance and target, compiled once.

    The bias is ``M`` times ``||B'g||_1``, so the weights with the smallest bias under a
    standard-error bound ``h`` do not depend on ``M``: the programme takes ``h`` as a cvxpy
    parameter and is reused for every ``M`` (the breakdown search asks for many).
    """

    def __init__(self, sigma: np.ndarray, n_pre: int, n_post: int, l_vec: np.ndarray) -> None:
        self.sigma, self.l_vec = sigma, l_vec
        u, self.B = trend_and_bends(n_pre, n_post)
        root = _square_root(sigma)
        self.w = cp.Variable(n_pre)
        g = cp.hstack([self.w, l_vec])
        self.h = cp.Parameter(nonneg=True)
        trend = [g @ u == 0]
        roughness = cp.norm1(self.B.T @ g)
        spread = cp.norm(root.T @ g)
        self.least_variance = cp.Problem(cp.Minimize(spread), trend)
        self.least_bias = cp.Problem(cp.Minimize(roughness + 1e-9 * spread), trend)
        self.bounded = cp.Problem(cp.Minimize(roughness), [*trend, spread <= self.h])
        self.cache: dict[float, np.ndarray | None] = {}

    def solve(self, problem: cp.Problem) -> np.ndarray | None:
        problem.solve(solver=cp.CLARABEL)
        if problem.status not in ("optimal", "optimal_inaccurate") or self.w.value is None:
            return None
        return np.asarray(self.w.value, dtype=float)

    def within(self, h: float) -> np.ndarray | None:
        if h not in self.cache:
            self.h.value = h
            self.cache[h] = self.solve(self.bounded)
        return self.cache[h]

    def parts(self, pre: np.ndarray) -> tuple[float, float]:
        """Standard error and roughness ``||B'g||_1`` of the weights."""
        full = np.r_[pre, self.l_vec]
        return float(np.sqrt(full @ self.sigma @ full)), float(np.abs(self.B.T @ full).sum())


def sd_flci(
    beta: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    n_post: int,
    l_vec: np.ndarray,
    m: float,
    level: float,
    *,
    programmes: _Programmes | None = None,
) -> FLCI:
    """The optimal FLCI for ``l @ tau_post`` under :math:`\\Delta^{SD}(M)` at ``level``
    (``programmes``: those of an earlier call with the same covariance and target)."""
    beta, sigma, l_vec = (np.asarray(a, dtype=float) for a in (beta, sigma, l_vec))
    p = n_pre + n_post
    if n_pre < 1 or n_post < 1 or beta.shape != (p,) or sigma.shape != (p, p):
        raise EstimationError(
            f"expected {p} coefficients and a {p} x {p} covariance, with pre and post periods"
        )
    lp = programmes if programmes is not None else flci_programmes(sigma, n_pre, n_post, l_vec)

    def half_length(pre: np.ndarray) -> float:
        se, rough = lp.parts(pre)
        return se * folded_normal_quantile(level, m * rough / se)

    w_min_var = lp.solve(lp.least_variance)
    if w_min_var is None:
        raise EstimationError("the smoothness bounds' variance programme could not be solved")
    candidates = [w_min_var]
    if m > 0:
        w_min_bias = lp.solve(lp.least_bias)
        if w_min_bias is not None:
            candidates.append(w_min_bias)
            h_low, h_high = lp.parts(w_min_var)[0], lp.parts(w_min_bias)[0]
            if h_high > h_low * (1 + 1e-9):

                def chi(h: float) -> float:
                    pre = lp.within(h)
                    return np.inf if pre is None else half_length(pre)

                found = optimize.minimize_scalar(
                    chi, bounds=(h_low, h_high), method="bounded", options={"xatol": 1e-6 * h_high}
                )
                best = lp.within(float(found.x))
                if best is not None:
                    candidates.append(best)
    pre = min(candidates, key=half_length)
    se, rough = lp.parts(pre)
    full = np.r_[pre, l_vec]
    return FLCI(float(full @ beta), half_length(pre), pre, se, m * rough)


def flci_programmes(sigma: np.ndarray, n_pre: int, n_post: int, l_vec: np.ndarray) -> _Programmes:
    """Compiled programmes to pass to :func:`sd_flci` for many ``M`` with one covariance."""
    return _Programmes(
        np.asarray(sigma, dtype=float), n_pre, n_post, np.asarray(l_vec, dtype=float)
    )


def _square_root(sigma: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((sigma + sigma.T) / 2)
    return np.asarray(vectors * np.sqrt(np.clip(values, 0.0, None)))
