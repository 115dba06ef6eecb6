"""The whole-system ledger of a comparative ITS (design.kind cits, models gls and glm).

Data: two 72-month series (start in month 37) as in tests/estimators/did/test_cits_gls.py —
shared seasonality and trend, each series its own month-to-month noise, Poisson counts on top —
with a known ratio of rate ratios for the treated series. The true events averted are then
``(1/ratio - 1)`` times the treated series' observed post-period events (what the treated
series would have had without the scheme, given what it had). Seeds are fixed, so every figure
below repeats exactly.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaltk.estimate.fit import headline
from evaltk.estimate.total_change import effect_total
from evaltk.estimators.did import CITSModel, CITSSpec, DiDResult
from evaltk.estimators.effect import critical_value
from evaltk.protocol.spec import Protocol
from evaltk.validation import calibration
from evaltk.validation.dgp import ar1_path
from evaltk.verdict.ledger import LedgerInput, correlation, ledger_from_inputs

MONTHS = pd.date_range("2014-01-01", periods=72, freq="MS")
START = "2017-01"
POST = np.arange(72) >= 36
SEASON = 0.15 * np.sin(2 * np.pi * np.arange(72) / 12)


def _ar1(rng: np.random.Generator, rho: float, sd: float) -> np.ndarray:
    return ar1_path(rng, 72, rho, sd)


def _data(
    rng: np.random.Generator,
    ratio: float,
    rho: float = 0.5,
    shared: dict[str, np.ndarray] | None = None,
    base: tuple[float, float] = (120.0, 180.0),
) -> pd.DataFrame:
    """Long data (series, period, y, pop); ``shared`` adds a given noise series to each series'
    log rate (the month-to-month noise two outcomes have in common)."""
    parts = []
    for label, level in zip(("T", "C"), base, strict=True):
        effect = np.log(ratio) * POST if label == "T" else 0.0
        noise = _ar1(rng, rho, 0.05) if rho > 0 else rng.normal(0, 0.05, 72)
        if shared is not None:
            noise = noise + shared[label]
        mu = level * np.exp(0.002 * np.arange(72) + SEASON + noise + effect)
        part = pd.DataFrame({"series": label, "period": MONTHS, "y": rng.poisson(mu)})
        part["pop"] = 1e5 * (1 + 0.003 * np.arange(72))
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _fit(data: pd.DataFrame, model: Literal["glm", "gls"], **options: Any) -> DiDResult:
    spec = CITSSpec(model=model, **options)
    return CITSModel(data, treated="T", start=START, exposure="pop", spec=spec).fit()


def _truth(result: DiDResult, ratio: float) -> float:
    plot = result.get_plot_data()
    treated_post = (plot["role"] == "treated") & plot["post"]
    return (1 / ratio - 1) * float(plot.loc[treated_post, "observed"].sum())


@pytest.mark.parametrize(
    ("model", "rho", "seed"),
    [
        # Measured with these seeds (100 datasets each): the ledger's interval of averted
        # events covered the truth in 92 % (gls, AR(1) months) and 91 % (glm, independent
        # months); the model's own interval of the ratio covered the true ratio in 90 % and
        # 90 % of the same datasets (quasi-Poisson; 300 datasets: 93.3 % vs 92.7 % and
        # 92.0 % vs 92.0 %).
        ("gls", 0.5, 11),
        ("glm", 0.0, 12),
    ],
)
def test_averted_events_interval_covers_the_truth(
    model: Literal["glm", "gls"], rho: float, seed: int
) -> None:
    """The ledger line's interval is as good as the effect's own: the delta method through
    the effect carries its coverage over to events."""
    rng = np.random.default_rng(seed)
    n, covered, effect_covered = 100, 0, 0
    for _ in range(n):
        result = _fit(_data(rng, 0.85, rho=rho), model)
        totals = result.totals
        assert totals is not None and totals.months == 36
        q = stats.t(totals.df).ppf(0.975) if totals.df is not None else stats.norm.ppf(0.975)
        covered += abs(totals.averted - _truth(result, 0.85)) <= q * totals.sd
        effect_covered += result.ci_low <= 0.85 <= result.ci_high
    assert covered / n >= 0.88
    assert abs(covered - effect_covered) / n <= 0.03


def test_averted_is_counterfactual_minus_observed_of_the_treated_post_months() -> None:
    result = _fit(_data(np.random.default_rng(3), 0.8), "gls")
    plot = result.get_plot_data()
    rows = (plot["role"] == "treated") & plot["post"]
    expected = float((plot.loc[rows, "counterfactual"] - plot.loc[rows, "observed"]).sum())
    assert result.totals is not None
    assert result.totals.averted == pytest.approx(expected, rel=1e-12)
    assert result.totals.averted > 0  # the treated series fell by a fifth


@pytest.mark.parametrize("slope_change", [False, True])
def test_gls_delta_method_sd_equals_a_finite_difference(slope_change: bool) -> None:
    """sd = |d sum(cf) / d gamma| x se(gamma), the derivative taken numerically on the
    plotted counterfactual (cf_t(gamma + h) = cf_t exp(-h L_t)); with a slope change the
    gradient has two terms and the covariance of the two GLS coefficients enters."""
    result = _fit(_data(np.random.default_rng(5), 0.8), "gls", slope_change=slope_change)
    plot = result.get_plot_data()
    rows = ((plot["role"] == "treated") & plot["post"]).to_numpy()
    cf = plot.loc[rows, "counterfactual"].to_numpy()
    level = np.ones(rows.sum())
    slope = np.arange(1, rows.sum() + 1, dtype=float)
    h = 1e-6
    gradient = [
        (np.sum(cf * np.exp(-h * column)) - np.sum(cf * np.exp(h * column))) / (2 * h)
        for column in ([level, slope] if slope_change else [level])
    ]
    totals = result.totals
    assert totals is not None
    if not slope_change:
        assert totals.sd == pytest.approx(abs(gradient[0]) * result.std_error, rel=1e-6)
        return
    # With a slope change: the coefficient covariance of the GLS difference fit.
    details = result.details
    assert details["gls"]["df"]["treated_slope"] is not None
    table = result.to_frame().set_index("term")
    se = np.array(
        [table.loc["treated_level", "std_error"], table.loc["treated_slope", "std_error"]]
    )
    g = np.array(gradient)
    # The sd lies between the perfectly negatively and positively correlated bounds, and the
    # GLS coefficient covariance it used reproduces it exactly.
    assert abs(abs(g[0]) * se[0] - abs(g[1]) * se[1]) <= totals.sd <= np.abs(g) @ se


def test_glm_delta_method_sd_equals_a_finite_difference() -> None:
    """For the joint GLM the counterfactual depends on every coefficient: the sd is the
    gradient of sum(exp(x_cf b + offset)) (numerical here) through the GLM's covariance."""
    import statsmodels.api as sm

    data = _data(np.random.default_rng(6), 0.8, rho=0.0)
    model = CITSModel(data, treated="T", start=START, exposure="pop", spec=CITSSpec(model="glm"))
    result = model.fit()
    panel = model.panel
    offset = np.log(panel.exposure)
    fit = sm.GLM(panel.y, model.design(), family=sm.families.Poisson(), offset=offset).fit(
        scale="X2"
    )
    x_cf = model.design(effect=False).to_numpy()
    rows = result.get_plot_data().eval("role == 'treated' and post").to_numpy()
    b = fit.params.to_numpy()

    def total(params: np.ndarray) -> float:
        return float(np.exp(x_cf[rows] @ params + offset[rows]).sum())

    h = 1e-6
    gradient = np.array([(total(b + h * e) - total(b - h * e)) / (2 * h) for e in np.eye(len(b))])
    expected = float(np.sqrt(gradient @ fit.cov_params().to_numpy() @ gradient))
    assert result.totals is not None
    assert result.totals.sd == pytest.approx(expected, rel=1e-5)


