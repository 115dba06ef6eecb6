"""``model: auto``: GLS where every fitted month has a count, else the registered GLM; the
choice and its reason are recorded (the analysis writes them to results.json)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.estimators.its import ITSModel, ITSSpec


def _series(mean: float, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2014-01-01", periods=72, freq="MS")
    y = rng.poisson(mean * np.exp(rng.normal(0, 0.08, 72))).astype(float)
    return pd.DataFrame({"period": periods, "y": y, "exposure": np.full(72, 1.0e6)})


START = pd.Timestamp("2016-04-01")


def test_auto_is_gls_when_every_month_has_a_count() -> None:
    series = _series(20.0)
    auto = ITSModel(series, start=START, spec=ITSSpec(model="auto", ar1=True))
    assert auto.model_choice.model == "gls"
    assert auto.spec.model == "gls" and not auto.spec.ar1
    smallest = int(series["y"].min())
    assert auto.model_choice.reason == (
        f"auto: gls, because every one of the 72 fitted months has a count above zero "
        f"(smallest {smallest}); the GLM's tests over-reject under month-to-month variation"
    )
    gls = ITSModel(series, start=START, spec=ITSSpec(model="gls")).fit().effect
    assert auto.fit().effect == gls


def test_auto_falls_back_to_the_registered_glm_errors_with_an_empty_month() -> None:
    series = _series(1.0)
    empty = int((series["y"] == 0).sum())
    assert empty > 0
    auto = ITSModel(series, start=START, spec=ITSSpec(model="auto", ar1=True))
    assert auto.model_choice.model == "glm" and auto.spec.ar1
    assert auto.model_choice.reason == (
        f"auto: glm, because {empty} of 72 fitted months have a count of zero and GLS takes "
        "the log of each month's count"
    )
    glm = ITSModel(series, start=START, spec=ITSSpec(ar1=True)).fit().effect
    assert auto.fit().effect == glm


def test_auto_is_glm_when_too_few_months_are_left_for_the_variance_parameters() -> None:
    # 10 months, 7 coefficients (intercept, trend, level, 2 Fourier pairs): 3 spare of 6 needed
    series = _series(20.0).iloc[:10]
    auto = ITSModel(series, start=pd.Timestamp("2014-06-01"), spec=ITSSpec(model="auto"))
    assert auto.model_choice.model == "glm"
    assert "10 fitted months leave fewer than 6 beyond the 7 coefficients" in (
        auto.model_choice.reason
    )


def test_a_registered_model_is_kept_as_registered() -> None:
    model = ITSModel(_series(20.0), start=START, spec=ITSSpec(ar1=True))
    assert (model.model_choice.model, model.model_choice.reason) == ("glm", "as registered")


def test_gls_with_ar1_is_still_refused_but_auto_with_ar1_is_allowed() -> None:
    from evaltk.errors import EstimationError

    with pytest.raises(EstimationError, match="models the autocorrelation itself"):
        ITSSpec(model="gls", ar1=True)
    assert ITSSpec(model="auto", ar1=True).ar1
