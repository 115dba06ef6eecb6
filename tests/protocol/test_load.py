"""Loading protocols: templates, analysis overrides, and errors that name file, line and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from evaltk.errors import ProtocolError
from evaltk.protocol import load_protocol

TEMPLATE = Path(__file__).resolve().parents[2] / "protocols" / "street-triage-its.yaml"


def write(tmp_path: Path, text: str, name: str = "analysis.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def analysis(tmp_path: Path, extra: str = "") -> Path:
    return write(tmp_path, f"protocol: {TEMPLATE}\n{extra}")


def problems(path: Path) -> list[str]:
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    return str(caught.value).splitlines()


def test_shipped_template_is_valid() -> None:
    loaded = load_protocol(TEMPLATE)
    protocol = loaded.protocol
    assert protocol.design.kind == "its"
    assert [o.id for o in protocol.primary_outcomes] == ["s136_rate"]
    assert len(protocol.outcomes) == 10
    assert protocol.its_start() == dt.date(2016, 4, 1)
    repeat = protocol.outcome("repeat_28d").measure
    assert repeat is not None and repeat.repeat is not None and repeat.repeat.within_days == 28


def test_shipped_example_analysis_is_valid(project_root: Path) -> None:
    loaded = load_protocol(project_root / "analyses" / "example-street-triage")
    assert loaded.template == TEMPLATE
    assert loaded.protocol.units == ["E23000019"]


def test_analysis_overrides_merge_mappings_and_replace_lists(tmp_path: Path) -> None:
    path = analysis(
        tmp_path,
        "units: [E23000018]\nintervention: {start: {E23000018: 2017-01-15}}\n"
        "design: {its: {family: negative_binomial}}\n",
    )
    protocol = load_protocol(path).protocol
    assert protocol.units == ["E23000018"]
    assert protocol.intervention.kind == "street_triage"  # kept from the template
    assert protocol.design.its.family == "negative_binomial"
    assert protocol.design.its.harmonics == 2  # sibling kept from the template


def test_misspelt_field_names_file_line_and_field(tmp_path: Path) -> None:
    path = analysis(tmp_path, "titel: Oops\n")
    assert problems(path) == [
        f"{path}:2: titel: unknown field; check its spelling against the template"
    ]


def test_wrong_type_names_line_and_field(tmp_path: Path) -> None:
    path = analysis(tmp_path, "window:\n  start: 2014-01-01\n  end: soon\n")
    (line,) = problems(path)
    assert line.startswith(f"{path}:4: window.end: ")
    assert "date" in line


def test_unknown_episode_field_in_filter(tmp_path: Path) -> None:
    path = analysis(
        tmp_path,
        "outcomes:\n  - id: s136\n    label: S136\n    role: primary\n    class: resolution\n"
        "    direction: decrease\n    measure: {aggregate: count, where: {s13: true}}\n",
    )
    (line,) = problems(path)
    assert line.startswith(f"{path}:8: outcomes[0].measure.where: ")
    assert "unknown episode field 's13'" in line


def test_every_problem_is_reported(tmp_path: Path) -> None:
    path = analysis(
        tmp_path,
        "titel: x\nseed: many\ndecision: {alpha: 2}\n",
    )
    lines = problems(path)
    assert len(lines) == 3
    assert {line.split(": ")[1] for line in lines} == {"titel", "seed", "decision.alpha"}


def test_unknown_outcome_reference_in_series_source(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """title: Sicily
intervention: {kind: other, start: {sicily: 2005-01-01}}
units: [sicily]
data:
  kind: series
  path: sicily.csv
  year: year
  month: month
  exposure: stdpop
  outcomes: {aces: aces, acute_events: aces}
outcomes:
  - {id: aces, label: ACEs, role: primary, class: resolution, direction: decrease}
design: {kind: its}
window: {start: 2002-01-01, end: 2006-11-30}
""",
    )
    (line,) = problems(path)
    assert "data.outcomes names unknown outcome ids: acute_events" in line


def test_intervention_start_outside_window(tmp_path: Path) -> None:
    path = analysis(tmp_path, "window: {start: 2017-01-01, end: 2019-12-31}\n")
    (line,) = problems(path)
    assert "outside the analysis window" in line


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = analysis(tmp_path, "seed: 1\nseed: 2\n")
    assert problems(path) == [f"{path}:3: 'seed' is given twice; keep one"]


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "title: a: b\n")
    (line,) = problems(path)
    assert line.startswith(f"{path}:1: YAML syntax error")


def test_missing_template(tmp_path: Path) -> None:
    path = write(tmp_path, "protocol: nowhere.yaml\n")
    (line,) = problems(path)
    assert line.startswith(f"{path}:1: protocol: template 'nowhere.yaml' not found")


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    assert problems(tmp_path / "absent.yaml") == [
        f"{tmp_path / 'absent.yaml'}: file not found; check the path"
    ]
    empty = write(tmp_path, "", "empty.yaml")
    assert "the file is empty" in problems(empty)[0]


def test_protocol_is_frozen() -> None:
    protocol = load_protocol(TEMPLATE).protocol
    with pytest.raises(Exception, match="frozen"):
        protocol.title = "changed"  # type: ignore[misc]


def test_impossible_date_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """YAML reads 2019-13-31 as a timestamp; the month is refused in one line, with the
    format to use (issue 20)."""
    path = analysis(tmp_path, "window: {start: 2014-01-01, end: 2019-13-31}\n")
    assert problems(path) == [
        f"{path}:2: window.end: '2019-13-31' is not a date of the calendar; write dates as "
        "YYYY-MM-DD, e.g. 2016-04-01 for 1 April 2016"
    ]


def test_uk_style_date_says_which_format_is_expected(tmp_path: Path) -> None:
    path = analysis(tmp_path, "window: {start: 01/04/2016, end: 2019-12-31}\n")
    (line,) = problems(path)
    assert line.startswith(f"{path}:2: window.start: ")
    assert line.endswith("write dates as YYYY-MM-DD, e.g. 2016-04-01 for 1 April 2016")
