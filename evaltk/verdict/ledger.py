"""The whole-system ledger: where demand went, in events, hours and pounds, with one interval.

For each costed outcome the ledger reads the change over the treated force-months that its
headline effect implies (:class:`~evaltk.estimate.total_change.TotalChange`): for a ratio,
the total with the scheme (observed, or the model's fit) times one over the ratio minus one,
so that the uncertain counterfactual is what moves across the interval; for a difference (the
DiD-type designs' ATT on the measure's scale), minus the difference times the treated
force-months' exposure.
Each line's events, hours and pounds are that map applied to the effect's estimate and to the
ends of its interval, so they agree in sign and significance with the effect (same model,
same reference distribution). The unit cost converts events or minutes into staff hours and
pounds.

One accounting of time: an outcome whose cost says ``part_of: OTHER`` (police minutes waiting
at hospital are part of officer minutes) is shown under OTHER and kept out of every total, so
that police time is counted once. The summary lines (police hours released, hours added for
other agencies, net hours, net pounds) are sums over the same lines, of the same draws.

The totals need the *joint* uncertainty of the outcomes: months that were busy for s136 were
busy for A&E too. Where the design gives month-level estimating functions (ITS, comparative
ITS), the correlation between two outcomes' totals comes from them, stacked as in seemingly
unrelated estimating equations: with ``u_it`` the influence of month ``t`` on outcome ``i``'s
post-period total (:mod:`evaltk.estimate.its_totals`),

    corr(i, j) = sum_t u_it u_jt / sqrt(sum_t u_it^2 * sum_t u_jt^2).

The other designs give no such functions and their outcomes are drawn independently (the
method text says so). Totals and ratios are read off 20,000 draws (seeded by the protocol):
a Gaussian copula with that correlation, each outcome's effect drawn from its own reference
distribution (normal, or Student t with its degrees of freedom) scaled separately below and
above the estimate so that its draws reproduce the effect's interval exactly, then mapped to
events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from evaltk.estimate.fit import OutcomeFit
from evaltk.estimate.total_change import TotalChange
from evaltk.estimators.effect import critical_value
from evaltk.protocol.prices import DEFLATOR_SOURCE, price_factor, unit_rates
from evaltk.protocol.spec import Outcome, Protocol, UnitCost
from evaltk.results.schema import Interval, Ledger, LedgerLine

DRAWS = 20_000


@dataclass(frozen=True)
class LedgerInput:
    """What the ledger needs of one outcome's model, whatever the design: the outcome, what its
    total counts (``events``, ``minutes`` or ``units of the field``) and the change over the
    treated force-months that its effect implies."""

    outcome: Outcome
    unit: str
    change: TotalChange

    @property
    def averted(self) -> float:
        return self.change.interval[0]

    @property
    def months(self) -> int:
        return self.change.force_months


@dataclass(frozen=True)
class _Line:
    input: LedgerInput
    hours_per_unit: float  # hours per event, or 1/60 for minutes
    pounds_per_unit: float

    @property
    def outcome(self) -> Outcome:
        return self.input.outcome

    @property
    def cost(self) -> UnitCost:
        cost = self.input.outcome.cost
        assert cost is not None
        return cost

    @property
    def in_net(self) -> bool:
        """Counted in the totals: not part of another line, and not kept out by ``in_net``."""
        return self.cost.in_net and self.cost.part_of is None


def correlation(inputs: Sequence[LedgerInput]) -> np.ndarray:
    """Correlation of the outcomes' totals from their stacked month influences; zero between
    outcomes where either has none (designs without month-level estimating functions)."""
    n = len(inputs)
    corr = np.eye(n)
    known = [i for i, item in enumerate(inputs) if item.change.month_influence is not None]
    if len(known) > 1:
        series = [inputs[i].change.month_influence for i in known]
        influence = pd.concat(series, axis=1).fillna(0.0).to_numpy()
        cross = influence.T @ influence
        scale = np.sqrt(np.clip(np.diag(cross), 1e-300, None))
        block = np.clip(cross / np.outer(scale, scale), -1.0, 1.0)
        np.fill_diagonal(block, 1.0)
        corr[np.ix_(known, known)] = block
    return corr


def ledger_input(fit: OutcomeFit) -> LedgerInput | None:
    """An outcome's ledger input: None when it has no unit cost, no estimate, or a total that
    does not add up over months."""
    if fit.outcome.cost is None or not fit.estimated or fit.total_unit == "not additive":
        return None
    change = fit.total_change()
    if change is None or not change.finite:
        return None
    return LedgerInput(outcome=fit.outcome, unit=fit.total_unit, change=change)


def _line(item: LedgerInput, price_year: str | None) -> _Line:
    cost = item.outcome.cost
    assert cost is not None
    return _Line(item, *unit_rates(cost, item.unit, price_year))


def _interval(draws: np.ndarray, point: float, level: float) -> Interval:
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Interval(estimate=float(point), ci_low=float(low), ci_high=float(high))


def _scaled(change: TotalChange, factor: float) -> Interval:
    """The line's exact interval (the effect's interval mapped to events) times ``factor``."""
    point, low, high = change.interval
    ends = sorted((low * factor, high * factor))
    return Interval(estimate=point * factor, ci_low=ends[0] + 0.0, ci_high=ends[1] + 0.0)


def effect_draws(change: TotalChange, scores: np.ndarray) -> np.ndarray:
    """Draws of the effect ``theta`` from standard normal ``scores``: mapped to the effect's
    reference distribution (Student t with its df, or normal) and scaled separately above and
    below the estimate, so that the draws' ``level`` quantiles are the effect's interval ends."""
    t = _t_scores(scores, change.df)
    crit = critical_value(change.level, change.df)
    upper = (change.theta_high - change.theta) / crit
    lower = (change.theta - change.theta_low) / crit
    return change.theta + np.where(t > 0, t * upper, t * lower)


def build_ledger(fits: Sequence[OutcomeFit], protocol: Protocol) -> Ledger | None:
    """The ledger of every costed outcome, or None when no outcome carries a unit cost."""
    inputs = [item for fit in fits if (item := ledger_input(fit)) is not None]
    return ledger_from_inputs(inputs, protocol)


def ledger_from_inputs(inputs: Sequence[LedgerInput], protocol: Protocol) -> Ledger | None:
    """The ledger of the given outcome inputs (each with a unit cost), or None if there are
    none. Lines whose ``part_of`` names an outcome that is not in the ledger are kept out of
    the totals all the same (they are already inside that outcome)."""
    level = protocol.decision.interval_level
    price_year = protocol.decision.price_year
    lines = [_line(item, price_year) for item in inputs]
    if not lines:
        return None
    corr = correlation([line.input for line in lines])
    rng = np.random.default_rng(protocol.seed)
    normal = rng.multivariate_normal(np.zeros(len(lines)), corr, size=DRAWS, method="eigh")
    draws = np.column_stack(
        [
            np.asarray(line.input.change.averted(effect_draws(line.input.change, normal[:, i])))
            for i, line in enumerate(lines)
        ]
    )
    hours = draws * np.array([line.hours_per_unit for line in lines])
    pounds = draws * np.array([line.pounds_per_unit for line in lines])
    in_net = np.array([line.in_net for line in lines])
    police = np.array([line.cost.agency == "police" for line in lines]) & in_net
    others = ~np.array([line.cost.agency == "police" for line in lines]) & in_net

    ledger_lines = [
        LedgerLine(
            outcome=line.outcome.id,
            label=line.outcome.label,
            outcome_class=line.outcome.outcome_class,
            agency=line.cost.agency,
            unit=line.input.unit,
            averted=_scaled(line.input.change, 1.0),
            hours=_scaled(line.input.change, line.hours_per_unit),
            pounds=_scaled(line.input.change, line.pounds_per_unit),
            unit_cost_gbp=line.cost.amount_gbp,
            cost_per=line.cost.per,
            source=line.cost.source,
            price_year=line.cost.price_year,
            uprated_unit_cost_gbp=(
                round(line.cost.amount_gbp * price_factor(line.cost, price_year), 2)
                if price_year is not None and line.cost.price_year is not None
                else None
            ),
            in_net=bool(line.in_net),
            part_of=line.cost.part_of,
            force_months=line.input.months,
        )
        for line in lines
    ]
    point = np.array([line.input.averted for line in lines])
    point_pounds = point * np.array([line.pounds_per_unit for line in lines])
    point_hours = point * np.array([line.hours_per_unit for line in lines])
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
        method=_method(all(line.input.change.month_influence is not None for line in lines)),
        price_year=price_year,
        prices=_prices_text(
            lines, price_year, protocol.intervention.cost_gbp_per_month is not None
        ),
    )


def _prices_text(lines: Sequence[_Line], price_year: str | None, scheme_cost: bool) -> str:
    """The ledger's price base in one sentence, naming the costs left as they are."""
    as_given = sorted({line.outcome.label for line in lines if line.cost.price_year is None})
    if price_year is None:
        return (
            "Pounds are at each unit cost's own price base (shown beside it); none is uprated, "
            "so lines from different years are not strictly comparable."
        )
    kept = (
        " Not uprated (illustrative, with no price year): " + "; ".join(as_given) + "."
        if as_given
        else ""
    )
    scheme = (
        f" The scheme's running cost is taken as given, at {price_year} prices."
        if scheme_cost
        else ""
    )
    return (
        f"All pounds are at {price_year} prices: each unit cost is uprated from its own price "
        f"year by the GDP deflator ({DEFLATOR_SOURCE}).{scheme}{kept}"
    )


