"""The analysis plan and the results describe the same model (issue 20, item 3).

For every shipped template and example, and for each design's main variants, the phrases that
name a modelling choice (family, seasonality, errors, GLM or GLS, estimator) appear both in the
plan's sentence (the pre-registration page) and in the results' estimator sentence; and the
examples' golden results.json hold exactly the estimator sentence the description gives.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evaltk.protocol import load_protocol
from evaltk.protocol.model_description import AUTO_RULE, describe_model
from evaltk.protocol.spec import Protocol

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "protocols").glob("*.yaml"))
EXAMPLES = sorted(p for p in (ROOT / "analyses").glob("example-*") if p.is_dir())


def _families(protocol: Protocol) -> list[str | None]:
    return [None, *sorted({o.family for o in protocol.outcomes if o.family is not None})]


def _fitted_models(protocol: Protocol) -> list[str | None]:
    """The models an ITS result can name: ``auto`` resolves to gls or glm per outcome."""
    if protocol.design.kind == "its" and protocol.design.its.model == "auto":
        return ["gls", "glm"]
    if protocol.design.kind == "stepped_wedge" and protocol.design.stepped_wedge.model == "auto":
        return ["log_rate", "poisson"]  # resolved per outcome by its smallest count
    return [None]


def _assert_agree(protocol: Protocol) -> None:
    for family in _families(protocol):
        plan = describe_model(protocol, family).plan
        for model in _fitted_models(protocol):
            description = describe_model(protocol, family, model)
            assert description.terms, protocol.design.kind
            for term in description.terms:
                assert term in description.estimator, (term, description.estimator)
                assert term in plan, (term, plan)


@pytest.mark.parametrize("path", TEMPLATES + EXAMPLES, ids=lambda p: p.name)
def test_plan_and_results_share_every_term(path: Path) -> None:
    _assert_agree(load_protocol(path).protocol)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_golden_results_say_what_the_description_says(example: Path) -> None:
    protocol = load_protocol(example).protocol
    results = json.loads((ROOT / "tests" / "golden" / example.name / "results.json").read_text())
    said = {o["estimator"] for o in results["outcomes"]}
    possible = {
        describe_model(protocol, f, m).estimator
        for f in _families(protocol)
        for m in _fitted_models(protocol)
    }
    if protocol.design.kind == "cits":
        # A CITS of a share or mean is fitted Gaussian (evaltk.estimate.cits.cits_family).
        possible.add(describe_model(protocol, "gaussian").estimator)
    assert said <= possible, said - possible
    # The street-triage example: the plan names the model-based errors of the GLM fallback that
    # the results name (s136 in custody falls back to it), and not the AR(1) correlation.
    if example.name == "example-street-triage":
        assert "model-based errors" in describe_model(protocol).plan
        assert "AR(1) working correlation" not in describe_model(protocol).plan
        assert any("model-based errors" in e for e in said)


def _variant(path: Path, block: str, **options: Any) -> Protocol:
    document = load_protocol(path).protocol.model_dump(by_alias=True)
    document["design"][block] = {**document["design"].get(block, {}), **options}
    return Protocol.model_validate(document)


STREET = ROOT / "analyses" / "example-street-triage"
RCRP = ROOT / "analyses" / "example-right-care-right-person"


@pytest.mark.parametrize(
    ("path", "block", "options", "phrase"),
    [
        (STREET, "its", {"ar1": False, "hac": True, "hac_lags": 3}, "Newey-West errors (3 lags)"),
        (STREET, "its", {"ar1": False}, "model-based errors"),
        (STREET, "its", {"ar1": False, "model": "gls"}, "the log rate by GLS"),
        (RCRP, "cits", {"model": "glm"}, "model-based errors"),
        (RCRP, "cits", {"model": "glm", "hac": True}, "Newey-West errors (auto lags)"),
    ],
)
def test_each_variant_is_named_alike_in_plan_and_results(
    path: Path, block: str, options: dict[str, Any], phrase: str
) -> None:
    protocol = _variant(path, block, **options)
    _assert_agree(protocol)
    assert phrase in describe_model(protocol).plan
    assert any(
        phrase in describe_model(protocol, None, m).estimator for m in _fitted_models(protocol)
    )


def test_gls_plan_says_gls_and_satterthwaite() -> None:
    protocol = load_protocol(RCRP).protocol
    assert protocol.design.cits.model == "gls"
    plan = describe_model(protocol).plan
    assert plan.startswith(
        "Comparative interrupted time series (GLS; each series fitted quasi-Poisson)"
    )
    assert "Satterthwaite degrees of freedom" in plan and "model-based" not in plan


def test_comparison_designs_name_their_inference() -> None:
    staggered = load_protocol(ROOT / "analyses" / "example-control-room-staggered").protocol
    plan = describe_model(staggered).plan
    assert plan.startswith("Callaway & Sant'Anna staggered DiD (doubly robust, not-yet-treated")
    assert plan.endswith(
        "intervals and p-values by a method chosen by the number of forces: below 50, "
        "randomisation inference (adoption dates permuted across forces); from 50 up, "
        "cluster-robust errors."
    )


def test_power_report_names_the_registered_model_alike() -> None:
    """The pre-registration's power section describes the model with the same phrases."""
    from evaltk.power import its_settings, power_analysis

    loaded = load_protocol(STREET)
    settings = its_settings(
        loaded, baseline=50.0, replicates=10, months_after=(12,), effects=(1.0,)
    )
    report = power_analysis(settings, workers=1)
    assert loaded.protocol.design.its.model == "auto"
    gls = describe_model(loaded.protocol, None, "gls").estimator
    glm = describe_model(loaded.protocol, None, "glm").estimator
    assert report.estimator == (
        f"model auto, as the analysis resolves it for each replicate ({AUTO_RULE}): {gls}; "
        f"otherwise {glm}; two-sided test of the level change at alpha = 0.05"
    )
