"""``evaltk register --export osf`` (issue 20, item 5): the registered plan as the 25 fields of
OSF's standard form, OSF Prereg, under the form's own labels and in its order; every answer
from the registration, the model sentence the same as the results' description."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evaltk.cli.app import app
from evaltk.protocol.model_description import describe_model
from evaltk.protocol.spec import Protocol
from evaltk.publish.osf_form import FORM
from evaltk.publish.preregistration import hypotheses
from evaltk.registration.log import read_log

from .conftest import ROOT

runner = CliRunner()

#: OSF Prereg's labels, in order (Bowman et al. 2016; the form's items 1 to 25).
OSF_LABELS = [
    "Title", "Authors", "Description", "Hypotheses",
    "Study type", "Blinding", "Is there any additional blinding in this study?",
    "Study design", "Randomization",
    "Existing data", "Explanation of existing data", "Data collection procedures",
    "Sample size", "Sample size rationale", "Stopping rule",
    "Manipulated variables", "Measured variables", "Indices",
    "Statistical models", "Transformations", "Inference criteria", "Data exclusion",
    "Missing data", "Exploratory analysis",
    "Other",
]  # fmt: skip


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "protocols", tmp_path / "protocols")
    for name in ("example-street-triage", "example-right-care-right-person"):
        shutil.copytree(ROOT / "analyses" / name, tmp_path / "analyses" / name)
    return tmp_path


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "500"})
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_form_labels_are_osf_prereg_s() -> None:
    assert [label for _, items in FORM for _, label in items] == OSF_LABELS
    assert [item for _, items in FORM for item, _ in items] == [f"item_{i}" for i in range(1, 26)]


def test_export_fills_every_field_from_the_registration(project: Path) -> None:
    folder = project / "analyses" / "example-street-triage"
    code, output = _invoke("register", str(folder), "--export", "osf")
    assert code == 0, output
    assert output.startswith(f"wrote {folder / 'osf-preregistration.md'} and osf-preregistration")
    document = json.loads((folder / "osf-preregistration.json").read_text(encoding="utf-8"))
    items = {i["label"]: i["value"] for i in document["items"]}
    assert list(items) == OSF_LABELS and all(v.strip() for v in items.values())
    log = read_log(folder / "registration.json")
    protocol = Protocol.model_validate(log.head.protocol)
    assert items["Title"] == protocol.title
    assert items["Hypotheses"] == "\n".join(f"- {h}" for h in hypotheses(protocol))
    # The model sentence is the one the results' estimator is built from.
    assert items["Statistical models"] == describe_model(protocol).plan
    assert "model-based errors" in items["Statistical models"]
    assert items["Existing data"] == "Registration prior to creation of data"
    assert items["Sample size"] == (
        "1 unit(s) (E23000019) × 72 months: 27 before and 45 from the (first) start. Every "
        "recorded incident in the window; no sampling."
    )
    # The minimum detectable change at the registered 45 months, as power.json holds it.
    power = json.loads((folder / "power" / "power.json").read_text(encoding="utf-8"))
    (at_45,) = [m for m in power["minimum_detectable"] if m["months_after"] == 45]
    expected = (
        "larger than any change in the grid"
        if at_45["effect"] is None
        else f"{round(100 * (1 - at_45['effect']))} % lower"
    )
    assert f"- 45 months after the start: {expected}" in items["Sample size rationale"]
    assert "(same SHA-256)" in items["Sample size rationale"]
    assert items["Inference criteria"].startswith(
        "- Tests are two-sided at α = 0.05; intervals are 95 % confidence intervals."
    )
    # The Markdown holds the same answers under the form's headings, in order.
    markdown = (folder / "osf-preregistration.md").read_text(encoding="utf-8")
    positions = [markdown.index(f"\n### {label}\n") for label in OSF_LABELS]
    assert positions == sorted(positions)
    assert "\n## Analysis Plan\n" in markdown


def test_amendments_are_listed_in_words(project: Path) -> None:
    folder = project / "analyses" / "example-right-care-right-person"
    assert _invoke("register", str(folder), "--export", "osf")[0] == 0
    document = json.loads((folder / "osf-preregistration.json").read_text(encoding="utf-8"))
    other = document["items"][-1]["value"]
    entries = json.loads((folder / "registration.json").read_text(encoding="utf-8"))["entries"]
    amendments = sum(entry["kind"] == "amendment" for entry in entries)
    assert amendments >= 3
    assert f"Amended {amendments} time(s) since" in other
    assert "(Design (comparative interrupted time series): model set to gls)" in other
    assert "{" not in other


def test_export_before_registering_is_one_line(project: Path) -> None:
    folder = project / "analyses" / "example-street-triage"
    (folder / "registration.json").unlink()
    code, output = _invoke("register", str(folder), "--export", "osf")
    assert code == 2
    assert output.strip() == (
        f"error: {folder / 'registration.json'}: not registered yet; register first (`evaltk "
        f"register {folder} --data-access ...`), then export what was registered"
    )
    code, output = _invoke("register", str(folder))
    assert code == 2
    assert output.strip() == (
        f"error: {folder}: say what the team had seen of the data with --data-access "
        "(not_collected, collected_not_accessed, accessed_outcomes_not_examined, "
        "outcomes_examined; see `evaltk register --help`)"
    )
    assert not (folder / "registration.json").exists()