def _t_scores(normal: np.ndarray, df: float | None) -> np.ndarray:
    """Standard normal draws mapped to Student t with ``df`` (unchanged for None) by their
    quantiles; each tail from its own side so that no probability rounds to 1."""
    if df is None or not np.isfinite(df):
        return normal
    upper = stats.t.isf(stats.norm.sf(normal), df)
    lower = stats.t.ppf(stats.norm.cdf(normal), df)
    return np.where(normal > 0, upper, lower)


def _method(correlated: bool) -> str:
    joint = (
        "joined by a Gaussian copula whose correlation comes from the stacked month-level "
        "estimating functions of the outcome models (not a sum of independent intervals)"
        if correlated
        else "drawn independently of one another (this design gives no month-level estimating "
        "functions to correlate them)"
    )
    return (
        "Each line is its outcome's headline effect turned into a change over the treated "
        "force-months (ratio: the total with the scheme times one over the ratio minus one, "
        "the counterfactual being what is uncertain; difference: "
        "the difference times the treated force-months' exposure), at the effect's estimate "
        "and interval ends, so events, hours and pounds agree with the effect. Lines that are "
        "part of another (part_of) are shown but not added. Totals from "
        f"{DRAWS:,} draws, each outcome's effect from its own reference distribution, {joint}."
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

    The scheme cost is ``intervention.cost_gbp_per_month`` per force and month, times the s136
    line's treated force-months: every design counts them the same way (each treated force's
    months from its start; an ITS or comparative ITS of several forces added up counts each).

    The s136 line is the primary outcome's when it counts events (the street-triage design);
    otherwise (a primary in minutes, as for Right Care, Right Person) the costed line that
    counts s136 detentions. "Elsewhere" is every other costed outcome in the net total.
    Undefined (None) when there is no such line or when its interval of averted detentions
    includes zero (the ratio would have no finite interval).
    """
    index = _detention_line(lines, protocol)
    if index is None:
        return None
    _, low, _ = lines[index].input.change.interval
    if low <= 0:
        return None
    averted = draws[:, index]
    months = lines[index].input.months
    scheme = (protocol.intervention.cost_gbp_per_month or 0.0) * months
    elsewhere = np.array([i != index for i in range(len(lines))]) & in_net
    cost = scheme - pounds[:, elsewhere].sum(axis=1)
    point_cost = scheme - sum(
        lines[int(i)].input.averted * lines[int(i)].pounds_per_unit
        for i in np.flatnonzero(elsewhere)
    )
    return _interval(cost / averted, point_cost / lines[index].input.averted, level)


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
