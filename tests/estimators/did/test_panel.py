"""Input checks: every mistake raises EstimationError saying what to change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.errors import EstimationError
from evaltk.estimators.did import DiDSpec, InferenceSpec, TWFEModel, build_panel

from ._panels import toy_panel


def test_layout_and_starts() -> None:
    frame = toy_panel()
    panel = build_panel(
        frame.sample(frac=1, random_state=1), outcome="y", treatment="treated", exposure="pop"
    )
    assert panel.n_units == 6 and panel.n_periods == 8 and panel.n_obs == 48
    assert panel.start_labels() == {"u0": 3, "u1": 3, "u2": 5, "u3": None, "u4": None, "u5": None}
    assert np.array_equal(np.sort(panel.clock[panel.unit == 0]), np.arange(8.0))
    assert panel.treated.sum() == frame["treated"].sum()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="y"), "lack column"),
        (lambda d: d.assign(y=d["y"].where(d.index != 4)), "missing or non-finite"),
        (lambda d: pd.concat([d, d.iloc[[0]]]), "more than one row"),
        (lambda d: d.assign(pop=0.0), "must be positive"),
        (
            lambda d: d.assign(treated=np.where(d["period"] == 7, 0, d["treated"])),
            "stay on once it starts",
        ),
        (lambda d: d.assign(treated=2), "0/1"),
        (lambda d: d.assign(period=d["period"].astype(float) + 0.5), "month-start timestamps"),
    ],
)
def test_bad_data(change, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EstimationError, match=message):
        build_panel(change(toy_panel()), outcome="y", treatment="treated", exposure="pop")


def test_bad_calls() -> None:
    frame = toy_panel()
    with pytest.raises(EstimationError, match="exactly one of treatment"):
        build_panel(frame, outcome="y")
    with pytest.raises(EstimationError, match="no entry for unit"):
        build_panel(frame, outcome="y", starts={"u0": 3})
    months = frame.assign(period=pd.Timestamp("2020-01-15"))
    with pytest.raises(EstimationError, match="month starts"):
        build_panel(months, outcome="y", treatment="treated")
    with pytest.raises(EstimationError, match="no unit is treated"):
        TWFEModel(frame.assign(treated=0), outcome="y", treatment="treated")
    with pytest.raises(EstimationError, match="at least 2 units"):
        TWFEModel(frame[frame["unit"] == "u0"], outcome="y", treatment="treated")
    zero = frame.assign(y=np.where(frame["unit"] == "u4", 0.0, frame["y"]))
    with pytest.raises(EstimationError, match="unit u4 has no events"):
        TWFEModel(zero, outcome="y", treatment="treated", spec=DiDSpec(family="poisson"))
    same = frame.assign(treated=(frame["period"] >= 3).astype(int))
    with pytest.raises(EstimationError, match="absorbed"):
        TWFEModel(same, outcome="y", treatment="treated").fit("cluster")
    with pytest.raises(EstimationError, match="different start dates"):
        from evaltk.estimators.did.randomization import assignments

        assignments(np.full(4, 3.0), 999, seed=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "bayes"}, "inference method 'bayes'"),
        ({"weights": "mammen"}, "bootstrap weights 'mammen'"),
        ({"level": 95}, "strictly between 0 and 1"),
        ({"draws": 10}, "draws must be an integer of at least 99"),
        ({"bootstrap_by": "year"}, "bootstrap_by 'year'"),
    ],
)
def test_bad_inference_options(kwargs, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EstimationError, match=message):
        InferenceSpec(**kwargs)


def test_bad_model_options() -> None:
    with pytest.raises(EstimationError, match="DiD family 'logit'"):
        DiDSpec(family="logit")  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match="must be a DiDSpec"):
        TWFEModel(toy_panel(), outcome="y", treatment="treated", spec="poisson")  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match="InferenceSpec or a method name"):
        TWFEModel(toy_panel(), outcome="y", treatment="treated").fit(3)  # type: ignore[arg-type]
