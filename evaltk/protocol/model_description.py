"""The model of a protocol in words, from one description of its design options.

Three readers see the model: the pre-registration page's analysis plan (a full sentence, as
registered), the results (the short ``estimator`` of each outcome in results.json, as fitted)
and the methods page's list of the analyses' models. They must say the same thing: a plan that
reads "model-based errors" above results that say "AR(1) working correlation" tells a
reviewer the analysis departed from its plan when it did not. So every phrase that names a
modelling choice (family, seasonality, slope, errors, GLM or GLS, estimator, comparison
group, inference) is written once here, in :class:`ModelTerms`, and both sentences are built
from those phrases; ``tests/protocol/test_model_description.py`` checks, for every template and
example, that each phrase appears in both.
"""

from __future__ import annotations

from dataclasses import dataclass

from evaltk.protocol.designs import FEW_CLUSTERS, SYNTHETIC_KINDS
from evaltk.protocol.spec import Protocol


@dataclass(frozen=True)
class ModelTerms:
    """The phrases naming each modelling choice, shared by the plan and the results."""

    family: str
    terms: tuple[str, ...]  # every other choice, in the order the short sentence gives them


@dataclass(frozen=True)
class ModelDescription:
    """One model in two lengths, from the same :class:`ModelTerms`."""

    plan: str  # the analysis plan's sentence (pre-registration page, methods page)
    estimator: str  # the results' short form (results.json ``estimator``)
    terms: tuple[str, ...]  # the phrases both contain


def family_words(family: str) -> str:
    """``quasi_poisson`` → ``quasi-Poisson``; ``negative_binomial`` → ``negative-binomial``."""
    words = family.replace("_", "-").replace("quasi-poisson", "quasi-Poisson")
    return words.replace("poisson", "Poisson")


def seasonality_words(kind: str, harmonics: int) -> str:
    """``2 Fourier pair(s)``, ``month indicators`` or ``no seasonality``."""
    return {
        "fourier": f"{harmonics} Fourier pair(s)",
        "month": "month indicators",
        "none": "no seasonality",
    }[kind]


def errors_words(hac: bool, hac_lags: int | None, ar1: bool = False) -> str:
    """The GLM's covariance in words: Newey-West, AR(1) working correlation or model-based."""
    if hac:
        return f"Newey-West errors ({hac_lags if hac_lags is not None else 'auto'} lags)"
    if ar1:
        return "errors with AR(1) working correlation"
    return "model-based errors"


GLS_ERRORS = "Poisson sampling + white + AR(1) errors by REML, Satterthwaite t tests"

#: The rule of ITS ``model: auto`` in words (evaltk.estimators.its.options, ``model_choice``).
AUTO_RULE = (
    "GLS where every fitted month has a count above zero and six months are left beyond the "
    "coefficients, otherwise the GLM"
)

_DID_FAMILY = {"poisson": "Poisson with offset", "linear": "linear"}
_EST_METHOD = {
    "dr": "doubly robust",
    "ipw": "inverse probability weighting",
    "reg": "outcome regression",
}
_INFERENCE = {
    "cluster": "cluster-robust errors by force",
    "wild_bootstrap": "the wild cluster bootstrap",
    "randomization": "randomisation inference (adoption dates permuted across forces)",
}


def _width(width: int) -> str:
    return "1 month" if width == 1 else f"{width} months"


def _overrides(protocol: Protocol, default: str) -> str:
    """``; Gaussian for officer_minutes`` when outcomes set their own family."""
    own: dict[str, list[str]] = {}
    for outcome in protocol.outcomes:
        if outcome.family is not None and outcome.family != default:
            own.setdefault(family_words(outcome.family), []).append(outcome.id)
    return "".join(f"; {f} for {', '.join(ids)}" for f, ids in own.items())


def _its(
    protocol: Protocol, family: str, plan_family: str, model: str | None = None
) -> ModelDescription:
    """``model`` is the model actually fitted (``auto`` resolved), for the results; None for
    the plan, which names the registered option (``auto`` states its rule)."""
    options = protocol.design.its
    chosen = model or options.model
    if chosen == "auto":
        gls = _its(protocol, family, plan_family, "gls")
        glm = _its(protocol, family, plan_family, "glm")
        plan = (
            f"Model chosen by the data for each outcome ({AUTO_RULE}): "
            f"{_lower_first(gls.plan)} Otherwise: {_lower_first(glm.plan)}"
        )
        estimator = f"segmented regression (model auto: {AUTO_RULE}), {family_words(family)}"
        return ModelDescription(plan, estimator, (AUTO_RULE,))
    seasonality = seasonality_words(options.seasonality, options.harmonics)
    slope = ", slope change" if options.slope_change else ""
    overrides = _overrides(protocol, plan_family) if family == plan_family else ""
    offset = (
        "; rates and shares use their denominator as an offset"
        if options.offset == "denominator"
        else "; no offset"
    )
    if chosen == "gls":
        scale = "the series" if family == "gaussian" else "the log rate"
        estimator = (
            f"segmented regression of {scale} by GLS, level change{slope}, {seasonality}, "
            f"{GLS_ERRORS}"
        )
        plan = (
            f"Each outcome's monthly series: segmented regression of {scale} by GLS, level "
            f"change{slope} at the start on an underlying trend, {seasonality}, {GLS_ERRORS} "
            f"(a Poisson GLM of the same design gives the sampling variance){overrides}."
        )
        return ModelDescription(plan, estimator, (f"{scale} by GLS", seasonality, GLS_ERRORS))
    words = family_words(family)
    errors = errors_words(options.hac, options.hac_lags, options.ar1)
    estimator = f"segmented GLM, {words}, level change{slope}, {seasonality}, {errors}"
    plan = (
        f"Each outcome's monthly series: segmented GLM, {words}{overrides}, on an underlying "
        f"trend with a level change{slope} at the start and {seasonality} for seasonality; "
        f"{errors}{offset}."
    )
    return ModelDescription(plan, estimator, ("segmented GLM", words, seasonality, errors))


