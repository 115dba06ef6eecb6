"""Power settings for the comparison designs of a protocol: cits, staggered_did, did,
event_study and synthetic_control (``evaltk power`` dispatches on ``design.kind``; its is
:func:`its_settings`; a synthetic control takes each force's own volume, not a group's).

The design (units, start dates, window, model options, alpha, seed) comes from the protocol;
each group of forces' volume from the simulator's real-world volumes for those forces
(:func:`~evaltk.power.from_protocol.simulator_baseline`), and the trend, seasonality,
overdispersion and autocorrelation from the simulator's defaults, unless overridden.
"""

from __future__ import annotations

from typing import Any

from evaltk.errors import PowerError
from evaltk.power.cits import CITSPowerSettings
from evaltk.power.did import DiDPowerSettings
from evaltk.power.from_protocol import (
    OTHER_MONTHS_AFTER,
    default_effects,
    first_year_config,
    its_settings,
    simulator_baseline,
    simulator_key,
)
from evaltk.power.settings import ITSPowerSettings
from evaltk.power.staggered import StaggeredPowerSettings
from evaltk.power.synthetic import SyntheticPowerSettings
from evaltk.protocol import LoadedProtocol
from evaltk.protocol.spec import Protocol
from evaltk.simulate import SimulationConfig, expected_outcomes

#: The settings of every design ``evaltk power`` simulates.
AnySettings = (
    ITSPowerSettings
    | CITSPowerSettings
    | DiDPowerSettings
    | StaggeredPowerSettings
    | SyntheticPowerSettings
)

_NOISE = ("trend", "seasonal_amplitude", "seasonal_peak_month", "ar_rho", "ar_sd")


def _months(first: Any, later: Any) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def _volume(protocol: Protocol, units: list[str]) -> dict[str, Any]:
    """The simulator's volume of the primary outcome for some of the protocol's units."""
    part = protocol.model_copy(update={"units": units})
    return simulator_baseline(part, protocol.primary_outcomes[0])


def _noise() -> dict[str, Any]:
    simulated = SimulationConfig()
    values = {k: getattr(simulated, k) for k in _NOISE}
    values["overdispersion_cv"] = simulated.overdispersion_cv
    return values


def cits_settings(loaded: LoadedProtocol, **overrides: Any) -> CITSPowerSettings:
    """Settings of a comparative ITS grid: effects × months after the start."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    protocol = loaded.protocol
    outcome = protocol.primary_outcomes[0]
    options = protocol.design.cits
    window = protocol.window
    start = protocol.first_start()
    before = _months(window.start, start)
    after = _months(start, window.end) + 1 - window.washout_months
    rates = outcome.measure is not None and outcome.measure.kind.per_population
    try:
        treated = _volume(protocol, protocol.treated_units)
        comparison = _volume(protocol, protocol.comparison_units)
    except PowerError:
        if "baseline" not in overrides:
            raise
        # No simulated volume for this outcome: the comparison series as large as the
        # treated one unless given, each modelled as a count without an exposure.
        given = overrides["baseline"]
        treated = {"baseline": given, "population": 1_000_000.0, "source": "given"}
        comparison = dict(treated, baseline=overrides.get("comparison_baseline", given))
        rates = False
    values: dict[str, Any] = {
        "outcome": outcome.id,
        "outcome_label": outcome.label,
        "first_month": window.start.replace(day=1),
        "months_before": before,
        "washout_months": window.washout_months,
        "registered_months_after": after,
        "months_after": (*(m for m in OTHER_MONTHS_AFTER if m < after), after),
        "effects": default_effects(protocol, outcome),
        "family": outcome.family
        if outcome.family in ("poisson", "quasi_poisson", "gaussian")
        else options.family,
        "seasonality": options.seasonality,
        "harmonics": options.harmonics,
        "slope_change": options.slope_change,
        "hac": options.hac,
        "hac_lags": options.hac_lags,
        "model": options.model,
        "alpha": protocol.decision.alpha,
        "seed": protocol.seed,
        "exposure": "population" if rates else "none",
        "baseline": treated["baseline"],
        "population": treated["population"],
        "comparison_baseline": comparison["baseline"],
        "comparison_population": comparison["population"],
        "baseline_source": treated["source"] + "; comparison: " + comparison["source"],
        **_noise(),
    }
    if "baseline" in overrides and treated["source"] != "given":
        values["comparison_baseline"] *= overrides["baseline"] / treated["baseline"]
    if "baseline" in overrides:
        values["baseline_source"] = "given (--baseline; the comparison series in proportion)"
    values.update(overrides)
    return CITSPowerSettings(**values)


def staggered_settings(loaded: LoadedProtocol, **overrides: Any) -> StaggeredPowerSettings:
    """Settings of a staggered-adoption grid: the registered forces and dates, effects."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    protocol = loaded.protocol
    options = protocol.design.staggered
    if options.covariates:
        raise PowerError(
            "staggered power is simulated without covariates; the registered covariates "
            f"{options.covariates} are not modelled (remove them to power the design)"
        )
    if options.aggregation != "simple":
        raise PowerError(
            f"staggered aggregation {options.aggregation!r}: only the simple aggregation's "
            "power is simulated"
        )
    window = protocol.window
    outcome = protocol.primary_outcomes[0]
    found = _volume(protocol, list(protocol.units))
    n = len(protocol.units)
    starts = tuple(
        _months(window.start, protocol.intervention.start[u])
        if u in protocol.intervention.start
        else None
        for u in protocol.units
    )
    values: dict[str, Any] = {
        "outcome": outcome.id,
        "outcome_label": outcome.label,
        "first_month": window.start.replace(day=1),
        "n_months": _months(window.start, window.end) + 1,
        "starts": starts,
        "effects": default_effects(protocol, outcome),
        "baseline": found["baseline"] / n,
        "population": found["population"] / n,
        "baseline_source": found["source"] + " (per force)",
        "force_rate_sd": SimulationConfig().force_rate_sd,
        "control_group": options.control_group,
        "base_period": options.base_period,
        "anticipation": options.anticipation,
        "period_bin": options.period_bin,
        "permutations": protocol.design.inference.permutations,
        "alpha": protocol.decision.alpha,
        "seed": protocol.seed,
        **_noise(),
    }
    if "baseline" in overrides:
        values["baseline_source"] = "given (--baseline, per force)"
    values.update({k: v for k, v in overrides.items() if k in StaggeredPowerSettings.model_fields})
    return StaggeredPowerSettings(**values)


