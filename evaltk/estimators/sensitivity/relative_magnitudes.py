r"""Rambachan & Roth's (2023) relative-magnitudes restriction :math:`\Delta^{RM}(\bar M)` and
its robust confidence set by test inversion.

:math:`\delta` is the bias of the event-study coefficients (pre periods oldest first, the
reference period -1 left out and fixed at 0, then the post periods). The restriction bounds
every post-start change of the bias by :math:`\bar M` times the largest pre-start change:

.. math::

    \max_{t \ge 0} |\delta_{t} - \delta_{t-1}| \le \bar M \max_{s < 0} |\delta_{s} - \delta_{s-1}|.

It is a union of polyhedra, one for each pre-start change :math:`s` that is the largest and
each sign of it; the confidence set is the union of the sets of each polyhedron (each covers
at :math:`1-\alpha` when the truth lies in it), each found by inverting the hybrid test of
:mod:`~evaltk.estimators.sensitivity.moment_test` for :math:`\theta = l'\tau_{post}`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import null_space

from evaltk.errors import EstimationError
from evaltk.estimators.sensitivity.moment_test import LF_DRAWS, HybridTest

#: Points of the first, coarse pass over theta; the ends are then found by bisection.
GRID_POINTS = 21
#: Bisection steps at each end of the set (the end is within width / 2**steps).
BISECTION_STEPS = 12


def first_differences(n_pre: int, n_post: int) -> np.ndarray:
    """``D`` with ``D @ delta`` the consecutive changes of the bias through the reference
    period (0): ``n_pre`` pre-start changes then ``n_post`` post-start ones."""
    p = n_pre + n_post
    full = np.zeros((p, p + 1))
    for j in range(p):
        full[j, j], full[j, j + 1] = -1.0, 1.0
    return np.delete(full, n_pre, axis=1)


def rm_polyhedra(n_pre: int, n_post: int, mbar: float) -> list[np.ndarray]:
    """Matrices ``A`` with :math:`\\Delta^{RM}(\\bar M)` the union of ``{A delta <= 0}``: for
    each pre-start change ``s`` and sign, every post-start change is at most ``mbar`` times it.

    The rows saying that change ``s`` is the largest pre-start one involve the pre-start
    coefficients alone; with more than one post-start period they are left out, as R
    HonestDiD's ``postPeriodMomentsOnly`` does: the union is the same set (a post-start bound
    by any pre-start change is one by the largest) and the test has fewer moments to spend
    its size on.
    """
    D = first_differences(n_pre, n_post)
    pre, post = D[:n_pre], D[n_pre:]
    out = []
    for s in range(n_pre):
        for sign in (1.0, -1.0):
            anchor = sign * pre[s]
            rows = [
                r
                for j in range(n_post)
                for r in (post[j] - mbar * anchor, -post[j] - mbar * anchor)
            ]
            if n_post == 1:
                rows += [-anchor]
                rows += [
                    r for j in range(n_pre) if j != s for r in (pre[j] - anchor, -pre[j] - anchor)
                ]
            out.append(np.array(rows))
    return out


@dataclass(frozen=True)
class Interval:
    """A confidence set's hull; ``empty`` when no value was accepted."""

    low: float
    high: float

    @property
    def empty(self) -> bool:
        return not np.isfinite(self.low) or not np.isfinite(self.high)

    def excludes(self, value: float) -> bool:
        return self.empty or not (self.low <= value <= self.high)


class _PolyhedronTest:
    """The hybrid test of ``theta`` under one polyhedron ``{A delta <= 0}``."""

    def __init__(
        self,
        A: np.ndarray,
        beta: np.ndarray,
        sigma: np.ndarray,
        l_vec: np.ndarray,
        n_pre: int,
        alpha: float,
        draws: int,
        seed: int,
    ) -> None:
        A_post = A[:, n_pre:]
        # tau_post = theta * l / l'l + N nu, N a basis of l's orthogonal complement.
        self.A = A
        self.base = A @ beta
        self.slope = A_post @ l_vec / float(l_vec @ l_vec)
        X = A_post @ null_space(l_vec[None, :]) if len(l_vec) > 1 else np.zeros((len(A), 0))
        self.test = HybridTest(X, A @ sigma @ A.T, alpha, draws=draws, seed=seed)

    def accepts(self, theta: float, beta: np.ndarray | None = None) -> bool:
        """Whether ``theta`` is accepted at the coefficients given (default: those the test
        was built with; the least-favourable critical value depends only on the covariance)."""
        base = self.base if beta is None else self.A @ beta
        return not self.test.rejects(base - theta * self.slope)


