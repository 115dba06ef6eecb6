"""JSON Schemas generated from the models, so that editors and scripts validate against the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evaltk.protocol.spec import Protocol
from evaltk.results.schema import RESULTS_SCHEMA_VERSION, AnalysisResult


def protocol_schema() -> dict[str, Any]:
    schema = Protocol.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "evaltk protocol"
    # Analysis files extend a template with `protocol: PATH`; allow that key for editors.
    schema["properties"]["protocol"] = {
        "type": "string",
        "description": "Path of the protocol template this analysis follows.",
    }
    return schema


def results_schema() -> dict[str, Any]:
    schema = AnalysisResult.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"evaltk results.json, schema version {RESULTS_SCHEMA_VERSION}"
    return schema


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in (
        ("protocol.schema.json", protocol_schema()),
        ("results.schema.json", results_schema()),
    ):
        path = folder / name
        path.write_text(_dump(schema), encoding="utf-8")
        written.append(path)
    return written


def rendered_schemas() -> dict[str, str]:
    """The schema files' expected contents (tests compare them with the committed files)."""
    return {
        "protocol.schema.json": _dump(protocol_schema()),
        "results.schema.json": _dump(results_schema()),
    }
