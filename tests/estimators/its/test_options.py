from __future__ import annotations

import dataclasses

import pytest

from evaltk.errors import EstimationError
from evaltk.estimators.its import ITSSpec, default_hac_lags


def test_defaults() -> None:
    spec = ITSSpec()
    assert (spec.family, spec.seasonality, spec.harmonics) == ("quasi_poisson", "fourier", 2)
    assert not spec.slope_change and not spec.hac and spec.hac_lags is None and not spec.ar1
    assert spec.washout_months == 0 and spec.level == 0.95
    assert spec.scale == "ratio"
    assert ITSSpec(family="gaussian").scale == "difference"


def test_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ITSSpec().family = "poisson"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"family": "binomial"}, "family 'binomial' is not supported"),
        ({"seasonality": "weekly"}, "seasonality 'weekly'"),
        ({"harmonics": 0}, "harmonics must be an integer from 1 to 5"),
        ({"harmonics": 6}, "harmonics must be an integer from 1 to 5"),
        ({"harmonics": 2.0}, "harmonics must be an integer"),
        ({"slope_change": "yes"}, "slope_change must be true or false"),
        ({"hac_lags": 3}, "hac_lags is set but hac is false"),
        ({"hac": True, "ar1": True}, "hac and ar1 are both set"),
        ({"ar1": "yes"}, "ar1 must be true or false"),
        ({"hac": True, "hac_lags": -1}, "hac_lags must be a non-negative integer"),
        ({"washout_months": -2}, "washout_months must be a non-negative integer"),
        ({"level": 95}, "level must be a number strictly between 0 and 1"),
        ({"level": True}, "level must be a number strictly between 0 and 1"),
    ],
)
def test_invalid_options_are_named(kwargs: dict, fragment: str) -> None:
    with pytest.raises(EstimationError, match=fragment):
        ITSSpec(**kwargs)


@pytest.mark.parametrize(("n", "lags"), [(24, 2), (28, 3), (59, 3), (99, 3), (100, 4), (240, 4)])
def test_default_hac_lags(n: int, lags: int) -> None:
    assert default_hac_lags(n) == lags
