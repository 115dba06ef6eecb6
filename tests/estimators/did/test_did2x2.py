"""The 2 × 2 DiD equals the difference of four means (and the Poisson one the ratio of ratios)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.errors import EstimationError
from evaltk.estimators.did import DiD2x2Model, DiDSpec

NOTTS, NEVER = "E23000019", ["E23000020", "E23000022"]


@pytest.fixture(scope="module")
def two_by_two(region: pd.DataFrame) -> pd.DataFrame:
    return region[region["force"].isin([NOTTS, *NEVER])].reset_index(drop=True)


def test_linear_is_the_difference_of_four_means(two_by_two: pd.DataFrame) -> None:
    res = DiD2x2Model(two_by_two, outcome="s136", unit="force", treatment="treated").fit("cluster")
    d = two_by_two
    group = d["force"] == NOTTS
    post = d["period"] >= pd.Timestamp("2016-04-01")
    means = {
        (g, p): d.loc[(group == g) & (post == p), "s136"].mean()
        for g in (True, False)
        for p in (True, False)
    }
    expected = (means[True, True] - means[True, False]) - (means[False, True] - means[False, False])
    assert res.estimate == pytest.approx(expected, rel=1e-10)
    assert res.term == "treated_post" and res.details["start"] == pd.Timestamp("2016-04-01")


def test_poisson_is_the_ratio_of_rate_ratios(two_by_two: pd.DataFrame) -> None:
    res = DiD2x2Model(
        two_by_two,
        outcome="s136",
        unit="force",
        treatment="treated",
        exposure="population",
        spec=DiDSpec(family="poisson"),
    ).fit("cluster")
    d = two_by_two
    group = d["force"] == NOTTS
    post = d["period"] >= pd.Timestamp("2016-04-01")

    def rate(g: bool, p: bool) -> float:
        rows = d[(group == g) & (post == p)]
        return rows["s136"].sum() / rows["population"].sum()

    expected = (rate(True, True) / rate(True, False)) / (rate(False, True) / rate(False, False))
    assert res.estimate == pytest.approx(expected, rel=1e-8)
    assert res.scale == "ratio"


def test_staggered_starts_are_refused(region: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match=r"one common start.*TWFEModel"):
        DiD2x2Model(region, outcome="s136", unit="force", treatment="treated")


def test_wild_bootstrap_with_three_clusters_is_honest(two_by_two: pd.DataFrame) -> None:
    res = DiD2x2Model(two_by_two, outcome="s136", unit="force", treatment="treated").fit(
        "wild_bootstrap"
    )
    assert res.inference == "wild_bootstrap" and np.isfinite(res.p_value)
    assert res.p_value > res.details["cluster"]["p_value"]
