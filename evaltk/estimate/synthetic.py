"""One treated unit against a donor pool for one outcome (design.kind synthetic_control or
synthetic_did).

The treated forces (one start date) are summed into one unit, the measure recomputed from the
sums (a region's rate is its events over its residents, not the mean of its forces' rates);
each donor is a force of ``design.synthetic.donors`` (or every force without a start date).
The outcome is the measure's value by month and the effect the average gap, treated minus
synthetic, over the months from the start (INCLUSIVE): a difference in the measure.

Inference is that of one treated unit (:mod:`evaltk.estimators.synthetic.inference`): the
p-value is the placebo in space (exact rank of the post/pre RMSPE ratio); the synthetic
control's interval inverts that rank test (every effect it does not reject), the synthetic
DiD's is the estimate plus or minus the normal quantile times the placebo standard error.
There is no large-sample standard error: with one treated unit there is no sample of treated
units for one to describe, and clustering by force has one cluster on the treated side. The
pre-trend test is the placebo in time ranked the same way: every unit fitted with a pretend
start in the months before the real one, the real post months dropped.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaltk.episodes.forces import force_name
from evaltk.errors import EstimationError
from evaltk.estimate.comparison_totals import exposure, treated_months
from evaltk.estimate.fit import OutcomeFit, PreTrend, failed, number
from evaltk.estimate.panel_frame import OutcomeFrame, summed_series
from evaltk.estimate.total_change import effect_total
from evaltk.estimators.render import format_level
from evaltk.estimators.synthetic import (
    Predictor,
    SCOptions,
    SDiDOptions,
    SyntheticData,
    SyntheticResult,
    synthetic_control,
    synthetic_data,
    synthetic_did,
)
from evaltk.estimators.synthetic.adh import fit_sc
from evaltk.estimators.synthetic.inference import GapFit, placebo_in_space
from evaltk.estimators.synthetic.sdid import fit_weighted
from evaltk.protocol.aggregates import total_unit
from evaltk.protocol.model_description import describe_model
from evaltk.protocol.spec import Protocol

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Donor weights below this are shown as zero (the simplex solvers leave dust).
SHOWN_WEIGHT = 1e-4


def donor_units(protocol: Protocol) -> list[str]:
    """The donor pool the protocol names, or every force without a start date."""
    donors = protocol.design.synthetic.donors
    return list(protocol.comparison_units) if donors == "untreated" else list(donors)


def treated_label(protocol: Protocol) -> str:
    """The treated unit's label: the force's code, or the codes joined by ``+``."""
    return "+".join(protocol.treated_units)


def _months_between(first: pd.Timestamp, later: pd.Timestamp) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def synthetic_frame(
    frame: OutcomeFrame, protocol: Protocol, others: dict[str, OutcomeFrame] | None = None
) -> tuple[pd.DataFrame, list[Predictor]]:
    """The long frame the estimators read (``unit, period, value`` and one column per
    predictor's outcome), the treated forces summed into one unit; and the predictors."""
    treated = protocol.treated_units
    label = treated_label(protocol)
    donors = donor_units(protocol)
    rows = frame.frame[frame.frame["unit"].isin(donors)][["unit", "period", "value"]]
    region = summed_series(frame, treated)[["period", "value"]].assign(unit=label)
    long = pd.concat([rows, region[["unit", "period", "value"]]], ignore_index=True)
    predictors: list[Predictor] = []
    for spec in protocol.design.synthetic.predictors:
        source = (others or {}).get(spec.outcome, frame)
        column = f"predictor_{spec.outcome}"
        if column not in long:
            values = source.frame[["unit", "period", "value"]].rename(columns={"value": column})
            long = long.merge(values, on=["unit", "period"], how="left")
        months = pd.date_range(spec.start.replace(day=1), spec.end.replace(day=1), freq="MS")
        name = protocol.outcome(spec.outcome).label
        predictors.append(
            Predictor(
                column,
                tuple(months),
                label=f"{name} ({months[0]:%Y-%m} to {months[-1]:%Y-%m})",
            )
        )
    return long, predictors


def fit_synthetic(
    frame: OutcomeFrame, protocol: Protocol, others: dict[str, OutcomeFrame] | None = None
) -> OutcomeFit:
    """Fit ``design.synthetic`` to one outcome; an estimation failure is recorded, not raised.

    ``others`` are the other outcomes' frames, which predictors may name.
    """
    kind = protocol.design.kind
    options = protocol.design.synthetic
    text = describe_model(protocol).estimator
    level = protocol.decision.interval_level
    start = pd.Timestamp(protocol.first_start().replace(day=1))
    first = pd.Timestamp(protocol.window.start.replace(day=1))
    placebo_pre = (
        _months_between(first, pd.Timestamp(options.placebo_start.replace(day=1)))
        if options.placebo_start is not None
        else None
    )
    n_units = len(donor_units(protocol)) + 1
    try:
        long, predictors = synthetic_frame(frame, protocol, others)
        data = synthetic_data(
            long,
            treated=treated_label(protocol),
            start=start,
            donors=donor_units(protocol),
            outcome="value",
            predictors=predictors,
        )
        result = _fit(
            kind, data, level, placebo_pre, options.placebo_in_time or options.leave_one_out
        )
        result = replace(
            result,
            placebo_time=result.placebo_time if options.placebo_in_time else None,
            leave_one_out=result.leave_one_out if options.leave_one_out else None,
        )
        pretrend = (
            _placebo_in_time_test(kind, data, placebo_pre) if options.placebo_in_time else None
        )
    except EstimationError as error:
        return failed(
            frame.outcome,
            frame.aggregate,
            kind,
            text,
            "difference",
            str(error),
            n_units=n_units,
            n_periods=frame.frame["period"].nunique(),
            note=frame.note,
        )
    effect = result.headline
    fit = OutcomeFit(
        outcome=frame.outcome,
        aggregate=frame.aggregate,
        design=kind,
        estimator=text,
        scale="difference",
        n_units=data.n_donors + 1,
        n_periods=len(data.periods),
        effect=effect,
        result=result,
        inference="placebo",
        inference_text=inference_text(result),
        pretrend=pretrend,
        baseline=number(np.mean(data.treated_series[: data.n_pre])),
        figure=lambda: _paths_figure(result),
        figures={"placebo": lambda: _placebo_figure(result)},
        figure_data=_figure_data(result),
        effects=_effects(result),
        synthetic=synthetic_record(result),
        note=frame.note,
    )
    return with_synthetic_change(fit, frame, protocol.treated_units, data.n_post)


def _fit(
    kind: str, data: SyntheticData, level: float, placebo_pre: int | None, robustness: bool
) -> SyntheticResult:
    if kind == "synthetic_did":
        return synthetic_did(
            data, SDiDOptions(), level=level, placebo_time_pre=placebo_pre, robustness=robustness
        )
    return synthetic_control(
        data, SCOptions(), level=level, placebo_time_pre=placebo_pre, robustness=robustness
    )


def _fitter(kind: str) -> Any:
    if kind == "synthetic_did":
        options = SDiDOptions()
        return lambda d: fit_weighted(d, "sdid", options)
    sc = SCOptions()
    return lambda d: fit_sc(d, sc)


def _placebo_in_time_test(kind: str, data: SyntheticData, n_pre: int | None) -> PreTrend:
    """The placebo in time as a test: with the start moved back (real post months dropped),
    the treated unit's post/pre RMSPE ratio ranked among every unit's, as the placebo in space
    ranks it at the real start. A small p-value: the synthetic unit stopped tracking the
    treated one before the scheme began, so its gap after the start is not the scheme's alone."""
    fitter = _fitter(kind)
    n_pre = data.n_pre // 2 if n_pre is None else n_pre
    pretend = data.truncated(data.n_pre, n_pre)
    fit: GapFit = fitter(pretend)
    space = placebo_in_space(pretend, fitter, fit)
    return PreTrend(
        statistic=float(space.ratios[0]),
        df=None,
        p_value=space.p_value,
        method="placebo",
        text=(
            f"placebo in time: pretend start {pretend.start:%Y-%m}, the treated unit's "
            f"post/pre RMSPE ratio ranked {space.rank} of {len(space.units)} among every "
            "unit fitted the same way (exact rank p-value)"
        ),
    )


def inference_text(result: SyntheticResult) -> str:
    """How the interval and the p-value were obtained, and why not large-sample errors."""
    space = result.placebo_space
    n = len(space.units)
    return (
        f"placebo in space: each of the {n - 1} donors treated in turn against all the other "
        f"forces; the p-value is the treated unit's rank ({space.rank} of {n}) by the ratio of "
        "post- to pre-start RMSPE (exact if the treated force was no likelier than any other "
        f"to be the one treated; the smallest it can be is 1/{n} = {1 / n:.3f}); the "
        f"{format_level(result.level)} interval "
        + (
            "is every effect that same rank test does not reject (the treated force's gaps "
            "after the start less that effect, ranked again), so it excludes no change exactly "
            "when the p-value is below the significance level. No large-sample "
            if result.inverts_rank_test
            else "is the estimate ± the normal quantile × the placebo standard error (the "
            "spread of the donors' placebo estimates, Arkhangelsky et al.); near the "
            "significance level it can disagree with the rank p-value. No large-sample "
        )
        + "standard error is used: with one treated unit there is no sample of treated units "
        "for one to describe."
    )


def with_synthetic_change(
    fit: OutcomeFit, frame: OutcomeFrame, treated: list[str], n_post: int
) -> OutcomeFit:
    """``fit`` with the change over the treated force-months: the average gap (per month, on
    the summed unit's measure) times the summed unit's exposure over the months from the
    start (population / 100,000 for a rate, episodes for a share or mean, one per month for
    a count)."""
    if fit.effect is None:
        return fit
    rows = treated_months(frame, treated)
    if rows.empty:
        return fit
    amount = exposure(frame, rows, summed=True)
    # Force-months: the summed unit's months from the start in each treated force (the
    # scheme's running cost is charged per force and month, as for the other designs).
    change = effect_total(fit.effect, amount, n_post * len(treated))
    return replace(fit, change=change, total_unit=total_unit(fit.outcome, fit.aggregate, True))


# -- what results.json and the chapter read -----------------------------------------------------


def _name(unit: object) -> str:
    return "+".join(force_name(u) for u in str(unit).split("+"))


def synthetic_record(result: SyntheticResult) -> dict[str, Any]:
    """The fit as results.json's ``synthetic`` block: weights by force, the pre-period fit,
    every placebo and the robustness checks."""
    data = result.data
    space = result.placebo_space
    table = space.table()
    pre = float(np.sqrt(np.mean(result.gaps[: data.n_pre] ** 2)))
    post = float(np.sqrt(np.mean(result.gaps[data.n_pre :] ** 2)))
    weights = result.donor_weights()
    record: dict[str, Any] = {
        "method": result.method,
        "treated": data.treated,
        "treated_name": _name(data.treated),
        "n_donors": data.n_donors,
        "n_pre": data.n_pre,
        "n_post": data.n_post,
        "pre_rmspe": pre,
        "post_rmspe": post,
        "treated_mean_pre": float(np.mean(data.treated_series[: data.n_pre])),
        "rank": space.rank,
        "placebo_se": number(result.placebo_se),
        "weights": [
            {
                "unit": str(unit),
                "name": _name(unit),
                "weight": float(w) if w > SHOWN_WEIGHT else 0.0,
            }
            for unit, w in weights.items()
        ],
        "placebos": [
            {
                "unit": str(row.unit),
                "name": _name(row.unit),
                "role": row.role,
                "estimate": number(row.estimate),
                "pre_rmspe": number(row.pre_rmspe),
                "post_rmspe": number(row.post_rmspe),
                "ratio": number(row.ratio),
                "rank": int(row.rank),  # type: ignore[arg-type]
            }
            for row in table.itertuples()
        ],
        "placebo_in_time": None,
        "leave_one_out": None,
        "predictors": [],
    }
    if result.placebo_time is not None:
        record["placebo_in_time"] = {
            "start": f"{pd.Timestamp(result.placebo_time.start):%Y-%m-%d}",
            "estimate": number(result.placebo_time.estimate),
            "rmspe_ratio": number(result.placebo_time.rmspe_ratio),
        }
    loo = result.leave_one_out
    if loo is not None and loo.estimates.size:
        record["leave_one_out"] = [
            {"unit": str(u), "name": _name(u), "estimate": number(e)}
            for u, e in zip(loo.donors, loo.estimates, strict=True)
        ]
    balance = result.predictor_balance()
    if balance is not None:
        record["predictors"] = [
            {
                "predictor": str(row.predictor),
                "treated": number(row.treated),
                "synthetic": number(row.synthetic),
                "donor_mean": number(row.donor_mean),
                "weight": number(row.v),
            }
            for row in balance.itertuples()
        ]
    return record


def _figure_data(result: SyntheticResult) -> dict[str, pd.DataFrame]:
    """What the two figures plot, for disclosure control by ``evaltk book``.

    The treated series is observed (checked against its count by month); the synthetic one is
    a weighted mix of other forces, modelled. The treated unit's placebo gap is its observed
    value minus the synthetic one shown beside it, so it carries the treated count too: a
    month suppressed in one figure is suppressed in both. The donors' gaps (their synthetic
    forces are not published) are modelled.
    """
    data = result.data
    periods = pd.to_datetime(pd.Index(data.periods))
    post = periods >= pd.Timestamp(data.start)

    def rows(group: str, values: np.ndarray, unit: str) -> pd.DataFrame:
        return pd.DataFrame(
            {"period": periods, "group": group, "observed": values, "post": post, "unit": unit}
        )

    space = result.placebo_space
    main = pd.concat(
        [
            rows("treated", data.treated_series, data.treated),
            rows("synthetic", result.synthetic, ""),
        ],
        ignore_index=True,
    )
    placebo = pd.concat(
        [rows("treated", space.gaps[0], space.units[0])]
        + [
            rows("placebo", gap, unit)
            for unit, gap in zip(space.units[1:], space.gaps[1:], strict=True)
        ],
        ignore_index=True,
    )
    return {"main": main, "placebo": placebo}


def _effects(result: SyntheticResult) -> pd.DataFrame:
    tidy = result.tidy()
    tidy.insert(0, "kind", ["headline", *tidy["term"].iloc[1:]])
    weights = result.donor_weights().reset_index()
    weights = pd.DataFrame(
        {
            "kind": "donor_weight",
            "term": weights["donor"].astype(str),
            "estimate": weights["weight"],
        }
    )
    space = result.placebo_space.table().rename(columns={"unit": "term"})
    space.insert(0, "kind", "placebo_in_space")
    return pd.concat([tidy, weights, space], ignore_index=True)


def _paths_figure(result: SyntheticResult) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    name = _name(result.data.treated)
    result.plot(ax=ax)
    for line, label in zip(ax.get_lines()[:2], (name, f"synthetic {name}"), strict=True):
        line.set_label(label)
    ax.set_xlabel("month")
    ax.legend(loc="best", fontsize="small", frameon=False)
    return fig, ax


def _placebo_figure(result: SyntheticResult) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    result.plot_placebos(ax=ax)
    ax.get_lines()[-3].set_label(_name(result.data.treated))
    ax.set_xlabel("month")
    ax.legend(loc="best", fontsize="small", frameon=False)
    return fig, ax
