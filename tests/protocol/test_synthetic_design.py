"""Synthetic control and synthetic DiD in a protocol: the template and its example validate, and
each impossible donor pool, predictor or placebo date is one line naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltk.errors import ProtocolError
from evaltk.protocol import load_protocol
from evaltk.protocol.canonical import protocol_sha256
from evaltk.protocol.model_description import describe_model

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "protocols" / "street-triage-synthetic-control.yaml"
EXAMPLE = ROOT / "analyses" / "example-street-triage-synthetic"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "analysis.yaml"
    path.write_text(f"protocol: {TEMPLATE}\n{body}", encoding="utf-8")
    return path


def problem(path: Path) -> str:
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_template_and_example_are_valid() -> None:
    protocol = load_protocol(TEMPLATE).protocol
    assert protocol.design.kind == "synthetic_control"
    assert protocol.treated_units == ["E23000019"]
    # Every force of England and Wales but City of London, which has empty months.
    assert len(protocol.comparison_units) == 41 and "E23000034" not in protocol.units
    assert protocol.design.synthetic.donors == "untreated"
    example = load_protocol(EXAMPLE).protocol
    assert example.design == protocol.design
    dumped = example.model_dump(mode="json")["design"]
    assert set(dumped) == {"kind", "synthetic"}


def test_the_plan_names_the_estimator_donors_and_inference() -> None:
    words = describe_model(load_protocol(TEMPLATE).protocol)
    assert "synthetic control (Abadie, Diamond & Hainmueller 2010" in words.plan
    assert "donors: every force without a start date" in words.estimator
    assert "placebo in space" in words.plan and "placebo in time" in words.plan
    for term in words.terms:
        assert term in words.plan and term in words.estimator


def test_options_change_the_hash_and_other_blocks_do_not(tmp_path: Path) -> None:
    base = protocol_sha256(load_protocol(TEMPLATE).protocol)
    other = load_protocol(write(tmp_path, "design: {its: {family: gaussian}}\n")).protocol
    assert protocol_sha256(other) == base
    changed = load_protocol(write(tmp_path, "design: {synthetic: {leave_one_out: false}}\n"))
    assert protocol_sha256(changed.protocol) != base


def test_named_donors_and_predictors_are_valid(tmp_path: Path) -> None:
    donors = ", ".join(f"E230000{n:02d}" for n in range(1, 19)) + ", E23000020, E23000021"
    body = (
        f"design: {{synthetic: {{donors: [{donors}], predictors: "
        "[{outcome: s136_rate, start: 2014-01-01, end: 2015-12-01}]}}\n"
    )
    protocol = load_protocol(write(tmp_path, body)).protocol
    assert len(protocol.design.synthetic.donors) == 20
    assert "1 predictor(s)" in describe_model(protocol).estimator


def test_a_region_of_forces_with_one_date_is_one_treated_unit(tmp_path: Path) -> None:
    body = "intervention: {start: {E23000019: 2016-04-01, E23000018: 2016-04-01}}\n"
    protocol = load_protocol(write(tmp_path, body)).protocol
    assert protocol.treated_units == ["E23000019", "E23000018"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "intervention: {start: {E23000019: 2016-04-01, E23000018: 2017-01-01}}\n",
            "intervention.start gives 2 different dates; design 'synthetic_control' treats the "
            "treated forces as one unit (summed) and needs one date",
        ),
        (
            "design: {synthetic: {donors: [E23000001, E99999999]}}\n",
            "design.synthetic.donors names 'E99999999', which is not in units",
        ),
        (
            "design: {synthetic: {donors: [E23000001, E23000019]}}\n",
            "design.synthetic.donors names 'E23000019', which has a start date",
        ),
        (
            "design: {synthetic: {donors: [E23000001, E23000002, E23000003]}}\n",
            "design.synthetic.donors gives 3 donor(s): the placebo p-value can be no smaller "
            "than 1/4 = 0.250, which is not below decision.alpha 0.05",
        ),
        (
            "units: [E23000019, E23000001, E23000002, E23000003]\n",
            "units gives 3 donor(s): the placebo p-value can be no smaller than 1/4",
        ),
        (
            "units: [E23000019, E23000001]\n",
            "units has 1 force(s) without a start date; design 'synthetic_control' needs at "
            "least two donors",
        ),
        (
            "window: {start: 2016-02-01, end: 2019-12-31}\n",
            "window.start 2016-02-01 leaves 2 month(s) before the start",
        ),
        (
            "window: {start: 2014-01-01, end: 2019-12-31, washout_months: 3}\n",
            "window.washout_months applies to its and cits; design 'synthetic_control'",
        ),
        (
            "design: {synthetic: {predictors: [{outcome: nope, start: 2014-01-01, "
            "end: 2014-12-01}]}}\n",
            "design.synthetic.predictors[0].outcome 'nope' is not an outcome id",
        ),
        (
            "design: {synthetic: {predictors: [{outcome: s136_rate, start: 2015-01-01, "
            "end: 2016-06-01}]}}\n",
            "design.synthetic.predictors[0]: months 2015-01-01 to 2016-06-01 must lie in the "
            "window and before the start (2016-04-01)",
        ),
        (
            "design: {kind: synthetic_did, synthetic: {predictors: [{outcome: s136_rate, "
            "start: 2014-01-01, end: 2014-12-01}]}}\n",
            "design.synthetic.predictors applies to synthetic_control only",
        ),
        (
            "intervention: {start: {E23000019: 2016-04-01, E23000018: 2016-04-01}}\n"
            "design: {synthetic: {predictors: [{outcome: s136_rate, start: 2014-01-01, "
            "end: 2014-12-01}]}}\n",
            "design.synthetic.predictors needs one treated force",
        ),
        (
            "design: {synthetic: {placebo_start: 2016-06-01}}\n",
            "design.synthetic.placebo_start 2016-06-01 must leave at least 2 months of the "
            "window before it and fall before the start (2016-04-01)",
        ),
        (
            "design: {synthetic: {donors: everyone}}\n",
            "design.synthetic.donors",
        ),
    ],
)
def test_impossible_synthetic_designs_name_the_field(
    tmp_path: Path, body: str, expected: str
) -> None:
    message = problem(write(tmp_path, body))
    assert expected in message
