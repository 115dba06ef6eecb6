"""One OutcomeResult builder for every design: numbers where the fit has them, None elsewhere."""

from __future__ import annotations

import math

from evaltk.estimate.fit import OutcomeFit, PreTrend, failed, headline
from evaltk.protocol.spec import Outcome
from evaltk.validation import calibration
from evaltk.verdict.outcome_result import adjusted_p_values, outcome_result

PROTOCOL = calibration.protocol()
PRIMARY: Outcome = PROTOCOL.outcomes[0]


def _fit(p: float | None, std_error: float | None = 0.05) -> OutcomeFit:
    return OutcomeFit(
        outcome=PRIMARY,
        aggregate="rate",
        design="did",
        estimator="two-way fixed effects",
        scale="ratio",
        n_units=5,
        n_periods=72,
        effect=headline("att", 0.8, 0.7, 0.9, p, "ratio", std_error, 0.95),
        inference="wild_bootstrap",
        pretrend=PreTrend(1.5, 3, 0.2, "cluster", "joint test"),
        figure=lambda: None,  # type: ignore[arg-type,return-value]
    )


def test_a_comparison_fit_fills_its_own_fields_and_leaves_the_its_ones_empty() -> None:
    result = outcome_result(_fit(0.01), PROTOCOL, 0.02)
    assert result.estimate == 0.8 and result.ci_low == 0.7 and result.p_adjusted == 0.02
    assert result.std_error == 0.05 and result.df is None
    assert result.equivalence_p is not None and result.margin == 0.1
    assert result.inference == "wild_bootstrap" and result.pretrend is not None
    assert result.figure == f"figures/{PRIMARY.id}.png" and result.figures == []
    assert result.slope_change is None and result.cumulative is None
    assert result.diagnostics is None


def test_missing_numbers_are_null_and_carry_no_equivalence_claim() -> None:
    result = outcome_result(_fit(None, std_error=None), PROTOCOL, None)
    assert result.p_value is None and result.std_error is None
    assert result.equivalence_p is None and result.harm_ruled_out_p is None
    assert adjusted_p_values([_fit(None)], "holm") == {PRIMARY.id: None}
    assert math.isnan(_fit(None).p_value)  # type: ignore[arg-type]


def test_a_failed_fit_gives_an_empty_result_with_its_note() -> None:
    fit = failed(PRIMARY, "rate", "cits", "comparative ITS", "ratio", "no comparison units")
    result = outcome_result(fit, PROTOCOL, None)
    assert result.estimate is None and result.figure is None and result.pretrend is None
    assert result.note == "no comparison units" and result.design == "cits"
