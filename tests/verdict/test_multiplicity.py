"""Holm and Benjamini-Hochberg against statsmodels' multipletests (the reference)."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from evaltk.verdict.multiplicity import adjust, benjamini_hochberg, holm


@pytest.mark.parametrize("seed", range(20))
def test_corrections_match_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 0.2, size=rng.integers(1, 12))
    p[rng.integers(len(p))] = p[0]  # ties
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1], rtol=1e-12)
    np.testing.assert_allclose(
        benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1], rtol=1e-12
    )


def test_missing_values_stay_missing() -> None:
    assert adjust([None, 0.01, float("nan")], "holm") == [None, 0.01, None]
    assert adjust([0.03, 0.01], "benjamini_hochberg") == pytest.approx([0.03, 0.02])
