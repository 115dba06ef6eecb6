"""Power settings for a registered design: months and model from the protocol, the rest from
the project simulator unless overridden.

The protocol fixes the design (months before and after the start, washout, model, family,
seasonality, errors, alpha). The primary outcome's volume comes from the analysis's own data
before the start where the data file exists (:func:`data_baseline`), otherwise from the
simulator's real-world volumes for the protocol's forces
(:func:`evaltk.simulate.expected_outcomes` at ``scale=1``); the trend, seasonality,
overdispersion and autocorrelation come from the simulator
(:class:`evaltk.simulate.SimulationConfig` defaults).
Each can be overridden; ``power.json`` records which values were used and where they came from.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evaltk.errors import PowerError, SimulationError
from evaltk.power.did import DiDPowerSettings
from evaltk.power.settings import ITSPowerSettings
from evaltk.protocol import LoadedProtocol
from evaltk.protocol.spec import EpisodeSource, Outcome, Protocol
from evaltk.simulate import EFFECT_NAMES, SimulationConfig, expected_outcomes

#: Relative changes tried, as multiples of the protocol's minimum important change.
EFFECT_MULTIPLES = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
#: Post-period lengths tried besides the registered one (when shorter than it).
OTHER_MONTHS_AFTER = (12, 24, 36)


def _months_between(first: Any, later: Any) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def simulator_key(outcome: Outcome) -> str | None:
    """The simulator's outcome that a measure counts, when it is a plain count or rate."""
    measure = outcome.measure
    if measure is None or not measure.kind.event_total or measure.repeat:
        return None
    where = measure.where
    if not where:
        return "incidents"
    if len(where) == 1:
        ((field, value),) = where.items()
        if field in EFFECT_NAMES and value is True:
            return field
        if field == "referral" and isinstance(value, list) and "none" not in value:
            return "referral"
    return None


def default_effects(protocol: Protocol, outcome: Outcome) -> tuple[float, ...]:
    """No change (the test's real size), then 0.5 to 3 times the minimum important change in
    the beneficial direction."""
    step = protocol.decision.minimum_important_change
    sign = -1.0 if outcome.direction == "decrease" else 1.0
    changes = (1.0 + sign * step * k for k in EFFECT_MULTIPLES)
    return (1.0, *(round(r, 4) for r in changes if r > 0.05))


def first_year_config(protocol: Protocol, remedy: str) -> SimulationConfig:
    """The simulator's configuration of the protocol's units, untreated, over the first 12
    months of its window (full scale): the volumes a power grid starts from. ``remedy`` ends
    the error when the simulator does not know a unit."""
    try:
        config = SimulationConfig.preset(
            "demo",
            forces=tuple(protocol.units),
            starts={},
            never_treated_share=1.0,
            scale=1.0,
            first_month=protocol.window.start.strftime("%Y-%m"),
            months=12,
        )
    except SimulationError as error:
        raise PowerError(
            f"the simulator cannot model units {', '.join(protocol.units)} ({error}); {remedy}"
        ) from None
    return config


def simulator_baseline(protocol: Protocol, outcome: Outcome) -> dict[str, Any]:
    """Baseline count per month and population from the simulator, for the protocol's units."""
    key = simulator_key(outcome)
    if key is None:
        raise PowerError(
            f"outcome {outcome.id!r} is not a plain count or rate of a simulated outcome, so "
            "the simulator cannot suggest its volume; pass --baseline (expected events per "
            "month before the scheme)"
        )
    config = first_year_config(protocol, "pass --baseline")
    frame = expected_outcomes(config)
    monthly = frame.groupby("period")[[f"{key}_counterfactual", "population"]].sum()
    return {
        "baseline": float(monthly[f"{key}_counterfactual"].mean()),
        "population": float(monthly["population"].mean()),
        "source": f"simulator: real-world volume of '{key}' in {', '.join(protocol.units)}, "
        f"first 12 months of the window",
        "config": config,
    }


#: Pre-period months whose mean is the baseline taken from the analysis's own data: the
#: simulated series starts from its baseline and then follows the trend, so the first year.
BASELINE_MONTHS = 12


def data_baseline(loaded: LoadedProtocol, outcome: Outcome) -> dict[str, Any] | None:
    """Baseline events a month (and population) from the analysis's own pre-period data.

    ``None`` when the protocol's data file is not there (a template, or an analysis before
    its data arrive); then the simulator's volume is used. The mean of the first
    :data:`BASELINE_MONTHS` months of the window, all before the start, of the primary
    outcome's numerator summed over the protocol's forces: only months before the scheme are
    read, so no outcome after the start is seen.
    """
    protocol = loaded.protocol
    path = loaded.folder / protocol.data.path
    if not path.exists():
        return None
    if isinstance(protocol.data, EpisodeSource) and protocol.data.linkage is not None:
        return None  # linking needs the agencies' extracts and the key: the simulator's volume
    from evaltk.measures import build_panel

    panel = build_panel(protocol, loaded.folder)
    series = panel.series(outcome.id, protocol.units)
    start = protocol.its_start().replace(day=1)
    before = series[series["period"] < pd.Timestamp(start)].head(BASELINE_MONTHS)
    counts = before["numerator"].dropna()
    if counts.empty:
        return None
    first, last = (p.strftime("%Y-%m") for p in before["period"].iloc[[0, -1]])
    population = before["denominator"].dropna()
    return {
        "baseline": float(counts.mean()),
        "population": float(population.mean()) if not population.empty else 1_000_000.0,
        "source": f"the analysis's own data ({protocol.data.path}): mean of '{outcome.id}' "
        f"in {len(counts)} months before the start, {first} to {last}",
    }


