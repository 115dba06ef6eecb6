"""The whole-system ledger: unit conversion, correlation between outcomes, net intervals."""

from __future__ import annotations

import numpy as np
import pytest

from evaltk.estimate.its import fit_all
from evaltk.protocol.spec import Protocol
from evaltk.simulate import simulate_series
from evaltk.validation import calibration
from evaltk.verdict.ledger import build_ledger, correlation, ledger_input

COSTS = {
    "s136": {"amount_gbp": 600, "per": "event", "agency": "mental_health", "source": "test"},
    "ae_conveyances": {
        "amount_gbp": 250,
        "per": "event",
        "agency": "emergency_department",
        "source": "test",
    },
    "ambulance_conveyances": {
        "amount_gbp": 300,
        "per": "event",
        "hours_per_event": 1.5,
        "agency": "ambulance",
        "source": "test",
    },
    "hospital_wait_minutes": {"amount_gbp": 45, "per": "hour", "agency": "police", "source": "t"},
}


def costed_protocol(cost_per_month: float | None = None, model: str = "gls") -> Protocol:
    document = calibration.protocol(model).model_dump(by_alias=True)
    for outcome in document["outcomes"]:
        outcome["cost"] = COSTS.get(outcome["id"])
    document["intervention"]["cost_gbp_per_month"] = cost_per_month
    return Protocol.model_validate(document)


# Both ITS models: the GLM's month influences are its scores, the GLS model's those of the
# whitened months (evaltk.estimate.its_totals.month_influence).
@pytest.fixture(scope="module", params=["gls", "glm"])
def fits(request):  # type: ignore[no-untyped-def]
    effects = {"s136": 0.7, "ae_conveyance": 1.25, "hospital_wait_minutes": 1.25}
    series = simulate_series(calibration.config(effects, seed=3)).sort_values("period")
    return fit_all(calibration.panel(series), costed_protocol(model=request.param))


def test_lines_convert_events_and_minutes_to_hours_and_pounds(fits) -> None:  # type: ignore[no-untyped-def]
    ledger = build_ledger(fits, costed_protocol())
    assert ledger is not None
    lines = {line.outcome: line for line in ledger.lines}
    assert set(lines) == set(COSTS)  # uncosted outcomes stay out
    ambulance = lines["ambulance_conveyances"]
    assert ambulance.hours.estimate == pytest.approx(ambulance.averted.estimate * 1.5)
    assert ambulance.pounds.estimate == pytest.approx(ambulance.averted.estimate * 300)
    wait = lines["hospital_wait_minutes"]
    assert wait.unit == "minutes"
    assert wait.hours.estimate == pytest.approx(wait.averted.estimate / 60)
    assert wait.pounds.estimate == pytest.approx(wait.averted.estimate / 60 * 45)
    # Triage lowered s136 (saving) and raised A&E conveyances and waits (costs added).
    assert lines["s136"].averted.estimate > 0
    assert lines["ae_conveyances"].pounds.estimate < 0
    total = sum(line.pounds.estimate for line in ledger.lines)
    assert ledger.net_pounds.estimate == pytest.approx(total)
    assert ledger.net_pounds.ci_low < ledger.net_pounds.estimate < ledger.net_pounds.ci_high
    assert ledger.police_hours_released.estimate == pytest.approx(wait.hours.estimate)


def test_correlation_is_one_for_the_same_series_and_symmetric(fits) -> None:  # type: ignore[no-untyped-def]
    inputs = [ledger_input(fit) for fit in (fits[1], fits[1], fits[2])]
    assert all(item is not None for item in inputs)
    corr = correlation(inputs)  # type: ignore[arg-type]
    assert corr[0, 1] == pytest.approx(1.0)
    np.testing.assert_allclose(corr, corr.T)
    assert np.all(np.abs(corr) <= 1.0)
    # A&E and ambulance conveyances share the incident volume's month-to-month noise.
    assert corr[0, 2] > 0.2


def test_net_interval_respects_correlation(fits) -> None:  # type: ignore[no-untyped-def]
    """The net interval's width is the one the correlation matrix implies, not the width a sum
    of independent intervals would give. Tolerance 5 %: 20,000 Monte Carlo draws."""
    ledger = build_ledger(fits, costed_protocol())
    assert ledger is not None
    z = 1.959964
    net = [line for line in ledger.lines if line.in_net]
    sd = np.array([(ln.pounds.ci_high - ln.pounds.ci_low) / (2 * z) for ln in net])  # type: ignore[operator]
    ids = [line.outcome for line in net]
    corr = np.array([[ledger.correlation[a][b] for b in ids] for a in ids])
    joint = z * np.sqrt(sd @ corr @ sd)
    independent = z * np.sqrt(np.sum(sd**2))
    half_width = (ledger.net_pounds.ci_high - ledger.net_pounds.ci_low) / 2  # type: ignore[operator]
    assert half_width == pytest.approx(joint, rel=0.05)
    assert abs(joint - independent) / independent > 0.05, "correlation should matter here"
    assert ledger.correlation["s136"]["s136"] == 1.0


def test_cost_per_averted_detention_adds_the_scheme_cost(fits) -> None:  # type: ignore[no-untyped-def]
    without = build_ledger(fits, costed_protocol())
    with_cost = build_ledger(fits, costed_protocol(cost_per_month=10_000))
    assert without is not None and with_cost is not None
    assert without.cost_per_averted_detention is not None
    assert with_cost.cost_per_averted_detention is not None
    s136 = next(line for line in without.lines if line.outcome == "s136")
    months = next(f for f in fits if f.outcome.id == "s136").result.cumulative.months
    extra = 10_000 * months / s136.averted.estimate
    assert with_cost.cost_per_averted_detention.estimate == pytest.approx(
        without.cost_per_averted_detention.estimate + extra
    )


def test_no_costs_no_ledger() -> None:
    series = simulate_series(calibration.config({}, seed=4)).sort_values("period")
    plain = calibration.protocol()
    assert build_ledger(fit_all(calibration.panel(series), plain), plain) is None
