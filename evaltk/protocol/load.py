"""Read protocol and analysis YAML into a :class:`~evaltk.protocol.spec.Protocol`.

An *analysis* file (``analyses/NAME/analysis.yaml``) names the protocol template it follows with
``protocol: PATH`` and sets or overrides values for this analysis (units, start dates, data
paths). Mappings are merged key by key; any other value (a list, a date) replaces the template's.
A file without ``protocol:`` is a complete protocol on its own.

Every problem is reported with the file and line it comes from, so that an analyst can go
straight to it: ``analysis.yaml:14: outcomes[2].measure.where.s13: unknown episode field``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from evaltk.errors import ProtocolError
from evaltk.protocol.spec import Protocol
from evaltk.protocol.trial import with_drawn_schedule
from evaltk.protocol.yaml_text import check_bounds, read_text, syntax_error

Location = tuple[str | int, ...]

#: What a date must look like, said wherever a date is refused (a UK 01/04/2016 is ambiguous).
DATE_FORMAT = "write dates as YYYY-MM-DD, e.g. 2016-04-01 for 1 April 2016"


@dataclass(frozen=True)
class SourceMap:
    """Where each value of a merged document came from: path -> (file, line)."""

    lines: dict[Location, tuple[Path, int]]

    def locate(self, loc: Location, fallback: Path) -> tuple[Path, int | None]:
        # Pydantic locations may carry a union tag ('episodes') or stop below a missing key;
        # walk down as far as the document goes, skipping elements it does not hold.
        best: tuple[Path, int | None] = (fallback, None)
        path: Location = ()
        for part in loc:
            candidate = (*path, part)
            if candidate in self.lines:
                path = candidate
                best = self.lines[path]
        return best


@dataclass(frozen=True)
class LoadedProtocol:
    """A validated protocol together with the files it was built from."""

    protocol: Protocol
    path: Path  # the analysis (or protocol) file given by the user
    folder: Path  # relative data paths resolve against this folder
    template: Path | None  # the protocol template an analysis follows
    document: dict[str, Any]  # the merged plain document that was validated (for hashing)


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (a silent overwrite would hide a typo)."""


def _read_yaml(path: Path) -> tuple[Any, dict[Location, tuple[Path, int]]]:
    text = read_text(path)
    check_bounds(text, path, _LineLoader)
    try:
        node = yaml.compose(text, Loader=_LineLoader)
    except yaml.YAMLError as error:
        raise syntax_error(error, path) from None
    if node is None:
        raise ProtocolError(f"{path}: the file is empty; start from a template in protocols/")
    lines: dict[Location, tuple[Path, int]] = {}
    value = _to_python(node, (), path, lines)
    if not isinstance(value, dict):
        raise ProtocolError(f"{path}:1: the document must be a mapping of fields")
    return value, lines


def _to_python(
    node: yaml.Node, loc: Location, path: Path, lines: dict[Location, tuple[Path, int]]
) -> Any:
    lines[loc] = (path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _LineLoader("").construct_object(key_node)
            if not isinstance(key, str | int | bool):
                raise ProtocolError(
                    f"{path}:{key_node.start_mark.line + 1}: a key must be text, not {key!r}"
                )
            key = str(key) if not isinstance(key, str) else key
            if key in result:
                raise ProtocolError(
                    f"{path}:{key_node.start_mark.line + 1}: '{key}' is given twice; keep one"
                )
            result[key] = _to_python(value_node, (*loc, key), path, lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*loc, i), path, lines) for i, item in enumerate(node.value)]
    try:
        return _LineLoader("").construct_object(node)
    except ValueError:
        # YAML reads 2019-13-31 as a timestamp and Python refuses the month: say so in one line.
        raise ProtocolError(
            f"{path}:{node.start_mark.line + 1}: {_format_loc(loc) or '(document)'}: "
            f"{node.value!r} is not a date of the calendar; {DATE_FORMAT}"
        ) from None


# Mappings keyed by the analysis's own units or columns: an analysis states them whole, so a
# template's example force or column names never leak into it.
_REPLACED_WHOLE: frozenset[Location] = frozenset(
    {("intervention", "start"), ("data", "columns"), ("data", "outcomes")}
)


def _merge(base: dict[str, Any], override: dict[str, Any], at: Location = ()) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        here = (*at, key)
        if (
            isinstance(value, dict)
            and isinstance(merged.get(key), dict)
            and here not in _REPLACED_WHOLE
        ):
            merged[key] = _merge(merged[key], value, here)
        else:
            merged[key] = value
    return merged


def _format_loc(loc: Location) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _field_named_in(message: str, sources: SourceMap) -> Location:
    head = message.split(" ", 1)[0].rstrip(":")
    candidate: Location = tuple(head.split("."))
    return candidate if candidate in sources.lines else ()


def _problems(error: ValidationError, sources: SourceMap, fallback: Path) -> list[str]:
    problems = []
    for item in error.errors():
        loc: Location = tuple(p for p in item["loc"] if p not in ("episodes", "series"))
        if not loc:
            # A cross-field check on the whole document; its message starts with the field.
            loc = _field_named_in(item["msg"].removeprefix("Value error, "), sources)
        path, line = sources.locate(loc or tuple(item["loc"]), fallback)
        where = f"{path}:{line}" if line else str(path)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field; check its spelling against the template"
        elif item["type"] == "missing":
            message = "required field is missing"
        elif item["type"].startswith("date"):
            message = f"{message}; {DATE_FORMAT}"
        field = _format_loc(loc) or "(document)"
        problems.append(f"{where}: {field}: {message}")
    return problems


def _jsonable(value: Any) -> Any:
    """Plain JSON-like copy of a document (dates to ISO text) for hashing and storage."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def load_protocol(path: str | Path) -> LoadedProtocol:
    """Load and validate a protocol or analysis file.

    Raises
    ------
    ProtocolError
        With one line per problem, each naming the file, line and field.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "analysis.yaml"
    document, lines = _read_yaml(path)
    template: Path | None = None
    if "protocol" in document:
        reference = document.pop("protocol")
        if not isinstance(reference, str):
            line = lines[("protocol",)][1]
            raise ProtocolError(f"{path}:{line}: protocol: give the path of a protocol template")
        try:
            template = (path.parent / reference).resolve()
        except (RuntimeError, OSError):  # a symbolic-link loop (RuntimeError before 3.13)
            line = lines[("protocol",)][1]
            raise ProtocolError(
                f"{path}:{line}: protocol: '{reference}' is a symbolic link that loops back "
                "on itself; point it at a template file"
            ) from None
        if not template.is_file():
            line = lines[("protocol",)][1]
            raise ProtocolError(
                f"{path}:{line}: protocol: template '{reference}' not found (looked for {template})"
            )
        base, base_lines = _read_yaml(template)
        if "protocol" in base:
            raise ProtocolError(f"{template}: a template cannot itself name a 'protocol'")
        document = _merge(base, document)
        lines = {**base_lines, **lines}
    document = with_drawn_schedule(document, path.parent)
    try:
        protocol = Protocol.model_validate(document)
    except ValidationError as error:
        raise ProtocolError("\n".join(_problems(error, SourceMap(lines), path))) from None
    return LoadedProtocol(
        protocol=protocol,
        path=path,
        folder=path.parent,
        template=template,
        document=_jsonable(document),
    )
