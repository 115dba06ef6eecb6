"""The JSON Schemas shipped in protocols/ are the ones the code generates, and they validate."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from evaltk.protocol.schema import protocol_schema, rendered_schemas


def test_committed_schemas_are_current(project_root: Path) -> None:
    for name, text in rendered_schemas().items():
        committed = (project_root / "protocols" / name).read_text(encoding="utf-8")
        assert committed == text, f"protocols/{name} is stale: run `evaltk schema`"


def test_template_validates_against_json_schema(project_root: Path) -> None:
    document = yaml.safe_load((project_root / "protocols" / "street-triage-its.yaml").read_text())
    document = json.loads(json.dumps(document, default=str))  # dates as text, as editors see them
    jsonschema.validate(document, protocol_schema())


def test_json_schema_rejects_a_misspelt_field(project_root: Path) -> None:
    document = yaml.safe_load((project_root / "protocols" / "street-triage-its.yaml").read_text())
    document = json.loads(json.dumps(document, default=str))
    document["titel"] = document.pop("title")
    errors = list(jsonschema.Draft202012Validator(protocol_schema()).iter_errors(document))
    assert errors, "a misspelt top-level field must fail schema validation"
