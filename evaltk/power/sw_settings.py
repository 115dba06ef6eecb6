"""Stepped-wedge power settings of a protocol (design.kind stepped_wedge): the trial's own
layout, and the ICC, cluster autocorrelation, trend and cluster sizes from its pre-trial data.

The layout follows the analysis (:func:`evaltk.estimate.stepped_wedge.design_periods`): a
design period is ``step_months`` months, so one period a step; the window's blocks before
``first_start`` are the baseline periods and those after the last step's own block are
``after_periods`` with every cluster treated. Where the analysis's data file exists, the
primary outcome's counts in the complete baseline periods (clusters × periods, nothing after
``first_start`` is read) give the variance components and trend
(:func:`evaltk.power.sw_history.estimate_components`) and each cluster's expected count;
otherwise ``--baseline`` and ``--icc`` must be given.

The registered test is rebuilt as the analysis runs it: the scheme of ``design.trial`` (groups
starting together, restricted randomisation), ``design.stepped_wedge.permutations`` reference
schedules from the protocol's seed, the registered model (``auto`` read from the expected
counts), and the drawn schedule (before the draw, one the scheme could draw).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evaltk.errors import PowerError
from evaltk.estimators.stepped_wedge.scheme import draw_schedule, trial_scheme
from evaltk.power.from_protocol import default_effects
from evaltk.power.stepped_wedge import SteppedWedgePowerSettings
from evaltk.power.sw_history import estimate_components
from evaltk.protocol import LoadedProtocol
from evaltk.protocol.trial import LOG_RATE_MIN_COUNT

#: Options of ``evaltk power`` that the stepped-wedge simulation has no use for.
_UNUSED = ("months_after", "overdispersion_cv", "ar_rho", "ar_sd")


def _months(first: Any, later: Any) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def trial_layout(loaded: LoadedProtocol) -> dict[str, int]:
    """Baseline, per-step and after periods of the trial's window, as the analysis forms them."""
    protocol = loaded.protocol
    trial = protocol.design.trial
    assert trial is not None  # a stepped_wedge protocol always has its trial block
    window = protocol.window
    months = trial.step_months
    before = _months(window.start, trial.first_start)
    from_first = _months(trial.first_start, window.end) + 1
    baseline = -(-before // months)
    after = -(-from_first // months) - trial.steps
    if baseline < 1 or after < 0:
        raise PowerError(
            f"{loaded.path}: the window {window.start} to {window.end} must start before "
            f"design.trial.first_start ({trial.first_start}) and run to the last step's start "
            f"({trial.last_start}) at least"
        )
    return {"baseline_periods": baseline, "periods_per_step": 1, "after_periods": after}


def registered_test(loaded: LoadedProtocol, seed: int) -> tuple[dict[str, Any], str]:
    """The randomisation test's scheme as settings (clusters in the order listed, as
    :func:`evaltk.estimators.stepped_wedge.scheme.trial_scheme` numbers them) and the observed
    schedule: the drawn one, or, before the draw, one the scheme could draw."""
    protocol = loaded.protocol
    trial = protocol.design.trial
    assert trial is not None
    scheme = trial_scheme(trial)
    values: dict[str, Any] = {
        "together": scheme.groups,
        "balance": None if scheme.balance is None else tuple(map(tuple, scheme.balance)),
        "max_imbalance": scheme.max_imbalance,
        "candidates": scheme.candidates,
        "permutations": protocol.design.stepped_wedge.permutations,
    }
    if trial.schedule is not None:
        values["schedule"] = tuple(int(trial.schedule[n]) for n in trial.names)
        return values, "the drawn schedule"
    try:
        drawn, _ = draw_schedule(scheme, seed, seed)
    except ValueError as error:
        raise PowerError(f"{loaded.path}: design.trial.restricted: {error}") from None
    values["schedule"] = tuple(int(k) for k in drawn)
    return values, "not drawn yet: one schedule the scheme could draw (the protocol's seed)"


def registered_model(loaded: LoadedProtocol, counts: tuple[float, ...]) -> tuple[str, str]:
    """The model whose statistic the registered test uses; ``auto`` as the analysis chooses
    it, here from the smallest expected count of a cluster-period."""
    model = loaded.protocol.design.stepped_wedge.model
    if model != "auto":
        return model, f"model {model} as registered"
    if min(counts) >= LOG_RATE_MIN_COUNT:
        return "log_rate", f"model auto: log_rate (expected counts at least {LOG_RATE_MIN_COUNT})"
    return "poisson", f"model auto: poisson (an expected count below {LOG_RATE_MIN_COUNT})"


def baseline_table(loaded: LoadedProtocol) -> tuple[pd.DataFrame, pd.Series, str] | None:
    """Primary-outcome counts, clusters × complete baseline periods (of a cluster of mean
    population, for a rate), each cluster's mean count a period, and where they came from;
    ``None`` without the analysis's data file."""
    protocol = loaded.protocol
    trial = protocol.design.trial
    assert trial is not None
    path = loaded.folder / protocol.data.path
    if not path.exists():
        return None
    from evaltk.estimate.stepped_wedge import design_periods
    from evaltk.measures import build_panel

    outcome = protocol.primary_outcomes[0]
    frame = build_panel(protocol, loaded.folder).frame
    rows = frame[
        (frame["outcome"] == outcome.id)
        & (frame["period"] < pd.Timestamp(trial.first_start))
        & frame["unit"].isin(trial.names)
    ].copy()
    missing = sorted(set(trial.names) - set(rows["unit"]))
    if missing:
        raise PowerError(
            f"{path}: no rows before {trial.first_start} for cluster(s) {', '.join(missing)}; "
            "every cluster of design.trial needs its pre-trial months"
        )
    rows["block"] = design_periods(rows["period"], trial)
    # A block short of step_months months (the window starting mid-block) would look small.
    months = rows.groupby("block")["period"].nunique()
    complete = months[months == trial.step_months].index
    rows = rows[rows["block"].isin(complete)]
    if rows.empty:
        return None
    table = rows.pivot_table(
        index="unit", columns="block", values="numerator", aggfunc=lambda s: s.sum(min_count=len(s))
    ).reindex(trial.names)
    counts = table
    # Per population: the clusters' counts brought to a common size, so that the ICC is that
    # of the rate (as the analysis models it), not of the clusters' populations.
    size = rows.groupby("unit")["denominator"].mean().reindex(trial.names)
    if size.notna().all() and (size > 0).all():
        table = table.mul(size.mean() / size, axis=0)
    first, last = (p.strftime("%Y-%m") for p in (rows["period"].min(), rows["period"].max()))
    where = (
        f"the analysis's own data ({protocol.data.path}): '{outcome.id}' in {len(trial.names)} "
        f"clusters x {table.shape[1]} baseline periods of {trial.step_months} months, "
        f"{first} to {last}"
    )
    return table, counts.mean(axis=1), where


def stepped_wedge_settings(loaded: LoadedProtocol, **overrides: Any) -> SteppedWedgePowerSettings:
    """Settings of the trial as registered: its clusters and steps, effects × that layout.

    ``overrides`` may give ``replicates``, ``effects``, ``seed``, ``baseline`` (events per
    cluster a month before the trial), ``icc`` and ``cac``; a given value wins over the data's.
    """
    overrides = {k: v for k, v in overrides.items() if v is not None}
    unused = [k for k in _UNUSED if k in overrides]
    if unused:
        names = ", ".join("--" + k.replace("_cv", "").replace("_", "-") for k in unused)
        raise PowerError(f"{names}: not used by stepped-wedge power; leave out")
    protocol = loaded.protocol
    trial = protocol.design.trial
    assert trial is not None
    outcome = protocol.primary_outcomes[0]
    found = baseline_table(loaded)
    values: dict[str, Any] = {
        "clusters": (len(trial.clusters),),
        "steps": (trial.steps,),
        **trial_layout(loaded),
        "effects": default_effects(protocol, outcome),
        "alpha": protocol.decision.alpha,
        "seed": protocol.seed,
    }
    sizes: pd.Series
    if found is not None:
        table, sizes, where = found
        history = estimate_components(table)
        values.update(
            mean_count=history.mean_count,
            icc=history.icc,
            cac=history.cac,
            trend=history.trend,
            source=f"{where}: ICC {history.icc:.3g}, CAC {history.cac:.3g}, trend "
            f"{history.trend:+.4f} a period (log rate), mean {history.mean_count:.1f} events "
            "per cluster-period",
        )
    elif "baseline" not in overrides or "icc" not in overrides:
        raise PowerError(
            f"{loaded.path}: no data at {loaded.folder / protocol.data.path} to estimate the "
            "trial's variation from; give --baseline (events per cluster a month before the "
            "trial) and --icc (intra-cluster correlation of the log rate, e.g. 0.05)"
        )
    else:
        populations = pd.Series({c.name: float(c.population) for c in trial.clusters})
        sizes = populations / populations.mean()
        values.update(mean_count=1.0, source="given (--baseline, clusters by population; --icc)")
    if "baseline" in overrides:
        # events a month per cluster -> per design period, the clusters in proportion
        values["mean_count"] = overrides.pop("baseline") * trial.step_months
        sizes = sizes / sizes.mean() * values["mean_count"]
        if found is not None:
            values["source"] += "; counts given (--baseline, clusters in proportion)"
    for key in ("icc", "cac"):
        if key in overrides and found is not None:
            values["source"] += f"; {key.upper()} given (--{key})"
    values["cluster_counts"] = tuple(float(sizes[n]) for n in trial.names)
    test, where = registered_test(loaded, protocol.seed)
    model, why = registered_model(loaded, values["cluster_counts"])
    values.update(test, test_model=model)
    values["source"] += f"; schedule: {where}; {why}"
    values.update(overrides)
    return SteppedWedgePowerSettings(**values)
