"""The whole-system ledger: where demand went, in events, hours and pounds, with one interval.

For each costed outcome the ledger takes the change over the post period from its model,
``averted = counterfactual - observed`` (positive: demand that did not happen), and converts
it with the protocol's unit cost into staff hours and pounds.

The net total needs the *joint* uncertainty of the outcomes: months that were busy for s136
were busy for A&E too, so the outcomes' errors are correlated and a sum of independent
intervals would be wrong. The correlation between two outcomes' counterfactual totals is
estimated from their models' month-level estimating functions, stacked as in seemingly
unrelated estimating equations: for outcome ``i`` with bread ``B_i = (sum_t w_it x_it x_it')^-1``,
score ``s_it = x_it (y_it - mu_it) / v_it`` (for the GLS model, least-squares scores of
the whitened months) and gradient ``g_i`` of its post-period
counterfactual total, the influence of month ``t`` is ``u_it = s_it' B_i g_i`` and

    corr(i, j) = sum_t u_it u_jt / sqrt(sum_t u_it^2 * sum_t u_jt^2).

Each outcome keeps its own model's standard error; only the correlation comes from the stack.
Totals and ratios (net pounds, cost per averted detention) are then read off 20,000 draws
from the joint normal distribution of the outcomes' averted totals (seeded by the protocol).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaltk.analysis.estimate import OutcomeFit
from evaltk.estimators.its.effects import z_value
from evaltk.protocol.spec import Protocol
from evaltk.results.schema import Interval, Ledger, LedgerLine

DRAWS = 20_000


@dataclass(frozen=True)
class _Line:
    fit: OutcomeFit
    averted: float
    sd: float
    hours_per_unit: float  # hours per event, or 1/60 for minutes
    pounds_per_unit: float
    df: float | None  # t degrees of freedom of the model's intervals (GLS), None for normal


def month_influence(fit: OutcomeFit) -> pd.Series:
    """Influence of each fitted month on the outcome's post-period counterfactual total."""
    assert fit.result is not None and fit.model is not None
    design = fit.model.design
    rows = design.in_fit
    x = design.exog.to_numpy()[rows]
    y = design.y[rows]
    params = fit.result.params.to_numpy()
    offset = design.offset[rows] if design.offset is not None else 0.0
    eta = x @ params + offset
    post = design.post_sum
    x_cf = design.exog_counterfactual.to_numpy()[post]
    eta_cf = x_cf @ params + (design.offset[post] if design.offset is not None else 0.0)
    error_cov = fit.result.error_covariance
    if error_cov is not None:
        return _whitened_month_influence(x, y, eta, x_cf, eta_cf, error_cov, fit, design)
    if fit.family == "gaussian":
        mu, weight, variance = eta, np.ones_like(eta), np.ones_like(eta)
        gradient = x_cf.sum(axis=0)
    else:
        mu = np.exp(eta)
        alpha = fit.result.diagnostics.get("alpha") or 0.0
        variance = 1.0 + alpha * mu  # NB2 working variance / mu; 1 for Poisson
        weight = mu / variance
        gradient = (np.exp(eta_cf)[:, None] * x_cf).sum(axis=0)
    bread = np.linalg.pinv((x * weight[:, None]).T @ x)
    scores = x * ((y - mu) / variance)[:, None]
    return pd.Series(scores @ bread @ gradient, index=design.periods[rows])


def _whitened_month_influence(
    x: np.ndarray,
    y: np.ndarray,
    eta: np.ndarray,
    x_cf: np.ndarray,
    eta_cf: np.ndarray,
    error_cov: np.ndarray,
    fit: OutcomeFit,
    design: Any,
) -> pd.Series:
    """Month influence for the GLS model: its estimating function is that of least squares
    on data whitened by the Cholesky factor ``L`` of the error covariance (``L L' = Sigma``),
    so the influence of (whitened) month ``t`` is ``e*_t x*_t' (X*' X*)^-1 g``."""
    assert fit.result is not None
    chol = np.linalg.cholesky(error_cov)
    response = y if fit.family == "gaussian" else np.log(y)
    x_white = np.linalg.solve(chol, x)
    resid_white = np.linalg.solve(chol, response - eta)
    if fit.family == "gaussian":
        gradient = x_cf.sum(axis=0)
    else:
        gradient = (np.exp(eta_cf)[:, None] * x_cf).sum(axis=0)
    bread = np.linalg.pinv(x_white.T @ x_white)
    influence = (x_white * resid_white[:, None]) @ bread @ gradient
    return pd.Series(influence, index=design.periods[design.in_fit])


def correlation(fits: Sequence[OutcomeFit]) -> np.ndarray:
    """Correlation of the outcomes' post-period counterfactual totals (stacked sandwich)."""
    influence = pd.concat([month_influence(f) for f in fits], axis=1).fillna(0.0).to_numpy()
    cross = influence.T @ influence
    scale = np.sqrt(np.clip(np.diag(cross), 1e-300, None))
    corr = cross / np.outer(scale, scale)
    np.fill_diagonal(corr, 1.0)
    return np.clip(corr, -1.0, 1.0)


def _line(fit: OutcomeFit, level: float) -> _Line | None:
    cost = fit.outcome.cost
    result = fit.result
    if cost is None or result is None or fit.cumulative_unit == "not additive":
        return None
    cumulative = result.cumulative
    df = result.effect.df
    z = z_value(level, df)  # the quantile the model built its interval with
    sd = (cumulative.averted_ci_high - cumulative.averted_ci_low) / (2 * z)
    if fit.cumulative_unit == "minutes":
        hours_per_unit = 1 / 60
        pounds = cost.amount_gbp / 60 if cost.per == "hour" else 0.0
    else:
        hours_per_unit = cost.hours_per_event or 0.0
        pounds = cost.amount_gbp if cost.per == "event" else cost.amount_gbp * hours_per_unit
    return _Line(fit, float(cumulative.averted), float(sd), hours_per_unit, pounds, df)


