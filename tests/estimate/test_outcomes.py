"""fit_outcomes: one OutcomeFit per outcome, whatever the design (here the ITS of the verdict
calibration study: six outcomes of a simulated regional series)."""

from __future__ import annotations

import pytest

from evaltk.estimate import OutcomeFit, fit_outcomes
from evaltk.estimate.fit import failed
from evaltk.estimators.effect import critical_value
from evaltk.simulate import simulate_series
from evaltk.validation import calibration


@pytest.fixture(scope="module")
def fits() -> list[OutcomeFit]:
    series = simulate_series(calibration.config({"s136": 0.7}, seed=2)).sort_values("period")
    return fit_outcomes(calibration.panel(series), calibration.protocol())


def test_one_fit_per_outcome_in_protocol_order(fits: list[OutcomeFit]) -> None:
    assert [f.outcome.id for f in fits] == list(calibration.OUTCOMES)
    for fit in fits:
        assert fit.design == "its" and fit.estimated and fit.error is None
        assert fit.effect is fit.result.effect
        assert fit.p_value == fit.effect.p_value
        assert fit.n_units == 1 and fit.n_periods == 120
        assert fit.series is not None and "counterfactual" in fit.series
        # An ITS records the model it fitted (here gls, as the calibration protocol registers).
        assert (fit.inference, fit.inference_text) == ("gls", "as registered")
        assert fit.pretrend is None and not fit.figures


def test_units_of_the_post_totals(fits: list[OutcomeFit]) -> None:
    units = {f.outcome.id: f.total_unit for f in fits}
    assert units["s136"] == "events"
    assert units["hospital_wait_minutes"] == "minutes"


def test_its_post_totals_carry_the_models_interval(fits: list[OutcomeFit]) -> None:
    fit = fits[0]
    totals = fit.post_totals()
    assert totals is not None and fit.cumulative is not None
    width = fit.cumulative.averted_ci_high - fit.cumulative.averted_ci_low
    z = critical_value(fit.effect.level, fit.effect.df)  # type: ignore[union-attr]
    assert totals.sd == pytest.approx(width / (2 * z))
    assert totals.months == fit.cumulative.months
    assert len(totals.month_influence) == fit.n_periods


def test_a_failed_fit_records_why(fits: list[OutcomeFit]) -> None:
    fit = failed(fits[0].outcome, "rate", "its", "text", "ratio", "too few months", note="x.")
    assert not fit.estimated and fit.p_value is None and fit.post_totals() is None
    assert fit.note == "x. too few months"
