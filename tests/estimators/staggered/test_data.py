"""Panel checks, recoding rules and error messages; the caller's frame is never modified."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.errors import EstimationError
from evaltk.estimators.staggered import CallawaySantAnna, CSSpec, build_panel

from ._panel import simulate


@pytest.fixture()
def panel() -> pd.DataFrame:
    return simulate(np.random.default_rng(11), n=120)


def _fit(df: pd.DataFrame, **kw: object):  # type: ignore[no-untyped-def]
    return CallawaySantAnna(df, outcome="y", unit="id", time="t", group="g", **kw).fit()


def test_input_not_mutated(panel: pd.DataFrame) -> None:
    before = panel.copy(deep=True)
    res = CallawaySantAnna(
        panel, outcome="y", unit="id", time="t", group="g", covariates=["x"]
    ).fit(bootstrap=True, n_boot=50, cband=True)
    res.aggregate("dynamic")
    res.to_dict()
    pd.testing.assert_frame_equal(panel, before)


def test_row_order_does_not_matter(panel: pd.DataFrame) -> None:
    shuffled = panel.sample(frac=1.0, random_state=3)
    a, b = _fit(panel).to_frame(), _fit(shuffled).to_frame()
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("code", [0, np.nan, np.inf])
def test_never_treated_codes(panel: pd.DataFrame, code: float) -> None:
    recoded = panel.assign(g=panel["g"].astype(float).where(panel["g"] > 0, code))
    pd.testing.assert_frame_equal(_fit(recoded).to_frame(), _fit(panel).to_frame())


def test_cohort_after_last_period_is_never_treated(panel: pd.DataFrame) -> None:
    late = panel.assign(g=panel["g"].where(panel["g"] > 0, 99))
    res = _fit(late)
    pd.testing.assert_frame_equal(res.to_frame(), _fit(panel).to_frame())
    assert any("after the last period" in n for n in res.notes)


def test_units_treated_in_first_period_are_dropped(panel: pd.DataFrame) -> None:
    first = panel.copy()
    first.loc[first["id"] < 5, "g"] = 1
    res = _fit(first)
    assert res.n_units == panel["id"].nunique() - 5
    assert any("5 units already treated in the first period" in n for n in res.notes)


def test_no_never_treated_with_not_yet_treated(panel: pd.DataFrame) -> None:
    treated = panel[panel["g"] > 0]
    res = _fit(treated, control_group="not_yet_treated")
    # Cohort 5 is the last: periods from 5 on are dropped; cohort 5 is only a comparison.
    assert res.groups == (3.0, 4.0)
    assert res.periods == (1.0, 2.0, 3.0, 4.0)
    assert any("No never-treated units" in n for n in res.notes)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.drop(index=3), "balanced panel"),
        (lambda d: pd.concat([d, d.iloc[[0]]]), "more than once"),
        (lambda d: d.assign(y=d["y"].where(d.index != 7)), "missing or infinite"),
        (lambda d: d.assign(g=np.where(d.index == 2, 4, d["g"])), "changes over time"),
        (lambda d: d.assign(t=d["t"].astype(str)), "must be numeric"),
        (lambda d: d.assign(g=np.where(d["g"] == 3, -3, d["g"])), "negative"),
        (lambda d: d.drop(columns="y"), "not in the data"),
        (lambda d: d[d["g"] > 0], "no never-treated units"),
        (lambda d: d[(d["g"] > 0) | (d["id"] < 6)], "too few"),
        (lambda d: d[d["t"] == 1], "at least 2 periods"),
        (lambda d: d.iloc[0:0], "no rows"),
    ],
)
def test_errors_say_what_to_change(panel: pd.DataFrame, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EstimationError, match=message):
        _fit(mutate(panel.copy()))


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"control_group": "nevertreated"}, "control_group"),
        ({"est_method": "ols"}, "est_method"),
        ({"base_period": "fixed"}, "base_period"),
        ({"anticipation": -1}, "anticipation"),
        ({"covariates": "x"}, "list of column names"),
        ({"covariates": ["nope"]}, "not in the data"),
        ({"cluster": "nope"}, "not in the data"),
    ],
)
def test_bad_options(panel: pd.DataFrame, kw: dict, message: str) -> None:
    with pytest.raises(EstimationError, match=message):
        _fit(panel, **kw)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"n_boot": 1}, "n_boot"),
        ({"alpha": 1.5}, "alpha"),
        ({"seed": -1}, "seed"),
        ({"multiplier": "webb"}, "multiplier"),
        ({"bootstrap": "yes"}, "bootstrap"),
    ],
)
def test_bad_fit_options(panel: pd.DataFrame, kw: dict, message: str) -> None:
    model = CallawaySantAnna(panel, outcome="y", unit="id", time="t", group="g")
    with pytest.raises(EstimationError, match=message):
        model.fit(**kw)


def test_time_varying_cluster_is_an_error(panel: pd.DataFrame) -> None:
    bad = panel.assign(region=np.arange(len(panel)) % 3)
    with pytest.raises(EstimationError, match="time-invariant"):
        _fit(bad, cluster="region")


def test_cohort_with_no_overlap_is_named() -> None:
    # Cohort 3 is 99.6 % of the units it is compared with: every comparison unit is trimmed.
    df = simulate(np.random.default_rng(2), n=600, cohorts=(0, 3), shares=(0.5, 0.5))
    ids = df.loc[df["g"] == 0, "id"].unique()[2:]
    df = df[~df["id"].isin(ids)]
    extra = simulate(np.random.default_rng(3), n=600, cohorts=(3,), shares=(1.0,))
    extra["id"] += 10_000
    df = pd.concat([df, extra])
    with pytest.raises(EstimationError, match=r"ATT\(g=3, t=\d\).*overlap"):
        _fit(df, control_group="not_yet_treated")


def test_panel_arrays_sorted_by_cohort(panel: pd.DataFrame) -> None:
    p = build_panel(panel, outcome="y", unit="id", time="t", group="g", spec=CSSpec())
    assert np.all(p.cohort[:-1] <= p.cohort[1:])
    assert np.isinf(p.cohort[-1])
    assert p.y.shape == (panel["id"].nunique(), 6)