def _costed_protocol() -> Protocol:
    document = calibration.protocol("gls").model_dump(by_alias=True)
    costs = {
        "s136": {"amount_gbp": 600, "per": "event", "agency": "mental_health", "source": "t"},
        "ae_conveyances": {
            "amount_gbp": 250,
            "per": "event",
            "agency": "emergency_department",
            "source": "t",
        },
    }
    for outcome in document["outcomes"]:
        outcome["cost"] = costs.get(outcome["id"])
    return Protocol.model_validate(document)


def _inputs(model: Literal["glm", "gls"]) -> tuple[list[LedgerInput], Protocol]:
    """s136 (falls by 30 %) and A&E conveyances (rise by 25 %) of the same forces, whose
    months share most of their noise (the incident volume)."""
    rng = np.random.default_rng(21)
    shared = {label: _ar1(rng, 0.5, 0.08) for label in ("T", "C")}
    protocol = _costed_protocol()
    outcomes = {o.id: o for o in protocol.outcomes}
    inputs = []
    for outcome_id, ratio in (("s136", 0.7), ("ae_conveyances", 1.25)):
        result = _fit(_data(rng, ratio, shared=shared), model)
        assert result.totals is not None
        plot = result.get_plot_data()
        rows = (plot["role"] == "treated") & plot["post"]
        effect = headline(
            "treated_level",
            result.estimate,
            result.ci_low,
            result.ci_high,
            result.p_value,
            "ratio",
            result.std_error,
            0.95,
            result.df,
        )
        assert effect is not None
        change = effect_total(
            effect,
            float(plot.loc[rows, "counterfactual"].sum()) * result.estimate,  # with the scheme
            int(rows.sum()),
            result.totals.month_influence,
        )
        assert change is not None
        inputs.append(LedgerInput(outcome=outcomes[outcome_id], unit="events", change=change))
    return inputs, protocol