def _cits(protocol: Protocol, family: str) -> ModelDescription:
    options = protocol.design.cits
    seasonality = seasonality_words(options.seasonality, options.harmonics)
    words = family_words(family)
    slope = ", slope change" if options.slope_change else ""
    placebo = (
        "; pre-trends tested by a placebo start halfway through the months before the start"
        if options.placebo_test
        else ""
    )
    common = f"treated units summed vs comparison units summed; difference in level change{slope}"
    if options.model == "gls":
        gls = (
            "effect by GLS of the difference of the "
            + ("series" if family == "gaussian" else "log rates")
            + ", AR(1) errors"
        )
        estimator = f"comparative ITS ({words}; {common}; {seasonality}; {gls})"
        plan = (
            f"Comparative interrupted time series (GLS; each series fitted {words}): {common} "
            f"at the start, {seasonality}; "
            f"{gls} (Poisson sampling, white and AR(1) variation by REML), Student's t tests "
            f"with Satterthwaite degrees of freedom{placebo}."
        )
        return ModelDescription(plan, estimator, (words, common, seasonality, gls))
    errors = errors_words(options.hac, options.hac_lags)
    estimator = f"comparative ITS ({words}; {common}; {seasonality}; {errors})"
    plan = (
        f"Comparative interrupted time series (GLM, {words}): {common} at the start, with a "
        f"series intercept, the treated series' own trend and shared {seasonality}; "
        f"{errors}{placebo}."
    )
    return ModelDescription(plan, estimator, (words, common, seasonality, errors))


def _inference_plan(protocol: Protocol) -> str:
    kind = protocol.design.kind
    method = protocol.design.inference.method
    if method != "auto":
        return _INFERENCE[method]
    few = _INFERENCE["randomization"] if kind == "staggered_did" else _INFERENCE["wild_bootstrap"]
    return (
        f"a method chosen by the number of forces: below {FEW_CLUSTERS}, {few}; from "
        f"{FEW_CLUSTERS} up, cluster-robust errors"
    )


def _did(protocol: Protocol, family: str) -> ModelDescription:
    kind = protocol.design.kind
    words = _DID_FAMILY[family]
    es = protocol.design.event_study
    bins = f"{es.leads} leads and {es.lags} lags of {_width(es.width)}"
    inference = f"; intervals and p-values by {_inference_plan(protocol)}."
    if kind == "event_study":
        estimator = f"event study (two-way fixed effects, {words}; {bins}, reference bin -1)"
        plan = (
            f"Event study (two-way fixed effects, {words}) with {bins}, reference bin -1, "
            "headline the mean effect after adoption; pre-trends tested jointly on the leads"
            + inference
        )
        return ModelDescription(plan, estimator, ("event study", words, bins))
    did = protocol.design.did
    body = (
        f"two-way fixed effects DiD ({words}; unit and month effects)"
        if did.estimator == "twfe"
        else f"2 x 2 DiD ({words}; treated vs comparison units, before vs after)"
    )
    pretrend = f"; pre-trends by an event study with {bins}" if did.pretrend else ""
    estimator = body + pretrend
    plan = "Difference-in-differences: " + body + pretrend + inference
    return ModelDescription(plan, estimator, (body, *((pretrend[2:],) if pretrend else ())))


def _staggered(protocol: Protocol) -> ModelDescription:
    options = protocol.design.staggered
    covariates = ", ".join(options.covariates) if options.covariates else "no covariates"
    body = (
        f"{_EST_METHOD[options.est_method]}, {options.control_group.replace('_', '-')} "
        f"comparison units, {options.base_period} base period, {covariates}; "
        f"{options.aggregation} aggregation; by {options.period_bin}"
    )
    estimator = f"Callaway & Sant'Anna staggered DiD ({body})"
    plan = (
        f"Callaway & Sant'Anna staggered DiD ({body}): "
        "each cohort of forces compared over the same periods, the headline being that "
        "aggregation of the ATT(g,t); pre-trends tested on the periods before each start; "
        f"intervals and p-values by {_inference_plan(protocol)}."
    )
    return ModelDescription(plan, estimator, ("Callaway & Sant'Anna", body))


