"""Validation: evaltk's figures beside published results, and simulation checks of its intervals.

The reference tests (``tests/estimators/its/test_bernal2017.py``,
``tests/estimators/staggered/test_reference_r_did.py``) assert on the rows computed here; the
validation step writes the same rows as records (``book/validation/reference-*.json``) that the
book's validation chapter prints: the figure a reader sees is the one tested.
"""

from evaltk.validation.comparison import Comparison, failures
from evaltk.validation.reference import ENV_VAR, reference_dir

__all__ = ["ENV_VAR", "Comparison", "failures", "reference_dir"]
