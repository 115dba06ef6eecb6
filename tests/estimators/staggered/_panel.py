"""A small staggered-adoption panel with known effects, shared by the staggered tests.

The DGP lives in :mod:`evaltk.validation.dgp` (documented there) so that
``bench/validation_checks.py`` and the book's validation chapter use the same code.
"""

from __future__ import annotations

from evaltk.validation.dgp import cohort_probabilities, tau, true_simple_att
from evaltk.validation.dgp import staggered_panel as simulate

__all__ = ["cohort_probabilities", "simulate", "tau", "true_simple_att"]
