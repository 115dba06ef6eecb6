"""The whole-system ledger: where demand went, in events, hours and pounds, with one interval.

For each costed outcome the ledger takes the change over the post period from its model,
``averted = counterfactual - observed`` (positive: demand that did not happen), and converts
it with the protocol's unit cost into staff hours and pounds.

The net total needs the *joint* uncertainty of the outcomes: months that were busy for s136
were busy for A&E too, so the outcomes' errors are correlated and a sum of independent
intervals would be wrong. The correlation between two outcomes' counterfactual totals is
estimated from their models' month-level estimating functions, stacked as in seemingly
unrelated estimating equations: with ``u_it`` the influence of month ``t`` on outcome ``i``'s
post-period counterfactual total (its score times its bread times the gradient of the total;
:mod:`evaltk.estimate.its_totals`),

    corr(i, j) = sum_t u_it u_jt / sqrt(sum_t u_it^2 * sum_t u_jt^2).

Each outcome keeps its own model's standard error; only the correlation comes from the stack.
Totals and ratios (net pounds, cost per averted detention) are then read off 20,000 draws
from the joint normal distribution of the outcomes' averted totals (seeded by the protocol).

The ledger itself does not depend on the design: it reads one :class:`LedgerInput` per
outcome, from the post-period totals of its :class:`~evaltk.estimate.fit.OutcomeFit`
(:meth:`~evaltk.estimate.fit.OutcomeFit.post_totals`): an ITS's from its model's cumulative
effect and influence functions; a comparative ITS's from the treated series'
:class:`~evaltk.estimators.did.results.PostTotals`, which :mod:`evaltk.estimators.did.cits`
computes the same way (delta method through the effect, scores of the whitened difference
series for ``gls`` or of the joint GLM for ``glm``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from evaltk.estimate.fit import OutcomeFit
from evaltk.protocol.spec import Outcome, Protocol
from evaltk.results.schema import Interval, Ledger, LedgerLine

DRAWS = 20_000


@dataclass(frozen=True)
class LedgerInput:
    """What the ledger needs of one outcome's model, whatever the design.

    ``averted`` is counterfactual minus observed summed over the ``months`` post months, ``sd``
    its standard error, ``df`` the t degrees of freedom of its interval (None: normal),
    ``unit`` "events", "minutes", "units of the field" or "not additive" (left out), and
    ``month_influence`` each fitted month's influence on the counterfactual total.
    """

    outcome: Outcome
    unit: str
    averted: float
    sd: float
    df: float | None
    months: int
    month_influence: pd.Series


@dataclass(frozen=True)
class _Line:
    input: LedgerInput
    hours_per_unit: float  # hours per event, or 1/60 for minutes
    pounds_per_unit: float

    @property
    def outcome(self) -> Outcome:
        return self.input.outcome

    @property
    def averted(self) -> float:
        return self.input.averted

    @property
    def sd(self) -> float:
        return self.input.sd

    @property
    def df(self) -> float | None:
        return self.input.df


def correlation(inputs: Sequence[LedgerInput]) -> np.ndarray:
    """Correlation of the outcomes' post-period counterfactual totals (stacked sandwich)."""
    series = [item.month_influence for item in inputs]
    influence = pd.concat(series, axis=1).fillna(0.0).to_numpy()
    cross = influence.T @ influence
    scale = np.sqrt(np.clip(np.diag(cross), 1e-300, None))
    corr = cross / np.outer(scale, scale)
    np.fill_diagonal(corr, 1.0)
    return np.clip(corr, -1.0, 1.0)


def ledger_input(fit: OutcomeFit) -> LedgerInput | None:
    """An outcome's ledger input: None when it has no unit cost, no estimate, no post-period
    totals (designs without a month-by-month counterfactual) or totals that do not add up."""
    if fit.outcome.cost is None or not fit.estimated or fit.total_unit == "not additive":
        return None
    totals = fit.post_totals()
    if totals is None or not np.isfinite(totals.sd):
        return None
    return LedgerInput(
        outcome=fit.outcome,
        unit=fit.total_unit,
        averted=totals.averted,
        sd=totals.sd,
        df=totals.df,
        months=totals.months,
        month_influence=totals.month_influence,
    )


def _line(item: LedgerInput) -> _Line:
    cost = item.outcome.cost
    assert cost is not None
    if item.unit == "minutes":
        hours_per_unit = 1 / 60
        pounds = cost.amount_gbp / 60 if cost.per == "hour" else 0.0
    else:
        hours_per_unit = cost.hours_per_event or 0.0
        pounds = cost.amount_gbp if cost.per == "event" else cost.amount_gbp * hours_per_unit
    return _Line(item, hours_per_unit, pounds)


def _interval(draws: np.ndarray, point: float, level: float) -> Interval:
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Interval(estimate=float(point), ci_low=float(low), ci_high=float(high))


def build_ledger(fits: Sequence[OutcomeFit], protocol: Protocol) -> Ledger | None:
    """The ledger of every costed outcome, or None when no outcome carries a unit cost."""
    inputs = [item for fit in fits if (item := ledger_input(fit)) is not None]
    # The comparative ITS's outcomes have Satterthwaite df far apart (see ledger_from_inputs).
    own = any(fit.design == "cits" for fit in fits)
    return ledger_from_inputs(inputs, protocol, own_marginals=own)


