"""Panel + protocol -> one :class:`~evaltk.estimate.fit.OutcomeFit` per outcome, whatever the
design: :func:`fit_outcomes` dispatches on ``design.kind`` to the design's module
(:mod:`~evaltk.estimate.its`, :mod:`~evaltk.estimate.did`, :mod:`~evaltk.estimate.cits`,
:mod:`~evaltk.estimate.staggered`, :mod:`~evaltk.estimate.synthetic`,
:mod:`~evaltk.estimate.stepped_wedge`)."""

from __future__ import annotations

import pandas as pd

from evaltk.estimate.cits import fit_cits
from evaltk.estimate.did import fit_did, fit_event_study
from evaltk.estimate.fit import OutcomeFit
from evaltk.estimate.its import fit_all
from evaltk.estimate.panel_frame import OutcomeFrame, bin_periods, outcome_frame
from evaltk.estimate.staggered import fit_staggered
from evaltk.estimate.stepped_wedge import fit_stepped_wedge
from evaltk.estimate.synthetic import fit_synthetic
from evaltk.measures.panel import Panel
from evaltk.protocol.spec import Protocol


def fit_outcomes(panel: Panel, protocol: Protocol) -> list[OutcomeFit]:
    """Fit the protocol's design to every outcome, in protocol order.

    Parameters
    ----------
    panel : Panel
        The unit x month measures of every outcome.
    protocol : Protocol
        Its ``design`` says which model, its ``decision`` the interval level.

    Returns
    -------
    list of OutcomeFit
        One per outcome; an outcome that could not be fitted carries its ``error``.
    """
    kind = protocol.design.kind
    if kind == "its":
        return fit_all(panel, protocol)
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
    if kind in ("synthetic_control", "synthetic_did"):
        return [fit_synthetic(frames[o.id], protocol, frames) for o in protocol.outcomes]
    if kind == "stepped_wedge":
        return [fit_stepped_wedge(frames[o.id], protocol) for o in protocol.outcomes]
    raise ValueError(f"design {kind!r} is not known")


def _covariate_frames(
    frames: dict[str, OutcomeFrame], protocol: Protocol
) -> dict[str, pd.DataFrame]:
    options = protocol.design.staggered
    out: dict[str, pd.DataFrame] = {}
    for name in options.covariates:
        if name == "population":
            rate = next(f for f in frames.values() if f.kind.per_population)
            binned = bin_periods(rate, options.period_bin)
            out[name] = binned.assign(value=binned["denominator"] / binned["months"])
        else:
            out[name] = bin_periods(frames[name], options.period_bin)
    return out
