"""Multiplicity correction across outcomes (Holm by default, or Benjamini-Hochberg).

Written out here rather than calling ``statsmodels.stats.multitest.multipletests``: that
function runs a full garbage collection on every call (about 0.3 s), which dominates the
simulation studies that decide thousands of verdicts. The two corrections are a few lines;
``tests/verdict/test_multiplicity.py`` checks them against statsmodels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def holm(p: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values, in the input order."""
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg (1995) false-discovery-rate adjusted p-values, in the input order."""
    m = len(p)
    order = np.argsort(p, kind="stable")[::-1]
    stepped = np.minimum.accumulate(m / (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


_METHODS = {"holm": holm, "benjamini_hochberg": benjamini_hochberg}


def adjust(p_values: Sequence[float | None], method: str) -> list[float | None]:
    """Adjusted p-values in the same order; ``None`` (not estimated) stays ``None``.

    Primary and secondary outcomes are corrected as separate families by the caller: the
    primary outcome's test is the confirmatory one and is not diluted by the secondaries.
    """
    if method == "none":
        return list(p_values)
    present = [i for i, p in enumerate(p_values) if p is not None and np.isfinite(p)]
    adjusted: list[float | None] = [None] * len(p_values)
    if not present:
        return adjusted
    raw = np.array([p_values[i] for i in present], dtype=float)
    for index, value in zip(present, _METHODS[method](raw), strict=True):
        adjusted[index] = float(value)
    return adjusted