def comparison_did_settings(loaded: LoadedProtocol, **overrides: Any) -> DiDPowerSettings:
    """did and event_study: the registered numbers of treated and comparison forces, their
    common first start, the window and alpha."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    protocol = loaded.protocol
    dates = {protocol.intervention.start[u] for u in protocol.treated_units}
    if len(dates) > 1:
        raise PowerError(
            f"design {protocol.design.kind} with {len(dates)} different start dates: its power "
            "is simulated for one common start only; power the rollout as staggered_did"
        )
    outcome = protocol.primary_outcomes[0]
    window = protocol.window
    start = protocol.first_start()
    found = _volume(protocol, list(protocol.units))
    n = len(protocol.units)
    inference = protocol.design.inference
    values: dict[str, Any] = {
        "outcome": outcome.id,
        "outcome_label": outcome.label,
        "first_month": window.start.replace(day=1),
        "months_before": _months(window.start, start),
        "months_after": _months(start, window.end) + 1,
        "units": ((len(protocol.treated_units), len(protocol.comparison_units)),),
        "effects": default_effects(protocol, outcome),
        "baseline": found["baseline"] / n,
        "population": found["population"] / n,
        "baseline_source": found["source"] + " (per force)",
        "force_rate_sd": SimulationConfig().force_rate_sd,
        "family": _did_family(protocol, outcome),
        "estimator": protocol.design.did.estimator if protocol.design.kind == "did" else "twfe",
        "event_study": _bins(protocol) if protocol.design.kind == "event_study" else None,
        "inference": inference.method,
        "permutations": inference.permutations,
        "draws": inference.draws,
        "weights": inference.weights,
        "bootstrap_by": inference.bootstrap_by,
        "alpha": protocol.decision.alpha,
        "seed": protocol.seed,
        **_noise(),
    }
    if "baseline" in overrides:
        values["baseline_source"] = "given (--baseline, per force)"
    values.update({k: v for k, v in overrides.items() if k in DiDPowerSettings.model_fields})
    return DiDPowerSettings(**values)


def _force_volumes(protocol: Protocol, key: str) -> tuple[dict[str, float], dict[str, float]]:
    """Each force's simulated events a month and population, first 12 months of the window."""
    expected = expected_outcomes(
        first_year_config(protocol, "a synthetic control's power needs every force's volume")
    )
    means = expected.groupby("force")[[f"{key}_counterfactual", "population"]]
    frame = means.mean()
    volume = frame[f"{key}_counterfactual"]
    return (
        {str(f): float(v) for f, v in volume.items()},
        {str(f): float(v) for f, v in frame["population"].items()},
    )