def ledger_from_inputs(
    inputs: Sequence[LedgerInput], protocol: Protocol, own_marginals: bool = False
) -> Ledger | None:
    """The ledger of the given outcome inputs (each with a unit cost), or None if there are none.

    ``own_marginals`` (the comparative ITS): each outcome's draws follow its own Student t
    (Gaussian copula with the stacked correlation) instead of the common multivariate t with
    the smallest degrees of freedom. The GLS difference series of a comparative ITS give
    Satterthwaite df from about 2 to 70 across the outcomes of one analysis (the Right Care,
    Right Person demo: 2.5 to 66), and the smallest would widen every line far beyond its
    model's own interval (the primary's ledger line would include zero where its rate ratio's
    interval excludes 1). The ITS keeps the common multivariate t, whose numbers are fixed.
    """
    level = protocol.decision.interval_level
    lines = [_line(item) for item in inputs]
    if not lines:
        return None
    corr = correlation([line.input for line in lines])
    sd = np.array([line.sd for line in lines])
    mean = np.array([line.averted for line in lines])
    rng = np.random.default_rng(protocol.seed)
    finite_df = [line.df for line in lines if line.df is not None and np.isfinite(line.df)]
    if own_marginals:
        normal = rng.multivariate_normal(np.zeros(len(lines)), corr, size=DRAWS, method="eigh")
        draws = (
            np.column_stack([_t_scores(normal[:, i], line.df) for i, line in enumerate(lines)]) * sd
        )
    else:
        draws = rng.multivariate_normal(
            np.zeros(len(lines)), corr * np.outer(sd, sd), size=DRAWS, method="eigh"
        )
    if finite_df and not own_marginals:
        # GLS models test with Student's t: draw from the multivariate t with the smallest
        # of their degrees of freedom (conservative for the others).
        df = min(finite_df)
        draws = draws / np.sqrt(rng.chisquare(df, size=DRAWS) / df)[:, None]
    draws = draws + mean
    hours = draws * np.array([line.hours_per_unit for line in lines])
    pounds = draws * np.array([line.pounds_per_unit for line in lines])
    in_net = np.array([line.outcome.cost.in_net for line in lines])  # type: ignore[union-attr]
    agencies = [line.outcome.cost.agency for line in lines]  # type: ignore[union-attr]
    police = np.array([a == "police" for a in agencies]) & in_net
    others = ~np.array([a == "police" for a in agencies]) & in_net

    ledger_lines = []
    for index, line in enumerate(lines):
        cost = line.outcome.cost
        assert cost is not None
        ledger_lines.append(
            LedgerLine(
                outcome=line.outcome.id,
                label=line.outcome.label,
                outcome_class=line.outcome.outcome_class,
                agency=cost.agency,
                unit=line.input.unit,
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
            lines[i].outcome.id: {
                lines[j].outcome.id: round(float(corr[i, j]), 6) for j in range(len(lines))
            }
            for i in range(len(lines))
        },
        method=_method(own_marginals),
    )


def _t_scores(normal: np.ndarray, df: float | None) -> np.ndarray:
    """Standard normal draws mapped to Student t with ``df`` (unchanged for None) by their
    quantiles; each tail from its own side so that no probability rounds to 1."""
    if df is None or not np.isfinite(df):
        return normal
    upper = stats.t.isf(stats.norm.sf(normal), df)
    lower = stats.t.ppf(stats.norm.cdf(normal), df)
    return np.where(normal > 0, upper, lower)


def _method(own_marginals: bool) -> str:
    if own_marginals:
        return (
            "Changes over the post period from each outcome's comparative ITS (counterfactual "
            "minus observed in the treated series, delta method through the effect); net "
            f"totals from {DRAWS:,} joint draws, each outcome with its own Student t "
            "(Satterthwaite degrees of freedom where GLS models are used) joined by a Gaussian "
            "copula whose correlation comes from the stacked month-level estimating functions "
            "of the outcome models (not a sum of independent intervals)."
        )
    return (
        "Changes over the post period from each outcome's model; net totals from "
        f"{DRAWS:,} joint normal draws (multivariate t with the smallest Satterthwaite degrees "
        "of freedom where GLS models are used) whose correlation comes from the stacked "
        "month-level estimating functions of the outcome models (not a sum of independent "
        "intervals)."
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

    The s136 line is the primary outcome's when it counts events (the street-triage design);
    otherwise (a primary in minutes, as for Right Care, Right Person) the costed line that
    counts s136 detentions. "Elsewhere" is every other costed outcome in the net total.
    Undefined (None) when there is no such line or when its interval of averted detentions
    includes zero (the ratio would have no finite interval).
    """
    index = _detention_line(lines, protocol)
    if index is None:
        return None
    averted = draws[:, index]
    tail = (1 - level) / 2 * 100
    if np.percentile(averted, tail) <= 0:
        return None
    months = lines[index].input.months
    scheme = (protocol.intervention.cost_gbp_per_month or 0.0) * months
    elsewhere = np.array([i != index for i in range(len(lines))]) & in_net
    cost = scheme - pounds[:, elsewhere].sum(axis=1)
    point_cost = scheme - sum(
        lines[int(i)].averted * lines[int(i)].pounds_per_unit for i in np.flatnonzero(elsewhere)
    )
    return _interval(cost / averted, point_cost / lines[index].averted, level)


def _detention_line(lines: Sequence[_Line], protocol: Protocol) -> int | None:
    """Index of the line of averted s136 detentions (see :func:`_cost_per_averted`)."""
    primary_ids = {o.id for o in protocol.primary_outcomes}
    for i, line in enumerate(lines):
        if line.outcome.id in primary_ids and line.input.unit == "events":
            return i
    for i, line in enumerate(lines):
        measure = line.outcome.measure
        if line.input.unit == "events" and measure is not None and measure.where.get("s136"):
            return i
    return None