def _interval(draws: np.ndarray, point: float, level: float) -> Interval:
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Interval(estimate=float(point), ci_low=float(low), ci_high=float(high))


def build_ledger(fits: Sequence[OutcomeFit], protocol: Protocol) -> Ledger | None:
    """The ledger of every costed outcome, or None when no outcome carries a unit cost."""
    level = protocol.decision.interval_level
    lines = [line for fit in fits if (line := _line(fit, level)) is not None]
    if not lines:
        return None
    corr = correlation([line.fit for line in lines])
    sd = np.array([line.sd for line in lines])
    mean = np.array([line.averted for line in lines])
    rng = np.random.default_rng(protocol.seed)
    draws = rng.multivariate_normal(
        np.zeros(len(lines)), corr * np.outer(sd, sd), size=DRAWS, method="eigh"
    )
    finite_df = [line.df for line in lines if line.df is not None and np.isfinite(line.df)]
    if finite_df:
        # GLS models test with Student's t: draw from the multivariate t with the smallest
        # of their degrees of freedom (conservative for the others).
        df = min(finite_df)
        draws = draws / np.sqrt(rng.chisquare(df, size=DRAWS) / df)[:, None]
    draws = draws + mean
    hours = draws * np.array([line.hours_per_unit for line in lines])
    pounds = draws * np.array([line.pounds_per_unit for line in lines])
    in_net = np.array([line.fit.outcome.cost.in_net for line in lines])  # type: ignore[union-attr]
    agencies = [line.fit.outcome.cost.agency for line in lines]  # type: ignore[union-attr]
    police = np.array([a == "police" for a in agencies]) & in_net
    others = ~np.array([a == "police" for a in agencies]) & in_net

    ledger_lines = []
    for index, line in enumerate(lines):
        cost = line.fit.outcome.cost
        assert cost is not None
        ledger_lines.append(
            LedgerLine(
                outcome=line.fit.outcome.id,
                label=line.fit.outcome.label,
                outcome_class=line.fit.outcome.outcome_class,
                agency=cost.agency,
                unit=line.fit.cumulative_unit,
                averted=_interval(draws[:, index], line.averted, level),
                hours=_interval(hours[:, index], line.averted * line.hours_per_unit, level),
                pounds=_interval(pounds[:, index], line.averted * line.pounds_per_unit, level),
                unit_cost_gbp=cost.amount_gbp,
                cost_per=cost.per,
                source=cost.source,
                in_net=cost.in_net,
            )
        )
    point_pounds = mean * np.array([line.pounds_per_unit for line in lines])
    point_hours = mean * np.array([line.hours_per_unit for line in lines])
    return Ledger(
        lines=ledger_lines,
        net_pounds=_interval(pounds[:, in_net].sum(axis=1), point_pounds[in_net].sum(), level),
        net_hours=_interval(hours[:, in_net].sum(axis=1), point_hours[in_net].sum(), level),
        police_hours_released=_interval(
            hours[:, police].sum(axis=1), point_hours[police].sum(), level
        ),
        hours_added_elsewhere=_interval(
            -hours[:, others].sum(axis=1), -point_hours[others].sum(), level
        ),
        cost_per_averted_detention=_cost_per_averted(lines, draws, pounds, in_net, protocol, level),
        correlation={
            lines[i].fit.outcome.id: {
                lines[j].fit.outcome.id: round(float(corr[i, j]), 6) for j in range(len(lines))
            }
            for i in range(len(lines))
        },
        method="Changes over the post period from each outcome's model; net totals from "
        f"{DRAWS:,} joint normal draws (multivariate t with the smallest Satterthwaite degrees "
        "of freedom where GLS models are used) whose correlation comes from the stacked "
        "month-level estimating functions of the outcome models (not a sum of independent "
        "intervals).",
    )


def _cost_per_averted(
    lines: Sequence[_Line],
    draws: np.ndarray,
    pounds: np.ndarray,
    in_net: np.ndarray,
    protocol: Protocol,
    level: float,
) -> Interval | None:
    """(Scheme cost + pounds added elsewhere) per s136 detention averted.

    The s136 line is the primary outcome's; "elsewhere" is every other costed outcome in the
    net total. Undefined (None) when the primary carries no cost line or when its interval of
    averted detentions includes zero (the ratio would have no finite interval).
    """
    primary_ids = {o.id for o in protocol.primary_outcomes}
    index = next((i for i, line in enumerate(lines) if line.fit.outcome.id in primary_ids), None)
    if index is None:
        return None
    averted = draws[:, index]
    tail = (1 - level) / 2 * 100
    if np.percentile(averted, tail) <= 0:
        return None
    months = int(lines[index].fit.result.cumulative.months)  # type: ignore[union-attr]
    scheme = (protocol.intervention.cost_gbp_per_month or 0.0) * months
    elsewhere = np.array([i != index for i in range(len(lines))]) & in_net
    cost = scheme - pounds[:, elsewhere].sum(axis=1)
    point_cost = scheme - sum(
        lines[int(i)].averted * lines[int(i)].pounds_per_unit for i in np.flatnonzero(elsewhere)
    )
    return _interval(cost / averted, point_cost / lines[index].averted, level)
