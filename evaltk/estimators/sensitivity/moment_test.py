r"""The conditional-least-favourable hybrid test of moment inequalities with linear nuisance
parameters (Andrews, Roth & Pakes 2023), which Rambachan & Roth (2023) invert for
:math:`\Delta^{RM}`.

Null hypothesis: for :math:`Y \sim N(\mu, \Sigma_Y)` there is a :math:`\nu` with
:math:`\mu - X\nu \le 0`. The statistic is

.. math::

    \hat\eta = \min_{\eta, \nu} \eta \quad\text{s.t.}\quad Y - X\nu \le \eta\,\sigma,
    \qquad \sigma = \sqrt{\operatorname{diag}\Sigma_Y},

whose dual is :math:`\max_\gamma \gamma'Y` over :math:`\{\gamma \ge 0, X'\gamma = 0,
\sigma'\gamma = 1\}`. Given the optimal vertex :math:`\gamma^*`, :math:`\hat\eta =
\gamma^{*\prime}Y` is, conditionally on :math:`\gamma^*` being optimal and on
:math:`S = Y - c\hat\eta` (:math:`c = \Sigma_Y\gamma^*/\gamma^{*\prime}\Sigma_Y\gamma^*`),
normal truncated to :math:`[v^{lo}, v^{up}]`, the values of :math:`t` at which
:math:`\gamma^*` stays optimal for :math:`S + ct`. Each end is a linear-fractional
programme over the dual polytope, solved exactly as a linear programme by the
Charnes-Cooper change of variables (see :func:`_truncation`).

The hybrid first rejects when :math:`\hat\eta` exceeds the least-favourable critical value
:math:`c_{LF}`, the :math:`1-\kappa` quantile of :math:`\hat\eta` at :math:`\mu = 0`
(simulated), then applies the conditional test at level :math:`(\alpha-\kappa)/(1-\kappa)`
with :math:`v^{up}` cut at :math:`c_{LF}`; :math:`\kappa = \alpha/10` as in R HonestDiD.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from evaltk.errors import EstimationError
from evaltk.estimators.sensitivity.lp import LinearProgramme

#: Share of the size spent on the least-favourable first stage (R HonestDiD's default).
KAPPA_SHARE = 0.1
#: Draws of the least-favourable critical value (R HonestDiD's default).
LF_DRAWS = 1000


class HybridTest:
    """The hybrid test of ``E[Y] - X nu <= 0`` for ``Y ~ N(mu, sigma_y)`` at size ``alpha``.

    The least-favourable critical value is simulated once (seeded) and only when a decision
    needs it: a conditional rejection without the cut at :math:`c_{LF}` is a rejection with it.
    """

    def __init__(
        self,
        X: np.ndarray,
        sigma_y: np.ndarray,
        alpha: float,
        *,
        draws: int = LF_DRAWS,
        seed: int = 0,
    ) -> None:
        self.X = np.asarray(X, dtype=float).reshape(len(sigma_y), -1)
        self.sigma_y = np.asarray(sigma_y, dtype=float)
        sd2 = np.diag(self.sigma_y)
        if np.any(sd2 <= 1e-12 * max(float(sd2.max()), 1e-300)):
            raise EstimationError(
                "a restriction's moment has no sampling variance: the event-time covariance "
                "is singular in a direction the bounds need (too few units for so many event "
                "times)."
            )
        self.sd = np.sqrt(sd2)
        self.alpha = alpha
        self.kappa = alpha * KAPPA_SHARE
        self.draws, self.seed = draws, seed
        m, k = self.X.shape
        # Variables (eta, nu); rows -sd * eta - X nu <= -Y.
        self._primal = LinearProgramme(
            np.r_[1.0, np.zeros(k)],
            np.column_stack([-self.sd, -self.X]),
            np.full(m, -np.inf),
            np.zeros(m),
            np.full(k + 1, -np.inf),
            np.full(k + 1, np.inf),
        )
        self._lf_cv: float | None = None

    def statistic(self, y: np.ndarray) -> tuple[float, np.ndarray]:
        """:math:`\\hat\\eta` and the optimal dual vertex :math:`\\gamma^*`."""
        m = len(self.sd)
        self._primal.set_row_bounds(np.full(m, -np.inf), -np.asarray(y, dtype=float))
        solution = self._primal.solve()
        if solution.status != "optimal":
            raise EstimationError(f"the moment-inequality programme is {solution.status}")
        gamma = np.clip(-solution.row_dual, 0.0, None)
        total = float(self.sd @ gamma)
        if total <= 0:
            raise EstimationError("the moment-inequality programme gave no dual vertex")
        return solution.objective, gamma / total

    @property
    def lf_cv(self) -> float:
        """The least-favourable critical value: the ``1 - kappa`` quantile of the statistic at
        ``mu = 0`` over ``draws`` seeded normal draws."""
        if self._lf_cv is None:
            root = _square_root(self.sigma_y)
            rng = np.random.default_rng(self.seed)
            xi = rng.standard_normal((self.draws, len(self.sd))) @ root.T
            self._lf_cv = float(np.quantile(self._statistics(xi), 1 - self.kappa))
        return self._lf_cv

    def _statistics(self, xi: np.ndarray) -> np.ndarray:
        """The statistic of every row of ``xi``, exactly, with few programmes solved.

        Draws share optimal dual vertices. For a vertex found by solving one draw's
        programme, the rows it uses, held as equalities, give each other draw a primal point
        ``(eta, nu)``; where that point is feasible its ``eta`` equals the vertex's dual value,
        so it is that draw's optimum (LP duality). Only draws no known vertex settles are
        solved.
        """
        values = np.full(len(xi), np.nan)
        design = np.column_stack([self.sd, self.X])
        todo = np.arange(len(xi))
        while len(todo):
            eta, gamma = self.statistic(xi[todo[0]])
            values[todo[0]] = eta
            rows = np.flatnonzero(gamma > 1e-9 * gamma.max())
            point = np.linalg.lstsq(design[rows], xi[todo][:, rows].T, rcond=None)[0]
            fitted = design @ point  # (m, len(todo))
            scale = 1e-9 * (1 + np.abs(xi[todo]).max(axis=1))  # relative tolerance
            exact = np.abs(fitted[rows] - xi[todo][:, rows].T).max(axis=0) <= scale
            feasible = (xi[todo].T - fitted).max(axis=0) <= scale
            others = exact & feasible
            others[0] = False  # solved above
            values[todo[others]] = point[0, others]
            others[0] = True
            todo = todo[~others]
        return values

    def rejects(self, y: np.ndarray) -> bool:
        y = np.asarray(y, dtype=float)
        eta, gamma = self.statistic(y)
        sigma_g2 = float(gamma @ self.sigma_y @ gamma)
        if sigma_g2 <= 0:
            raise EstimationError("the selected moment combination has no sampling variance")
        sigma_g = np.sqrt(sigma_g2)
        c = self.sigma_y @ gamma / sigma_g2
        low, high = _truncation(self.X, self.sd, c, y - c * eta)
        level = (self.alpha - self.kappa) / (1 - self.kappa)
        if _truncated_sf(eta, low, high, sigma_g) < level:
            return True
        cv = self.lf_cv
        if eta > cv:
            return True
        return bool(_truncated_sf(eta, low, min(high, cv), sigma_g) < level)


def _truncated_sf(value: float, low: float, high: float, sd: float) -> float:
    """``P(Z > value)`` for ``Z ~ N(0, sd^2)`` truncated to ``[low, high]``."""
    if value >= high:
        return 0.0
    x, a, b = value / sd, low / sd, high / sd
    if not a < b:
        return 1.0
    x = max(x, a)
    # Upper tail probabilities where the interval is above 0, lower ones below: no
    # cancellation of numbers near 1.
    if a > 0:
        num, den = special.ndtr(-x) - special.ndtr(-b), special.ndtr(-a) - special.ndtr(-b)
    else:
        num, den = special.ndtr(b) - special.ndtr(x), special.ndtr(b) - special.ndtr(a)
    if den > 1e-280:
        return float(num / den)
    return float(stats.truncnorm.sf(x, a, b))  # far in a tail: scipy's careful version


def _truncation(X: np.ndarray, sd: np.ndarray, c: np.ndarray, S: np.ndarray) -> tuple[float, float]:
    r"""The interval of :math:`t` over which :math:`\gamma^*` stays optimal for :math:`S + ct`.

    :math:`\gamma^*` is optimal at :math:`t` when every dual-feasible :math:`v` has
    :math:`v'S + t(v'c - 1) \le 0` (:math:`\gamma^{*\prime}S = 0`,
    :math:`\gamma^{*\prime}c = 1`). So :math:`v^{up} = \min_{v'c > 1} -v'S/(v'c - 1)` and
    :math:`v^{lo} = \max_{v'c < 1} v'S/(1 - v'c)`. With :math:`w = v/|v'c - 1|`,
    :math:`s = 1/|v'c - 1|` (Charnes & Cooper 1962) each is a linear programme over
    :math:`w \ge 0, s \ge 0, X'w = 0, \sigma'w = s` with :math:`\pm(c'w - s) = 1`; an
    infeasible one means no such :math:`v`, an infinite end.
    """
    m, k = X.shape
    A = np.zeros((k + 2, m + 1))
    A[:k, :m] = X.T
    A[k, :m], A[k, m] = sd, -1.0
    cols_low, cols_high = np.zeros(m + 1), np.full(m + 1, np.inf)
    ends = []
    for sign in (1.0, -1.0):  # +1: v'c > 1 (upper end); -1: v'c < 1 (lower end)
        A[k + 1, :m], A[k + 1, m] = sign * c, -sign
        rhs = np.r_[np.zeros(k + 1), 1.0]
        cost = np.r_[-S, 0.0]  # minimise -w@S (the lower end is minus its optimum)
        solution = LinearProgramme(cost, A, rhs, rhs, cols_low, cols_high).solve()
        if solution.status == "infeasible":
            ends.append(np.inf if sign > 0 else -np.inf)
        elif solution.status != "optimal":
            raise EstimationError(f"the truncation programme is {solution.status}")
        else:
            value = solution.objective
            # Upper: min -w'S. Lower: max w'S = -(min -w'S).
            ends.append(value if sign > 0 else -value)
    high, low = ends
    return float(low), float(high)


def _square_root(sigma: np.ndarray) -> np.ndarray:
    """A matrix ``R`` with ``R R' = sigma`` (eigen-decomposition: sigma may be singular)."""
    values, vectors = np.linalg.eigh((sigma + sigma.T) / 2)
    return np.asarray(vectors * np.sqrt(np.clip(values, 0.0, None)))