def its_settings(loaded: LoadedProtocol, **overrides: Any) -> ITSPowerSettings:
    """Settings of an ITS power grid for the protocol's primary outcome.

    Parameters
    ----------
    loaded : LoadedProtocol
        A protocol or analysis, as :func:`evaltk.protocol.load_protocol` returns it.
    **overrides
        Any :class:`ITSPowerSettings` field (``baseline``, ``effects``, ``months_after``,
        ``replicates``, ``seed``, ``overdispersion_cv``, ``ar_rho``, ``ar_sd`` ...). ``None``
        values are ignored.

    Raises
    ------
    PowerError
        If the design is not an ITS, or the baseline cannot be derived and is not given.
    """
    overrides = {k: v for k, v in overrides.items() if v is not None}
    protocol = loaded.protocol
    if protocol.design.kind != "its":
        raise PowerError(
            f"design {protocol.design.kind!r}: only interrupted time series power is implemented"
        )
    outcome = protocol.primary_outcomes[0]
    start = protocol.its_start()
    window = protocol.window
    before = _months_between(window.start, start)
    after = _months_between(start, window.end) + 1 - window.washout_months
    if after < 3 or before < 3:
        raise PowerError(
            f"the registered window has {before} months before and {after} after the start; "
            "an interrupted time series needs at least 3 of each"
        )
    options = protocol.design.its
    simulated = SimulationConfig()
    values: dict[str, Any] = {
        "outcome": outcome.id,
        "outcome_label": outcome.label,
        "first_month": window.start.replace(day=1),
        "months_before": before,
        "washout_months": window.washout_months,
        "registered_months_after": after,
        "months_after": (*(m for m in OTHER_MONTHS_AFTER if m < after), after),
        "effects": default_effects(protocol, outcome),
        "family": outcome.family or options.family,
        "seasonality": options.seasonality,
        "harmonics": options.harmonics,
        "slope_change": options.slope_change,
        "hac": options.hac,
        "hac_lags": options.hac_lags,
        "ar1": bool(options.ar1) and options.model != "gls",
        "model": options.model,
        "alpha": protocol.decision.alpha,
        "seed": protocol.seed,
        "trend": simulated.trend,
        "seasonal_amplitude": simulated.seasonal_amplitude,
        "seasonal_peak_month": simulated.seasonal_peak_month,
        "ar_rho": simulated.ar_rho,
        "ar_sd": simulated.ar_sd,
        "overdispersion_cv": simulated.overdispersion_cv,
        "population_growth": simulated.population_growth,
    }
    is_rate = outcome.measure is not None and outcome.measure.kind.per_population
    if is_rate and options.offset == "denominator" and values["family"] != "gaussian":
        values["exposure"] = "population"
    if "baseline" in overrides:
        values["baseline_source"] = "given (--baseline)"
        if values.get("exposure") == "population" and "population" not in overrides:
            try:
                values["population"] = simulator_baseline(protocol, outcome)["population"]
            except PowerError:
                values["exposure"] = "none"  # no population known: model the count alone
    else:
        found = data_baseline(loaded, outcome) or simulator_baseline(protocol, outcome)
        values["baseline"] = found["baseline"]
        values["population"] = found["population"]
        values["baseline_source"] = found["source"]
    values.update(overrides)
    return ITSPowerSettings(**values)


def did_settings(
    loaded: LoadedProtocol, units: tuple[tuple[int, int], ...], **overrides: Any
) -> DiDPowerSettings:
    """Settings of a DiD power grid with the protocol's window, outcome and alpha.

    The protocol format has no difference-in-differences design yet, so the numbers of treated
    and comparison forces are given here (``units``); the baseline per force is the
    simulator's volume averaged over the protocol's forces unless ``baseline`` is given.
    """
    overrides = {k: v for k, v in overrides.items() if v is not None}
    its = its_settings(loaded, baseline=overrides.get("baseline", 1.0))
    protocol = loaded.protocol
    values: dict[str, Any] = {
        "outcome": its.outcome,
        "outcome_label": its.outcome_label,
        "first_month": its.first_month,
        "months_before": its.months_before,
        "months_after": its.registered_months_after,
        "units": units,
        "effects": its.effects,
        "alpha": its.alpha,
        "seed": its.seed,
        "force_rate_sd": SimulationConfig().force_rate_sd,
        **{
            k: getattr(its, k)
            for k in (
                "trend",
                "seasonal_amplitude",
                "seasonal_peak_month",
                "ar_rho",
                "ar_sd",
                "overdispersion_cv",
            )
        },
    }
    if "baseline" in overrides:
        values["baseline_source"] = "given (--baseline)"
    else:
        found = simulator_baseline(protocol, protocol.primary_outcomes[0])
        n = len(protocol.units)
        values.update(
            baseline=found["baseline"] / n,
            population=found["population"] / n,
            baseline_source=found["source"] + " (per force)",
        )
    values.update({k: v for k, v in overrides.items() if k in DiDPowerSettings.model_fields})
    return DiDPowerSettings(**values)
