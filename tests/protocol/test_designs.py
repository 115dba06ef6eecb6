"""Comparison designs in a protocol: each kind validates, and each impossible combination of
units, start dates and options is one line naming the file, line and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from evaltk.errors import ProtocolError
from evaltk.estimators.did.options import FEW_CLUSTERS as ESTIMATOR_FEW_CLUSTERS
from evaltk.protocol import load_protocol
from evaltk.protocol.canonical import protocol_sha256
from evaltk.protocol.designs import FEW_CLUSTERS

ROOT = Path(__file__).resolve().parents[2]
STAGGERED = ROOT / "protocols" / "control-room-nurses-staggered.yaml"
ITS = ROOT / "protocols" / "street-triage-its.yaml"


def write(tmp_path: Path, body: str, template: Path = STAGGERED) -> Path:
    path = tmp_path / "analysis.yaml"
    path.write_text(f"protocol: {template}\n{body}", encoding="utf-8")
    return path


def problem(path: Path) -> str:
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_staggered_template_and_example_are_valid() -> None:
    protocol = load_protocol(STAGGERED).protocol
    assert protocol.design.kind == "staggered_did"
    assert protocol.treated_units == ["E23000018", "E23000019", "E23000021"]
    assert protocol.comparison_units == ["E23000020", "E23000022"]
    assert protocol.first_start() == dt.date(2015, 10, 1)
    example = load_protocol(ROOT / "analyses" / "example-control-room-staggered").protocol
    assert example.design.staggered.period_bin == "quarter"
    assert example.data.path == "../example-street-triage/data/episodes.parquet"


@pytest.mark.parametrize(
    "design",
    [
        "{kind: did}",
        "{kind: did, did: {estimator: twfe, family: linear, pretrend: false}}",
        "{kind: event_study, event_study: {leads: 3, lags: 8, width: 1}}",
        "{kind: staggered_did, staggered: {est_method: reg, aggregation: dynamic}}",
        "{kind: staggered_did, inference: {method: wild_bootstrap, draws: 999}}",
    ],
)
def test_each_design_on_staggered_starts_is_valid(tmp_path: Path, design: str) -> None:
    protocol = load_protocol(write(tmp_path, f"design: {design}\n")).protocol
    assert protocol.design.kind in ("did", "event_study", "staggered_did")


@pytest.mark.parametrize("kind", ["cits", "did"])
def test_one_start_designs_are_valid_with_one_date(tmp_path: Path, kind: str) -> None:
    body = (
        "intervention: {start: {E23000019: 2016-04-01}}\n"
        "units: [E23000019, E23000020, E23000022]\n"
        f"design: {{kind: {kind}, did: {{estimator: two_by_two}}}}\n"
    )
    protocol = load_protocol(write(tmp_path, body)).protocol
    assert protocol.comparison_units == ["E23000020", "E23000022"]


def test_blocks_a_design_does_not_read_change_no_hash(tmp_path: Path) -> None:
    base = load_protocol(write(tmp_path, "")).protocol
    other = load_protocol(write(tmp_path, "design: {its: {family: gaussian}}\n")).protocol
    assert protocol_sha256(base) == protocol_sha256(other)
    changed = load_protocol(write(tmp_path, "design: {staggered: {est_method: reg}}\n")).protocol
    assert protocol_sha256(changed) != protocol_sha256(base)
    dumped = base.model_dump(mode="json")["design"]
    assert set(dumped) == {"kind", "staggered", "inference"}


def test_the_its_example_keeps_its_registered_hash() -> None:
    loaded = load_protocol(ROOT / "analyses" / "example-street-triage")
    registration = (ROOT / "analyses" / "example-street-triage" / "registration.json").read_text()
    assert protocol_sha256(loaded.protocol) in registration
    assert set(loaded.protocol.model_dump(mode="json")["design"]) == {"kind", "its"}


def test_auto_threshold_is_the_estimators_one() -> None:
    assert FEW_CLUSTERS == ESTIMATOR_FEW_CLUSTERS == 50


# -- bad protocols: exact file:line: field: message ------------------------------------------
def test_no_treated_unit(tmp_path: Path) -> None:
    path = write(tmp_path, "intervention:\n  start: {}\n")
    assert problem(path) == (
        f"{path}:3: intervention.start: intervention.start gives no start date for any unit in "
        "'units'; design 'staggered_did' needs at least one treated unit"
    )


def test_no_comparison_unit_and_one_date(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "intervention: {start: {E23000019: 2016-04-01, E23000021: 2016-04-01}}\n"
        "units: [E23000019, E23000021]\n",
    )
    assert problem(path) == (
        f"{path}:3: units: units has no comparison unit: design 'staggered_did' needs a unit "
        "without a start date (never treated) or units starting on different dates (not yet "
        "treated)"
    )


def test_never_treated_comparison_needs_five_units(tmp_path: Path) -> None:
    path = write(tmp_path, "design:\n  staggered:\n    control_group: never_treated\n")
    assert problem(path) == (
        f"{path}:4: design.staggered.control_group: design.staggered.control_group "
        "never_treated needs at least 5 units without a start date; this protocol has 2: use "
        "not_yet_treated"
    )


def test_cits_needs_one_start_date(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "design: {kind: cits}\n"
        "intervention:\n  start:\n    E23000019: 2016-04-01\n    E23000021: 2015-10-01\n",
    )
    assert problem(path) == (
        f"{path}:5: intervention.start: intervention.start gives 2 different dates; a "
        "comparative ITS needs one date for every treated unit (use did with estimator twfe, "
        "event_study or staggered_did for staggered starts)"
    )


def test_two_by_two_needs_a_never_treated_unit(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "intervention: {start: {E23000019: 2016-04-01}}\n"
        "units: [E23000019]\n"
        "design: {kind: did, did: {estimator: two_by_two}}\n",
    )
    assert problem(path) == (
        f"{path}:3: units: units has no comparison unit: a 2 x 2 DiD needs at least one unit "
        "without a start date (leave it out of intervention.start)"
    )


def test_start_outside_the_window(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "intervention:\n  start:\n    E23000019: 2016-04-01\n    E23000021: 2013-06-01\n",
    )
    assert problem(path) == (
        f"{path}:5: intervention.start.E23000021: intervention.start.E23000021 2013-06-01 lies "
        "outside the analysis window (2014-01-01 to 2019-12-31): a treated unit needs months "
        "before and after its start"
    )


def test_washout_only_for_its_and_cits(tmp_path: Path) -> None:
    path = write(tmp_path, "window:\n  washout_months: 3\n")
    assert problem(path) == (
        f"{path}:3: window.washout_months: window.washout_months applies to its and cits; "
        "design 'staggered_did' shows the months after adoption in its event-time effects "
        "instead: set it to 0"
    )


def test_unknown_covariate(tmp_path: Path) -> None:
    path = write(tmp_path, "design:\n  staggered:\n    covariates: [income]\n")
    message = problem(path)
    assert message.startswith(
        f"{path}:4: design.staggered.covariates: design.staggered.covariates names 'income': "
        "use 'population' or an outcome id ("
    )


def test_webb_weights_do_not_apply_to_staggered(tmp_path: Path) -> None:
    path = write(tmp_path, "design:\n  inference:\n    weights: webb\n")
    assert problem(path) == (
        f"{path}:4: design.inference.weights: design.inference.weights webb does not apply to "
        "staggered_did: its multiplier bootstrap draws Rademacher weights (use auto or "
        "rademacher)"
    )


def test_misspelt_inference_method_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "design:\n  inference:\n    method: bootstrap\n")
    message = problem(path)
    assert message.startswith(f"{path}:4: design.inference.method: Input should be 'auto'")


def test_unknown_design_kind_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "design:\n  kind: regression_discontinuity\n")
    assert problem(path).startswith(f"{path}:3: design.kind: Input should be 'its', 'did'")


def test_its_still_needs_every_unit_treated(tmp_path: Path) -> None:
    path = write(tmp_path, "units: [E23000019, E23000020]\n", template=ITS)
    assert "an interrupted time series analyses treated units only" in problem(path)


def test_staggered_template_validates_against_json_schema() -> None:
    import json

    import jsonschema
    import yaml

    from evaltk.protocol.schema import protocol_schema

    document = yaml.safe_load(STAGGERED.read_text(encoding="utf-8"))
    document = json.loads(json.dumps(document, default=str))
    jsonschema.validate(document, protocol_schema())