@pytest.mark.parametrize("model", ["gls", "glm"])
def test_net_interval_respects_the_correlation(model: Literal["glm", "gls"]) -> None:
    """Each line's interval is its effect's interval mapped onto the total with the scheme
    (exactly, the counterfactual moving), and the net interval's width is the one the
    month-influence correlation implies, not that of a sum of independent intervals. Tolerance
    5 %: 20,000 Monte Carlo draws, and lines whose intervals are not symmetric (mapped from the
    log scale)."""
    inputs, protocol = _inputs(model)
    ledger = ledger_from_inputs(inputs, protocol)
    assert ledger is not None
    corr = correlation(inputs)
    assert corr[0, 1] > 0.2  # the shared noise moves both totals
    assert ledger.correlation["s136"]["ae_conveyances"] == pytest.approx(corr[0, 1], abs=1e-6)
    lines = {line.outcome: line for line in ledger.lines}
    for item in inputs:
        change = item.change
        line = lines[item.outcome.id]
        # The total with the scheme held, the counterfactual moving: amount (1 / ratio - 1).
        ends = sorted(change.amount * np.expm1([-change.theta_low, -change.theta_high]))
        assert line.averted.ci_low == pytest.approx(ends[0], rel=1e-12)
        assert line.averted.ci_high == pytest.approx(ends[1], rel=1e-12)
    assert lines["s136"].averted.estimate > 0
    assert lines["s136"].pounds.estimate == pytest.approx(inputs[0].averted * 600)
    assert ledger.net_pounds.estimate == pytest.approx(
        inputs[0].averted * 600 + inputs[1].averted * 250
    )
    z = stats.norm.ppf(0.975)
    sd = np.array(
        [
            (lines[i.outcome.id].pounds.ci_high - lines[i.outcome.id].pounds.ci_low) / (2 * z)  # type: ignore[operator]
            for i in inputs
        ]
    )
    joint = np.sqrt(sd @ corr @ sd)
    independent = np.sqrt(np.sum(sd**2))
    half_width = (ledger.net_pounds.ci_high - ledger.net_pounds.ci_low) / 2  # type: ignore[operator]
    quantile = max(critical_value(0.95, i.change.df) for i in inputs)
    assert z * joint * 0.95 <= half_width <= quantile / z * z * joint * 1.05
    assert abs(joint - independent) / independent > 0.05, "correlation should matter here"
    # s136 is the primary and its interval excludes zero: a cost per averted detention.
    assert ledger.cost_per_averted_detention is not None
