"""Estimation: protocol options + panel -> one fit per outcome, for every design.

This is where an outcome's measure meets the estimator: which panel column is the response and
which the exposure (:mod:`~evaltk.estimate.its`, :mod:`~evaltk.estimate.panel_frame`), how the
protocol's options become the estimators' specs (one module per design), and the one
:class:`OutcomeFit` every design hands to the run, the verdict and the ledger.
"""

from evaltk.estimate.fit import FIGURE_KINDS, OutcomeFit, PreTrend
from evaltk.estimate.outcomes import fit_outcomes

__all__ = ["FIGURE_KINDS", "OutcomeFit", "PreTrend", "fit_outcomes"]