def synthetic_settings(loaded: LoadedProtocol, **overrides: Any) -> SyntheticPowerSettings:
    """synthetic_control: the registered treated forces (summed, as the analysis sums them)
    and donor pool, each force's own volume and population from the simulator, the window;
    effects × months after the start."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    protocol = loaded.protocol
    kind = protocol.design.kind
    if kind != "synthetic_control":
        raise PowerError(
            f"design {kind}: power is simulated for synthetic_control only (synthetic DiD "
            "refits every force twice per replicate; not simulated yet)"
        )
    if protocol.design.synthetic.predictors:
        raise PowerError(
            "design.synthetic.predictors: the power of a predictor-weighted synthetic control "
            "is not simulated (every replicate would need the nested predictor-weight search "
            "for every force: hours for a grid); power the outcome-only fit (predictors: []) "
            "and justify the predictors separately"
        )
    from evaltk.estimate.synthetic import donor_units, treated_label

    outcome = protocol.primary_outcomes[0]
    key = simulator_key(outcome)
    if key is None:
        raise PowerError(
            f"outcome {outcome.id!r} is not a plain count or rate of a simulated outcome: a "
            "synthetic control's power needs every force's volume from the simulator"
        )
    volume, population = _force_volumes(protocol, key)
    treated, donors = protocol.treated_units, donor_units(protocol)
    window = protocol.window
    start = protocol.first_start()
    before = _months(window.start, start)
    # Every month from the start is compared: the synthetic analysis has no washout.
    after = _months(start, window.end) + 1
    values: dict[str, Any] = {
        "outcome": outcome.id,
        "outcome_label": outcome.label,
        "first_month": window.start.replace(day=1),
        "months_before": before,
        "registered_months_after": after,
        "months_after": (*(m for m in OTHER_MONTHS_AFTER if m < after), after),
        "effects": default_effects(protocol, outcome),
        "treated": treated_label(protocol),
        "donors": tuple(donors),
        "baseline": sum(volume[f] for f in treated),
        "population": sum(population[f] for f in treated),
        "donor_baselines": tuple(volume[f] for f in donors),
        "donor_populations": tuple(population[f] for f in donors),
        "baseline_source": f"simulator: each force's real-world volume of '{key}', first 12 "
        "months of the window",
        "rates": bool(outcome.measure is not None and outcome.measure.kind.per_population),
        "alpha": protocol.decision.alpha,
        "seed": protocol.seed,
        **_noise(),
    }
    if "baseline" in overrides:
        scale = overrides["baseline"] / values["baseline"]
        values["donor_baselines"] = tuple(b * scale for b in values["donor_baselines"])
        values["baseline_source"] = "given (--baseline; every donor in proportion)"
    values.update({k: v for k, v in overrides.items() if k in SyntheticPowerSettings.model_fields})
    return SyntheticPowerSettings(**values)


def _bins(protocol: Protocol) -> tuple[int, int, int]:
    options = protocol.design.event_study
    return (options.leads, options.lags, options.width)


def _did_family(protocol: Protocol, outcome: Any) -> str:
    """The family the analysis fits, as :func:`evaltk.estimate.did.family_for` decides it from
    an outcome's data: linear for a Gaussian outcome, Poisson for another family, else the
    design's own."""
    if outcome.family == "gaussian":
        return "linear"
    if outcome.family is not None:
        return "poisson"
    kind = protocol.design.kind
    return (
        protocol.design.event_study.family if kind == "event_study" else protocol.design.did.family
    )


def design_settings(loaded: LoadedProtocol, **overrides: Any) -> AnySettings:
    """The power settings of the protocol's own design (``design.kind``)."""
    kind = loaded.protocol.design.kind
    if kind == "its":
        return its_settings(loaded, **overrides)
    if kind == "cits":
        return cits_settings(loaded, **overrides)
    if kind == "staggered_did":
        return staggered_settings(loaded, **overrides)
    if kind in ("synthetic_control", "synthetic_did"):
        return synthetic_settings(loaded, **overrides)
    return comparison_did_settings(loaded, **overrides)
