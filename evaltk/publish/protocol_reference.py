"""The protocol reference page, generated from the protocol's JSON Schema at build time.

One table per block: every field with its type, default, allowed values and description, the
top-level fields first, then each nested block (``design``, ``decision``, an outcome, ...) as a
section of its own, linked from the fields that hold it. Built from
:func:`evaltk.protocol.schema.protocol_schema` (the models themselves), so the page cannot
drift from the code; ``protocols/protocol.schema.json`` is the same schema written to a file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaltk.publish import format as fmt
from evaltk.publish.escape import Markup, code, join
from evaltk.publish.generated import MD_MARKER, check_replaceable
from evaltk.publish.render import render

PAGE = "protocol-reference"
_REF = re.compile(r"^#/\$defs/(?P<name>\w+)$")


@dataclass(frozen=True)
class Field:
    """One field of a block, in words."""

    name: Markup
    required: bool
    type: Markup
    default: Markup
    allowed: Markup
    description: Markup


@dataclass(frozen=True)
class Block:
    """A nested object of the schema (a ``$defs`` entry), or the top level."""

    name: str
    anchor: str
    description: Markup
    used_in: Markup
    fields: list[Field]


def anchor(name: str) -> str:
    """The page target of block ``name``: ``protocol-design``."""
    return "protocol-" + re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _link(name: str) -> Markup:
    return Markup(f"{{ref}}`{name} <{anchor(name)}>`")


def _ref_name(node: dict[str, Any]) -> str | None:
    match = _REF.match(node.get("$ref", ""))
    return match["name"] if match else None


def _alternatives(node: dict[str, Any]) -> list[dict[str, Any]]:
    options = node.get("anyOf") or node.get("oneOf")
    return list(options) if options else [node]


def type_text(node: dict[str, Any]) -> Markup:
    """The type in words: ``number``, ``list of string``, ``Design block``, ``... or null``."""
    parts = []
    for option in _alternatives(node):
        ref = _ref_name(option)
        if ref is not None:
            parts.append(Markup(f"{_link(ref)} block"))
            continue
        kind = option.get("type")
        if kind == "array":
            parts.append(Markup(f"list of {type_text(option.get('items', {}))}"))
        elif kind == "object" and isinstance(option.get("additionalProperties"), dict):
            inner = type_text(option["additionalProperties"])
            parts.append(Markup(f"mapping of string to {inner}"))
        elif kind == "null":
            parts.append(Markup("null"))
        elif kind:
            parts.append(Markup(code(kind) if isinstance(kind, str) else code("/".join(kind))))
        else:
            parts.append(Markup("any"))
    return Markup(" or ".join(dict.fromkeys(parts)))


def _code(text: str) -> Markup:
    # A "|" ends a table cell even inside inline code; GFM tables take "\\|" there.
    return Markup(code(text).replace("|", "\\|"))


#: Inline code as docstrings write it: a Sphinx role (:data:`NAME`), ``literal`` or `literal`.
_INLINE_CODE = re.compile(r":[a-z]+:`~?([^`]+)`|``(.+?)``|`([^`]+)`")


def prose(text: str) -> Markup:
    """A model docstring or field description on one line; its inline code spans as code
    (Sphinx roles keep only their target), everything else escaped."""
    parts: list[object] = []
    text = " ".join(text.split())
    at = 0
    for match in _INLINE_CODE.finditer(text):
        parts += [text[at : match.start()], _code(next(g for g in match.groups() if g))]
        at = match.end()
    parts.append(text[at:])
    return join(*parts) if any(parts) else Markup("")


def _value(value: Any) -> Markup:
    return _code(json.dumps(value, ensure_ascii=False))


def allowed_text(node: dict[str, Any]) -> Markup:
    """Constraints in words: the enumerated values, bounds, pattern, lengths, sizes."""
    words: list[str] = []
    for option in _alternatives(node):
        if "enum" in option:
            words.append("one of " + ", ".join(_value(v) for v in option["enum"]))
        if "const" in option:
            words.append(f"exactly {_value(option['const'])}")
        for key, symbol in (
            ("minimum", "≥"),
            ("exclusiveMinimum", ">"),
            ("maximum", "≤"),
            ("exclusiveMaximum", "<"),
        ):
            if key in option:
                words.append(f"{symbol} {fmt.number(option[key]) if option[key] else '0'}")
        if "pattern" in option:
            words.append(f"matches {_code(option['pattern'])}")
        if "minLength" in option:
            words.append(f"at least {option['minLength']} character(s)")
        if "maxLength" in option:
            words.append(f"at most {option['maxLength']} characters")
        if "minItems" in option:
            words.append(f"at least {option['minItems']} item(s)")
        if "maxItems" in option:
            words.append(f"at most {option['maxItems']} items")
        if "items" in option and _ref_name(option["items"]) is None:
            inner = allowed_text(option["items"])
            if inner != fmt.MISSING:
                words.append(f"each {inner}")
        if "discriminator" in node and option is _alternatives(node)[0]:
            words.append(f"chosen by its {code(node['discriminator']['propertyName'])}")
    return Markup("; ".join(dict.fromkeys(words)) or fmt.MISSING)


def default_text(node: dict[str, Any], required: bool) -> Markup:
    if required:
        return Markup("required")
    if "default" not in node:
        # Built by a default factory, which the schema cannot show.
        if any(_ref_name(option) for option in _alternatives(node)):
            return Markup("optional: the block's defaults")
        return Markup("optional")
    value = node["default"]
    if isinstance(value, dict | list) and len(json.dumps(value)) > 60:
        return Markup("see the template")  # a long block (rules) is documented by its fields
    return _value(value)


def _fields(node: dict[str, Any]) -> list[Field]:
    required = set(node.get("required", []))
    return [
        Field(
            name=_code(name),
            required=name in required,
            type=type_text(prop),
            default=default_text(prop, name in required),
            allowed=allowed_text(prop),
            description=prose(prop.get("description", "")) or Markup(fmt.MISSING),
        )
        for name, prop in node.get("properties", {}).items()
    ]


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = _ref_name(node)
        if ref is not None:
            yield ref
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def blocks(schema: dict[str, Any]) -> list[Block]:
    """The top level, then every nested block in the order the top level first reaches it."""
    defs = schema.get("$defs", {})
    order: list[str] = []
    used_in: dict[str, list[Markup]] = {}

    def visit(owner: str, node: dict[str, Any]) -> None:
        for field_name, prop in node.get("properties", {}).items():
            for ref in _references(prop):
                where = Markup(code(field_name) + ("" if owner == "" else f" of {_link(owner)}"))
                used_in.setdefault(ref, [])
                if where not in used_in[ref]:
                    used_in[ref].append(where)
                if ref not in order:
                    order.append(ref)
                    visit(ref, defs[ref])

    visit("", schema)
    order += [name for name in defs if name not in order]  # unreachable blocks, for completeness
    top = Block(
        name="Top level",
        anchor="protocol-top-level",
        description=prose(schema.get("description", "")),
        used_in=Markup(""),
        fields=_fields(schema),
    )
    return [top] + [
        Block(
            name=name,
            anchor=anchor(name),
            description=prose(defs[name].get("description", "")),
            used_in=Markup(", ".join(used_in.get(name, []))),
            fields=_fields(defs[name]),
        )
        for name in order
    ]


def schema_fields(schema: dict[str, Any]) -> set[tuple[str, str]]:
    """Every (block, field) pair of the schema: what the page must list (tests use it)."""
    pairs = {("Top level", name) for name in schema.get("properties", {})}
    for name, node in schema.get("$defs", {}).items():
        pairs |= {(name, field) for field in node.get("properties", {})}
    return pairs


def render_protocol_reference() -> str:
    """The page's Markdown, from the live protocol schema."""
    from evaltk.protocol.schema import protocol_schema

    schema = protocol_schema()
    return render("protocol_reference.md.j2", title=schema.get("title", ""), blocks=blocks(schema))


def write_protocol_reference(book_dir: Path) -> Path:
    """Write ``book_dir/protocol-reference.md`` (never over a hand-written file)."""
    page = book_dir / f"{PAGE}.md"
    check_replaceable(page, MD_MARKER)
    page.write_text(render_protocol_reference(), encoding="utf-8")
    return page
