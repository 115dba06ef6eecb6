"""Which inference a DiD-type fit uses, and how a result says so in words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evaltk.errors import EstimationError
from evaltk.estimators.did.design import Coefficients
from evaltk.estimators.did.options import FEW_CLUSTERS, SUBCLUSTER_BELOW, InferenceSpec
from evaltk.estimators.did.randomization import (
    Assignments,
    RandomizationTest,
    assignments,
    permutation_test,
    permutation_test_linear,
)
from evaltk.estimators.did.score_bootstrap import PoissonScoreBootstrap
from evaltk.estimators.did.wild_bootstrap import (
    BootstrapTest,
    BootstrapWeights,
    LinearWCR,
    draw_weights,
)


@dataclass(frozen=True)
class AutoRule:
    """What ``auto`` inference falls back to with few clusters, for one kind of estimator.

    Attributes
    ----------
    few : str
        The method used below the threshold.
    why : str
        Why the cluster-robust (or analytical) errors will not do there.
    counted : str
        What the number of clusters counts, in the reason (``clusters``, ``units``).
    """

    few: str
    why: str
    counted: str


#: DiD-type regressions (2 x 2, TWFE, event study): the wild cluster bootstrap.
DID_AUTO = AutoRule(
    "wild_bootstrap", "cluster-robust t-tests over-reject with few clusters", "clusters"
)
#: Callaway & Sant'Anna: randomisation inference (with 5 forces, 5 clusters, its multiplier
#: bootstrap has too few units to draw on as well).
STAGGERED_AUTO = AutoRule(
    "randomization",
    "influence-function and bootstrap errors rest on many units and are far too small with few",
    "units",
)


def auto_method(
    method: str,
    n_clusters: int,
    few_clusters: int = FEW_CLUSTERS,
    rule: AutoRule = DID_AUTO,
) -> tuple[str, str]:
    """The inference to use and why: the ``auto`` rule of every DiD-type design.

    ``auto`` is ``rule.few`` with fewer than ``few_clusters`` clusters (default
    :data:`~evaltk.estimators.did.options.FEW_CLUSTERS`, 50) and cluster-robust (analytical)
    errors otherwise; any other method is used as asked.

    Returns
    -------
    (str, str)
        ``"cluster"``, ``"wild_bootstrap"`` or ``"randomization"``, and the reason.
    """
    if method != "auto":
        return method, "as specified"
    if n_clusters < few_clusters:
        return rule.few, (f"{n_clusters} {rule.counted}, fewer than {few_clusters}: {rule.why}")
    return "cluster", f"{n_clusters} {rule.counted}, at least {few_clusters}"


def choose_method(spec: InferenceSpec, n_clusters: int) -> tuple[str, str]:
    """The inference of a DiD-type regression and why (:func:`auto_method` with
    :data:`DID_AUTO` and ``spec.few_clusters``)."""
    return auto_method(spec.method, n_clusters, spec.few_clusters, DID_AUTO)


def bootstrap_groups(
    spec: InferenceSpec, unit: np.ndarray, clock: np.ndarray
) -> tuple[np.ndarray | None, str]:
    """Bootstrap clusters: None (the units) or unit × block labels, and a phrase saying which."""
    n_units = int(np.unique(unit).size)
    by = spec.bootstrap_by
    if by == "auto":
        by = "unit_block" if n_units < SUBCLUSTER_BELOW else "unit"
    if by == "unit":
        return None, "weights by unit"
    block = np.floor(clock / spec.block).astype(np.int64)
    labels = unit.astype(np.int64) * (int(block.max() - block.min()) + 1) + (block - block.min())
    span = "calendar year" if spec.block == 12 else f"block of {spec.block} periods"
    return labels, f"weights by unit × {span} (subcluster bootstrap, MacKinnon & Webb 2018)"


@dataclass(frozen=True)
class InferenceOutcome:
    """Estimate, interval and p-value of one coefficient (or combination), link scale.

    ``std_error`` is always the cluster-robust (CR1) standard error from the fitting library;
    with ``method`` other than ``cluster`` the interval and p-value come from the bootstrap or
    the permutations (``test``), not from it.
    """

    method: str
    reason: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_p_value: float
    test: BootstrapTest | RandomizationTest | None = field(default=None)


def describe(
    method: str, reason: str, family: str, test: Any, n_clusters: int, boot_by: str = ""
) -> str:
    """One sentence naming the inference, for summaries, the book and ``results.json``."""
    by = f"clustered by unit ({n_clusters} clusters)"
    if method == "cluster":
        lib = "statsmodels GLM" if family == "poisson" else "linearmodels PanelOLS"
        text = f"cluster-robust (CR1) standard errors from {lib}, {by}"
    elif method == "wild_bootstrap":
        kind = (
            "score wild cluster bootstrap (Kline & Santos 2012) with the null imposed"
            if family == "poisson"
            else "restricted wild cluster bootstrap (WCR, null imposed; Roodman et al. 2019)"
        )
        groups = f", {boot_by}" if boot_by else ""
        text = f"{kind}, {_draws_text(test)}{groups}, t-statistic {by}"
        if test is not None and not np.isnan(test.ci_low):
            text += "; interval by test inversion"
    elif method == "randomization":
        text = (
            "randomisation inference: adoption dates permuted across units, "
            f"{_permutations_text(test)}"
        )
        if test is not None and np.isnan(test.ci_low):
            text += "; no interval (inverting it needs a refit per candidate effect)"
        else:
            text += "; interval by test inversion under a constant additive effect"
    else:
        text = method
    return f"{text} ({reason})." if reason != "as specified" else f"{text}."


def _draws_text(test: BootstrapTest | None) -> str:
    if test is None:
        return "bootstrap"
    weights = "Webb six-point" if test.weights == "webb" else "Rademacher"
    if test.enumerated:
        return f"{weights} weights, all {test.draws:,} patterns enumerated (exact)"
    return f"{weights} weights, {test.draws:,} draws (seed {test.seed})"


def _permutations_text(test: RandomizationTest | None) -> str:
    if test is None:
        return "permutations"
    if test.enumerated:
        return f"all {test.n_distinct:,} distinct assignments enumerated (exact)"
    return (
        f"{test.permutations:,} random permutations of {test.n_distinct:,} possible "
        f"(seed {test.seed}; p-value with the +1 correction)"
    )


@dataclass(frozen=True)
class CoefficientProblem:
    """What :func:`run_inference` needs to test one coefficient (or combination) every way.

    Attributes
    ----------
    family : str
        ``linear`` or ``poisson``.
    coefs : Coefficients
        Library fit with the cluster-robust covariance of the named regressors.
    weights : numpy.ndarray
        The combination of ``coefs.names`` tested (a unit vector for one coefficient).
    clusters : numpy.ndarray
        ``(N,)`` cluster (unit) codes.
    boot_y, boot_X : numpy.ndarray
        Linear: the response and design with unit effects partialled out (regressors first).
        Poisson: the counts and the full design (regressors first, then dummies).
    offset : numpy.ndarray or None
        Poisson offset.
    start : numpy.ndarray
        Observed start of each unit (for randomisation inference).
    clock : numpy.ndarray
        ``(N,)`` period number of each row (for bootstrap blocks).
    ri_linear : callable or None
        ``start -> (estimate on y, estimate on the observed D)`` (linear models).
    ri_estimate : callable or None
        ``start -> estimate`` (Poisson models; re-fitted per permutation).
    """

    family: str
    coefs: Coefficients
    weights: np.ndarray
    clusters: np.ndarray
    boot_y: np.ndarray
    boot_X: np.ndarray
    offset: np.ndarray | None
    start: np.ndarray
    clock: np.ndarray
    ri_linear: Callable[[np.ndarray], np.ndarray] | None = None
    ri_estimate: Callable[[np.ndarray], float] | None = None


def run_inference(
    problem: CoefficientProblem,
    spec: InferenceSpec,
    method: str,
    reason: str,
    boot_weights: BootstrapWeights | None = None,
    plan: Assignments | None = None,
) -> InferenceOutcome:
    """Estimate, interval and p-value of ``weights @ params`` by the chosen inference.

    Parameters
    ----------
    problem : CoefficientProblem
    spec : InferenceSpec
    method, reason : str
        From :func:`choose_method`.
    boot_weights : BootstrapWeights, optional
        Shared draws (so that all tests of one fit use the same); drawn from ``spec`` if None.
    plan : Assignments, optional
        Shared permutations; drawn from ``spec`` if None.
    """
    level = spec.level
    cl = problem.coefs.combination(problem.weights, level)
    ci_level = level if spec.ci else None
    test: BootstrapTest | RandomizationTest | None = None
    low, high, p = cl["ci_low"], cl["ci_high"], cl["p_value"]
    n_clusters = int(np.unique(problem.clusters).size)
    if method == "wild_bootstrap":
        groups, _ = bootstrap_groups(spec, problem.clusters, problem.clock)
        n_boot = n_clusters if groups is None else int(np.unique(groups).size)
        weights = boot_weights or draw_weights(n_boot, spec.draws, spec.weights, spec.seed)
        k = len(problem.weights)
        if problem.family == "linear":
            R = np.zeros(problem.boot_X.shape[1])
            R[:k] = problem.weights
            test = LinearWCR(problem.boot_y, problem.boot_X, problem.clusters, groups).t_test(
                R, weights, 0.0, ci_level
            )
        else:
            X, column = reparametrize(problem.boot_X, problem.weights)
            offset = np.zeros(len(problem.boot_y)) if problem.offset is None else problem.offset
            boot = PoissonScoreBootstrap(problem.boot_y, X, offset, problem.clusters, groups)
            test = boot.t_test(column, weights, 0.0, ci_level, cl["estimate"], cl["std_error"])
    elif method == "randomization":
        plan = plan or assignments(problem.start, spec.permutations, spec.seed)
        if problem.ri_linear is not None:
            test = permutation_test_linear(
                problem.ri_linear, problem.start, plan, cl["std_error"], ci_level
            )
        elif problem.ri_estimate is not None:
            test = permutation_test(problem.ri_estimate, problem.start, plan, "estimate")
        else:
            raise EstimationError("randomisation inference is not available for this estimate.")
    elif method != "cluster":
        raise EstimationError(f"unknown inference method {method!r}.")
    if test is not None:
        low, high, p = test.ci_low, test.ci_high, test.p_value
    return InferenceOutcome(
        method=method,
        reason=reason,
        estimate=cl["estimate"],
        std_error=cl["std_error"],
        ci_low=low,
        ci_high=high,
        p_value=p,
        cluster_ci_low=cl["ci_low"],
        cluster_ci_high=cl["ci_high"],
        cluster_p_value=cl["p_value"],
        test=test,
    )


def reparametrize(X: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, int]:
    """A design whose column ``j`` has coefficient ``weights @ beta`` (same fitted values).

    With ``j`` the first non-zero weight, ``X b = X_j theta / w_j + sum_{i != j} (X_i -
    X_j w_i / w_j) b_i`` for ``theta = w' b``; only the first ``len(weights)`` columns change.
    """
    w = np.asarray(weights, dtype=float)
    j = int(np.flatnonzero(w)[0])
    out = np.array(X, dtype=float, copy=True)
    for i in np.flatnonzero(w):
        if i != j:
            out[:, i] = X[:, i] - X[:, j] * w[i] / w[j]
    out[:, j] = X[:, j] / w[j]
    return out, j


def cluster_summary(outcome: InferenceOutcome, scale: str) -> dict[str, float]:
    """The cluster-robust interval and p-value, on the effect scale, for comparison."""
    low, high = outcome.cluster_ci_low, outcome.cluster_ci_high
    if scale == "ratio":
        low, high = float(np.exp(low)), float(np.exp(high))
    return {"ci_low": low, "ci_high": high, "p_value": outcome.cluster_p_value}
