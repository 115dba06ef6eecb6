"""Panel + protocol -> one comparison-design fit per outcome, and each fit as results.json
reads it (did, event_study, staggered_did, cits; the ITS stays in :mod:`estimate`).

:func:`fit_designs` dispatches on ``design.kind``; :func:`outcome_result` turns a
:class:`~evaltk.analysis.design_fit.DesignFit` into an :class:`OutcomeResult` (the verdict
and the multiplicity correction then read it as they read an ITS outcome);
:func:`draw_figures` writes its figures; :func:`effects_table` the tidy ``effects.csv``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaltk.analysis.design_fit import FIGURE_KINDS, DesignFit, number
from evaltk.analysis.estimate import finite_or_none
from evaltk.analysis.estimate_cits import fit_cits
from evaltk.analysis.estimate_did import fit_did, fit_event_study
from evaltk.analysis.estimate_staggered import fit_staggered
from evaltk.analysis.panel_frame import OutcomeFrame, bin_periods, outcome_frame
from evaltk.measures.panel import Panel
from evaltk.protocol.spec import Protocol
from evaltk.results.schema import EventTimeEffect, FigureFile, OutcomeResult, PreTrendTest
from evaltk.verdict.equivalence import equivalence_fields

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: What a comparison design says instead of the ledger, which needs an ITS counterfactual.
LEDGER_NOTE = (
    "The whole-system ledger (hours and pounds) is computed from an interrupted time series' "
    "month-by-month counterfactual; it is not computed for the {design} design."
)


def fit_designs(panel: Panel, protocol: Protocol) -> list[DesignFit]:
    """Fit the protocol's comparison design to every outcome, in protocol order."""
    kind = protocol.design.kind
    frames = {o.id: outcome_frame(panel, protocol, o) for o in protocol.outcomes}
    if kind == "did":
        return [fit_did(frames[o.id], protocol) for o in protocol.outcomes]
    if kind == "event_study":
        return [fit_event_study(frames[o.id], protocol) for o in protocol.outcomes]
    if kind == "cits":
        return [fit_cits(frames[o.id], protocol) for o in protocol.outcomes]
    if kind == "staggered_did":
        covariates = _covariate_frames(frames, protocol)
        cache: dict[object, float] = {}
        return [fit_staggered(frames[o.id], protocol, covariates, cache) for o in protocol.outcomes]
    raise ValueError(f"design {kind!r} is not a comparison design")


def _covariate_frames(
    frames: dict[str, OutcomeFrame], protocol: Protocol
) -> dict[str, pd.DataFrame]:
    options = protocol.design.staggered
    out: dict[str, pd.DataFrame] = {}
    for name in options.covariates:
        if name == "population":
            rate = next(f for f in frames.values() if f.aggregate == "rate")
            binned = bin_periods(rate, options.period_bin)
            out[name] = binned.assign(value=binned["denominator"] / binned["months"])
        else:
            out[name] = bin_periods(frames[name], options.period_bin)
    return out


def raw_p_value(fit: DesignFit) -> float | None:
    return fit.p_value if fit.estimated else None


def outcome_result(fit: DesignFit, protocol: Protocol, p_adjusted: float | None) -> OutcomeResult:
    """The results.json entry of one comparison-design fit."""
    outcome = fit.outcome
    margin = outcome.margin or protocol.decision.minimum_important_change
    common = {
        "outcome": outcome.id,
        "label": outcome.label,
        "role": outcome.role,
        "outcome_class": outcome.outcome_class,
        "direction": outcome.direction,
        "aggregate": fit.aggregate,
        "design": fit.design,
        "estimator": fit.estimator,
        "scale": fit.scale,
        "n_units": fit.n_units,
        "n_periods": fit.n_periods,
        "note": fit.note,
        "slope_change": None,
        "trend_per_year": None,
        "cumulative": None,
        "diagnostics": None,
    }
    if not fit.estimated:
        return OutcomeResult(
            **common,
            estimate=None,
            ci_low=None,
            ci_high=None,
            p_value=None,
            p_adjusted=None,
            figure=None,
        )
    return OutcomeResult(
        **common,
        **equivalence_fields(
            fit.estimate, fit.std_error, fit.scale, outcome.direction, margin, fit.df
        ),
        estimate=fit.estimate,
        ci_low=fit.ci_low,
        ci_high=fit.ci_high,
        p_value=fit.p_value,
        p_adjusted=p_adjusted,
        std_error=fit.std_error,
        df=finite_or_none(fit.df),
        inference=fit.inference,
        inference_text=fit.inference_text,
        n_clusters=fit.n_clusters,
        pretrend=_pretrend(fit),
        event_time=_event_time(fit.event_time),
        event_time_unit=fit.event_time_unit,
        baseline=fit.baseline,
        figure=f"figures/{outcome.id}.png" if fit.figure is not None else None,
        figures=[
            FigureFile(kind=kind, path=f"figures/{outcome.id}-{kind.replace('_', '-')}.png")
            for kind in FIGURE_KINDS
            if kind in fit.figures
        ],
    )


def _pretrend(fit: DesignFit) -> PreTrendTest | None:
    test = fit.pretrend
    if test is None:
        return None
    return PreTrendTest(
        statistic=number(test.statistic),
        df=test.df,
        p_value=number(test.p_value),
        method=test.method,
        text=test.text,
    )


def _event_time(table: pd.DataFrame | None) -> list[EventTimeEffect]:
    if table is None:
        return []
    return [
        EventTimeEffect(
            event_time=int(row["event_time"]),
            estimate=number(row["estimate"]),
            ci_low=number(row["ci_low"]),
            ci_high=number(row["ci_high"]),
            p_value=number(row["p_value"]),
            kind=row["kind"],
        )
        for row in table.to_dict("records")
    ]


def draw_figures(
    fit: DesignFit,
    result: OutcomeResult,
    folder: Path,
    save: Callable[[Figure, Path], None],
) -> None:
    """Draw an outcome's main and extra figures where ``result`` says they are."""
    if fit.figure is not None and result.figure is not None:
        fig, ax = fit.figure()
        ax.set_title(fit.outcome.label)
        save(fig, folder / Path(result.figure).name)
    for extra in result.figures:
        fig, ax = fit.figures[extra.kind]()
        ax.set_title(fit.outcome.label)
        save(fig, folder / Path(extra.path).name)


def effects_table(fits: list[DesignFit]) -> pd.DataFrame:
    """Every fit's tidy effects (headline, event-time, ATT(g,t)) with the outcome id first."""
    frames = []
    for fit in fits:
        if fit.effects is None or not fit.estimated:
            continue
        table = fit.effects.copy()
        table.insert(0, "outcome", fit.outcome.id)
        frames.append(table)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    return out.replace([np.inf, -np.inf], np.nan)