def _synthetic(protocol: Protocol) -> ModelDescription:
    design = protocol.design
    options = design.synthetic
    donors = (
        "donors: every force without a start date"
        if options.donors == "untreated"
        else f"donors: {len(options.donors)} named forces"
    )
    if design.kind == "synthetic_did":
        body = (
            "synthetic difference-in-differences (Arkhangelsky et al. 2021; unit and time weights)"
        )
    elif options.predictors:
        n = len(options.predictors)
        body = (
            "synthetic control (Abadie, Diamond & Hainmueller 2010; "
            f"{n} predictor(s) with optimised weights)"
        )
    else:
        body = (
            "synthetic control (Abadie, Diamond & Hainmueller 2010; weights fitted to the "
            "months before the start)"
        )
    inference = "p-value by placebo in space (rank of the post/pre RMSPE ratio)"
    checks = [
        name
        for name, on in (
            ("placebo in time (the pre-trend test)", options.placebo_in_time),
            ("leave one donor out", options.leave_one_out),
        )
        if on
    ]
    robustness = f"; robustness: {' and '.join(checks)}" if checks else ""
    estimator = f"{body}; {donors}; {inference}"
    plan = (
        f"The treated forces summed as one unit against a weighted mix of donor forces: {body}; "
        f"{donors}. The effect is the average difference from the synthetic unit over the "
        f"months from the start; {inference}, interval from the placebo standard error"
        f"{robustness}."
    )
    return ModelDescription(plan, estimator, (body, donors, inference))


#: The stepped-wedge models in words (design.stepped_wedge.model; evaltk.estimate.stepped_wedge).
SW_MODELS = {
    "log_rate": "linear mixed model of the log rate by REML (cluster random intercept, period "
    "fixed effects, treatment indicator)",
    "poisson": "Poisson GLM with cluster and period fixed effects, errors clustered by cluster",
}
SW_INFERENCE = "randomisation inference over the registered randomisation scheme"


def _stepped_wedge(protocol: Protocol, model: str | None) -> ModelDescription:
    from evaltk.protocol.trial import LOG_RATE_MIN_COUNT

    options = protocol.design.stepped_wedge
    trial = protocol.design.trial
    assert trial is not None  # validated: a stepped_wedge design has its trial
    chosen = model or options.model
    if chosen == "auto":
        words = (
            f"the {SW_MODELS['log_rate']} where every cluster-period has at least "
            f"{LOG_RATE_MIN_COUNT} events, otherwise the {SW_MODELS['poisson']}"
        )
    else:
        words = f"the {SW_MODELS[chosen]}"
    scheme = "restricted (balanced) randomisation" if trial.restricted else "simple randomisation"
    sensitivity = (
        "; sensitivity analysis: Callaway & Sant'Anna staggered DiD (not-yet-treated clusters)"
        if options.sensitivity
        else ""
    )
    design = (
        f"stepped-wedge cluster-randomised trial ({len(trial.clusters)} clusters, "
        f"{trial.steps} steps of {_width(trial.step_months)})"
    )
    estimator = f"{design}: {words}; rate ratio by {SW_INFERENCE}"
    plan = (
        f"A {design} from {trial.first_start:%B %Y}, the order drawn by {scheme}: {words}, "
        f"periods being the steps; the rate ratio's p-value and interval by {SW_INFERENCE} "
        f"(exact when every schedule can be listed){sensitivity}."
    )
    return ModelDescription(plan, estimator, (design, words, SW_INFERENCE))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def describe_model(
    protocol: Protocol, family: str | None = None, model: str | None = None
) -> ModelDescription:
    """The model of ``protocol``'s design, for the plan and for the results.

    Parameters
    ----------
    protocol
        The protocol (as registered, for the plan; as run, for the results).
    family
        The family actually fitted to one outcome (an outcome may set its own, and a CITS of
        a share is fitted Gaussian); default the design's own.
    model
        For an ITS, the model actually fitted (``gls`` or ``glm``, what ``auto`` resolved to
        for one outcome), for a stepped-wedge trial ``log_rate`` or ``poisson``; default the
        registered option.
    """
    design = protocol.design
    kind = design.kind
    if kind == "its":
        own = design.its.family
        return _its(protocol, family or own, own, model)
    if kind == "cits":
        return _cits(protocol, family or design.cits.family)
    if kind == "did":
        return _did(protocol, family or design.did.family)
    if kind == "event_study":
        return _did(protocol, family or design.event_study.family)
    if kind in SYNTHETIC_KINDS:
        return _synthetic(protocol)
    if kind == "stepped_wedge":
        return _stepped_wedge(protocol, model)
    return _staggered(protocol)
