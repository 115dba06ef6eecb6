"""Every distinct ordering of a multiset: the assignments a randomisation test enumerates
(start dates over units for the staggered DiD, steps over clusters for a stepped-wedge trial)."""

from __future__ import annotations

import numpy as np


def distinct_permutations(values: np.ndarray) -> np.ndarray:
    """Every distinct ordering of ``values``, in lexicographic order (next-permutation), as
    rows of an array of ``values``' dtype; repeated values give each ordering once."""
    values = np.asarray(values)
    a = np.sort(values).tolist()
    out = [list(a)]
    n = len(a)
    while True:
        i = n - 2
        while i >= 0 and a[i] >= a[i + 1]:
            i -= 1
        if i < 0:
            break
        j = n - 1
        while a[j] <= a[i]:
            j -= 1
        a[i], a[j] = a[j], a[i]
        a[i + 1 :] = reversed(a[i + 1 :])
        out.append(list(a))
    return np.array(out, dtype=values.dtype)
