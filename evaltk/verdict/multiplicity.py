"""Multiplicity correction across outcomes (Holm by default), via statsmodels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from statsmodels.stats.multitest import multipletests

_METHODS = {"holm": "holm", "benjamini_hochberg": "fdr_bh"}


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
    _, corrected, _, _ = multipletests(raw, method=_METHODS[method])
    for index, value in zip(present, corrected, strict=True):
        adjusted[index] = float(value)
    return adjusted
