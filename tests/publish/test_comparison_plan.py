"""The pre-registration page's one-paragraph plan of a comparative ITS names the model used."""

from __future__ import annotations

from pathlib import Path

from evaltk.protocol import load_protocol
from evaltk.protocol.spec import Protocol
from evaltk.publish.comparison import plan_text

ROOT = Path(__file__).resolve().parents[2]


def _example() -> Protocol:
    return load_protocol(ROOT / "analyses" / "example-right-care-right-person").protocol


def test_gls_plan_says_gls_and_satterthwaite() -> None:
    protocol = _example()
    assert protocol.design.cits.model == "gls"
    text = plan_text(protocol)
    assert text.startswith("Comparative interrupted time series (GLS): the difference")
    assert "Satterthwaite degrees of freedom" in text and "model-based" not in text


def test_glm_plan_says_glm_and_its_errors() -> None:
    protocol = _example()
    document = protocol.model_dump(by_alias=True)
    document["design"]["cits"]["model"] = "glm"
    text = plan_text(Protocol.model_validate(document))
    assert text.startswith("Comparative interrupted time series (GLM, quasi-poisson)")
    assert "model-based errors" in text