def _check(beta: np.ndarray, sigma: np.ndarray, n_pre: int, n_post: int, l_vec: np.ndarray) -> None:
    p = n_pre + n_post
    if n_pre < 1 or n_post < 1:
        raise EstimationError("the bounds need at least one pre-start and one post-start period")
    if beta.shape != (p,) or sigma.shape != (p, p) or l_vec.shape != (n_post,):
        raise EstimationError(
            f"expected {p} coefficients, a {p} x {p} covariance and {n_post} target weights"
        )


def rm_tests(
    beta: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    n_post: int,
    l_vec: np.ndarray,
    mbar: float,
    level: float,
    *,
    draws: int = LF_DRAWS,
    seed: int = 0,
) -> list[_PolyhedronTest]:
    _check(beta, sigma, n_pre, n_post, l_vec)
    return [
        _PolyhedronTest(A, beta, sigma, l_vec, n_pre, 1 - level, draws, seed)
        for A in rm_polyhedra(n_pre, n_post, mbar)
    ]


def rm_rejects(
    beta: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    n_post: int,
    l_vec: np.ndarray,
    mbar: float,
    level: float,
    theta: float = 0.0,
    *,
    draws: int = LF_DRAWS,
    seed: int = 0,
) -> bool:
    """Whether ``theta`` lies outside the :math:`\\Delta^{RM}(\\bar M)` confidence set
    (rejected under every polyhedron)."""
    tests = rm_tests(beta, sigma, n_pre, n_post, l_vec, mbar, level, draws=draws, seed=seed)
    return not any(t.accepts(theta) for t in tests)


def rm_interval(
    beta: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    n_post: int,
    l_vec: np.ndarray,
    mbar: float,
    level: float,
    *,
    draws: int = LF_DRAWS,
    seed: int = 0,
) -> Interval:
    """The hull of the robust confidence set for ``l @ tau_post`` under
    :math:`\\Delta^{RM}(\\bar M)` at ``level`` (R HonestDiD's ``C-LF`` method).

    Each polyhedron's accepted values are found on a coarse grid around the estimate, widened
    while its ends are accepted, and each end then refined by bisection; the set reported is
    the smallest interval holding every polyhedron's (as HonestDiD reports its grid's).
    """
    beta, sigma, l_vec = (np.asarray(a, dtype=float) for a in (beta, sigma, l_vec))
    tests = rm_tests(beta, sigma, n_pre, n_post, l_vec, mbar, level, draws=draws, seed=seed)
    centre = float(l_vec @ beta[n_pre:])
    se = float(np.sqrt(l_vec @ sigma[n_pre:, n_pre:] @ l_vec))
    pre_scale = float(np.max(np.abs(first_differences(n_pre, n_post)[:n_pre] @ beta)))
    pre_se = float(np.sqrt(np.max(np.diag(sigma[:n_pre, :n_pre]))))
    reach = mbar * (pre_scale + 4 * pre_se) * float(np.abs(np.cumsum(l_vec[::-1])).sum())
    half = 6 * se + reach
    low, high = np.inf, -np.inf
    for test in tests:
        found = _accepted_range(test, centre, half)
        if found is not None:
            low, high = min(low, found[0]), max(high, found[1])
    if not np.isfinite(low):
        return Interval(float("nan"), float("nan"))
    return Interval(low, high)


def _accepted_range(
    test: _PolyhedronTest, centre: float, half: float
) -> tuple[float, float] | None:
    for _ in range(8):
        grid = np.linspace(centre - half, centre + half, GRID_POINTS)
        accepted = np.array([test.accepts(float(t)) for t in grid])
        if not accepted.any():
            return None
        first, last = int(np.argmax(accepted)), len(grid) - 1 - int(np.argmax(accepted[::-1]))
        if first > 0 and last < len(grid) - 1:
            low = _bisect(test, float(grid[first - 1]), float(grid[first]))
            high = _bisect(test, float(grid[last + 1]), float(grid[last]))
            return low, high
        half *= 4
    raise EstimationError("the robust confidence set did not close: it may be unbounded")


def _bisect(test: _PolyhedronTest, rejected: float, accepted: float) -> float:
    """The boundary between a rejected and an accepted value, to ``BISECTION_STEPS`` halvings."""
    for _ in range(BISECTION_STEPS):
        middle = (rejected + accepted) / 2
        if test.accepts(middle):
            accepted = middle
        else:
            rejected = middle
    return (rejected + accepted) / 2
