"""fit_outcomes for design.kind synthetic_control and synthetic_did on a small panel built here:
the treated force is exactly half donor A plus half donor B before the start, then 2 events per
100,000 residents a month lower. The synthetic control must find those weights, that effect,
rank the treated force first, and turn the effect into events over its months from the start."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from evaltk.estimate import fit_outcomes
from evaltk.measures.accounting import RowAccount
from evaltk.measures.panel import Panel
from evaltk.protocol.spec import Protocol
from evaltk.verdict.evidence import evidence_level
from evaltk.verdict.outcome_result import outcome_results

START = dt.date(2017, 1, 1)
PERIODS = pd.date_range("2014-01-01", "2018-12-01", freq="MS")
DONORS = [f"D{i:02d}" for i in range(12)]
EFFECT = -2.0


def rates(seed: int = 5) -> dict[str, np.ndarray]:
    """Donors' rates per 100,000: each its own level, trend and noise; the treated force half
    D00 plus half D01, then EFFECT lower from START."""
    rng = np.random.default_rng(seed)
    t = np.arange(len(PERIODS))
    out = {
        d: rng.uniform(15, 35) + rng.normal(0, 0.05) * t + rng.normal(0, 1.0, len(t))
        for d in DONORS
    }
    post = pd.Timestamp(START) <= PERIODS
    out["T1"] = 0.5 * out["D00"] + 0.5 * out["D01"] + np.where(post, EFFECT, 0.0)
    return out


def panel(values: dict[str, np.ndarray], populations: dict[str, float]) -> Panel:
    rows = []
    for unit, rate in values.items():
        population = populations.get(unit, 1_000_000.0)
        rows.append(
            pd.DataFrame(
                {
                    "unit": unit,
                    "period": PERIODS,
                    "outcome": "s136_rate",
                    "numerator": rate * population / 100_000,
                    "denominator": population,
                    "value": rate,
                }
            )
        )
    return Panel(
        frame=pd.concat(rows, ignore_index=True),
        accounting=RowAccount(source="test", rows_in=0, rows_used=0),
        aggregates={"s136_rate": "rate"},
        per={"s136_rate": 100_000},
    )


def protocol(kind: str, treated: list[str], synthetic: dict[str, object] | None = None) -> Protocol:
    units = [*treated, *DONORS]
    return Protocol.model_validate(
        {
            "title": "synthetic test",
            "intervention": {
                "kind": "street_triage",
                "start": dict.fromkeys(treated, START),
                "cost_gbp_per_month": 1000,
            },
            "units": units,
            "data": {
                "kind": "series",
                "path": "simulated",
                "period": "period",
                "unit": "unit",
                "outcomes": {"s136_rate": "s136"},
            },
            "outcomes": [
                {
                    "id": "s136_rate",
                    "label": "s136 per 100,000",
                    "role": "primary",
                    "class": "resolution",
                    "direction": "decrease",
                    "cost": {
                        "amount_gbp": 600,
                        "per": "event",
                        "agency": "mental_health",
                        "source": "test",
                    },
                }
            ],
            # 13 units: the smallest placebo p-value is 1/13, so alpha must be above it.
            "decision": {"alpha": 0.1},
            "design": {"kind": kind, "synthetic": synthetic or {}},
            "window": {"start": dt.date(2014, 1, 1), "end": dt.date(2018, 12, 31)},
        }
    )


def test_synthetic_control_finds_the_mix_the_effect_and_its_events() -> None:
    values = rates()
    proto = protocol("synthetic_control", ["T1"])
    (fit,) = fit_outcomes(panel(values, {"T1": 800_000.0}), proto)
    assert fit.error is None and fit.design == "synthetic_control"
    assert fit.scale == "difference" and fit.inference == "placebo"
    assert fit.n_units == 13 and fit.n_periods == len(PERIODS)
    # The treated force is an exact mix of two donors before the start.
    weights = {w["unit"]: w["weight"] for w in fit.synthetic["weights"]}
    assert weights["D00"] == pytest.approx(0.5, abs=1e-3)
    assert weights["D01"] == pytest.approx(0.5, abs=1e-3)
    assert fit.synthetic["pre_rmspe"] < 1e-3
    assert fit.effect.estimate == pytest.approx(EFFECT, abs=1e-3)
    # Perfect fit before, a gap after: the largest RMSPE ratio, rank 1 of 13.
    assert fit.synthetic["rank"] == 1 and fit.effect.p_value == pytest.approx(1 / 13)
    # Interval: estimate ± 1.96 × the spread (divisor n) of the 12 donors' placebo estimates.
    placebos = [p["estimate"] for p in fit.synthetic["placebos"] if p["role"] == "placebo"]
    half = 1.959964 * np.std(placebos)
    assert fit.effect.ci_low == pytest.approx(fit.effect.estimate - half, rel=1e-5)
    assert fit.effect.ci_high == pytest.approx(fit.effect.estimate + half, rel=1e-5)
    # Events over the 24 months from the start: 2 per 100,000 a month x 8 (100,000s) x 24.
    change = fit.total_change()
    assert change is not None and change.force_months == 24
    assert change.interval[0] == pytest.approx(-EFFECT * 8 * 24, rel=1e-3)
    # The placebo in time (pretend start halfway through the 36 months before) is the
    # pre-trend test: the exact fit before the start gives no gap there.
    assert fit.pretrend is not None and fit.pretrend.method == "placebo"
    assert "pretend start 2015-07" in fit.pretrend.text
    assert fit.synthetic["placebo_in_time"]["estimate"] == pytest.approx(0.0, abs=1e-3)
    # Leave one donor out: both weighted donors refitted without.
    assert {r["unit"] for r in fit.synthetic["leave_one_out"]} >= {"D00", "D01"}
    (result,) = outcome_results([fit], proto)
    assert result.synthetic is not None and result.synthetic.weights[0].weight > 0.49
    assert [f.kind for f in result.figures] == ["placebo"]
    level = evidence_level(proto, None, [result])
    expected = 3 if fit.pretrend.p_value >= 0.1 else 2
    assert level.sms_level == expected and "placebo in time" in level.reason


def test_a_region_is_summed_before_its_rate_is_taken() -> None:
    values = rates()
    # Two treated forces of different size whose summed rate is the T1 rate above.
    values["T2"] = values.pop("T1")
    values["T3"] = values["T2"].copy()
    proto = protocol("synthetic_control", ["T2", "T3"], {"leave_one_out": False})
    populations = {"T2": 300_000.0, "T3": 500_000.0}
    (fit,) = fit_outcomes(panel(values, populations), proto)
    assert fit.error is None and fit.synthetic["treated"] == "T2+T3"
    assert fit.effect.estimate == pytest.approx(EFFECT, abs=1e-3)
    assert fit.synthetic["leave_one_out"] is None
    change = fit.total_change()
    # 24 months in each of the two forces; the events rest on their summed residents.
    assert change is not None and change.force_months == 48
    assert change.interval[0] == pytest.approx(-EFFECT * 8 * 24, rel=1e-3)


def test_a_missing_donor_month_is_recorded_not_raised() -> None:
    values = rates()
    data = panel(values, {})
    frame = data.frame.copy()
    hole = (frame["unit"] == "D05") & (frame["period"] == PERIODS[3])
    frame.loc[hole, ["numerator", "denominator", "value"]] = np.nan
    broken = Panel(frame, data.accounting, data.aggregates, data.per)
    (fit,) = fit_outcomes(broken, protocol("synthetic_control", ["T1"]))
    assert not fit.estimated
    assert "unit 'D05'" in (fit.error or "") and "every unit needs exactly one value" in fit.error


def test_synthetic_did_recovers_a_level_shifted_effect() -> None:
    values = rates()
    # SDiD allows a constant difference in level: shift the treated force up by 5.
    values["T1"] = values["T1"] + 5.0
    proto = protocol("synthetic_did", ["T1"], {"leave_one_out": False, "placebo_in_time": False})
    (fit,) = fit_outcomes(panel(values, {}), proto)
    assert fit.error is None and fit.design == "synthetic_did"
    assert fit.effect.estimate == pytest.approx(EFFECT, abs=0.25)
    assert fit.pretrend is None and "synthetic difference-in-differences" in fit.estimator
