"""Read a YAML file within bounds, before any of it is expanded or trusted.

A protocol is a few kilobytes of plain mappings. YAML can say far more: an alias (``*name``)
repeats a node, so nine nested lines of aliases ("billion laughs") expand to 10^9 values, and a
node that aliases itself recurses forever. Both are refused here from the parser's event
stream, which is linear in the size of the text and expands nothing. Size and nesting depth are
bounded too, and every way a file can fail to be read (missing, a folder, unreadable, a
symbolic-link loop, not UTF-8) becomes one line naming the file and what to do, without
quoting the file's content.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import yaml

from evaltk.errors import ProtocolError

#: A protocol or analysis file larger than this is not a protocol (the templates are ~10 KiB).
MAX_BYTES = 1 << 20
#: Mappings and lists nested deeper than this are not a protocol (the templates reach 6).
MAX_DEPTH = 32


def read_text(path: Path) -> str:
    """The UTF-8 text of a protocol file, or one :class:`ProtocolError` line saying why not."""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ProtocolError(f"{path}: is a folder; give the path of a YAML file")
        if size > MAX_BYTES:
            raise ProtocolError(
                f"{path}: {size:,} bytes is too large for a protocol (at most {MAX_BYTES:,}); "
                "check that this is the right file"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProtocolError(f"{path}: file not found; check the path") from None
    except PermissionError:
        raise ProtocolError(
            f"{path}: cannot be read (permission denied); check its permissions"
        ) from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ProtocolError(
                f"{path}: a symbolic link that loops back on itself; point it at a real file"
            ) from None
        raise ProtocolError(f"{path}: cannot be read ({error.strerror}); check the path") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProtocolError(f"{path}: not UTF-8 text ({error.reason}); save it as UTF-8") from None


def check_bounds(text: str, path: Path, loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> None:
    """Refuse aliases and over-deep nesting from the event stream, before composing nodes."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            line = event.start_mark.line + 1 if event.start_mark is not None else 0
            if isinstance(event, yaml.AliasEvent):
                raise ProtocolError(
                    f"{path}:{line}: YAML alias '*{event.anchor}' is not "
                    "allowed in a protocol; write the value out in full"
                )
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ProtocolError(
                        f"{path}:{line}: nested more than {MAX_DEPTH} "
                        "levels deep; a protocol is a few levels of fields"
                    )
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
    except yaml.YAMLError as error:
        raise syntax_error(error, path) from None


def syntax_error(error: yaml.YAMLError, path: Path) -> ProtocolError:
    """One line for a YAML syntax error: file, line and the parser's problem (never the line's
    text, which may belong to a file that is not a protocol at all)."""
    mark = getattr(error, "problem_mark", None)
    where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
    problem = getattr(error, "problem", None) or "not valid YAML"
    return ProtocolError(f"{where}: YAML syntax error: {problem}")


def load_mapping(path: Path) -> dict[str, Any]:
    """A bounded ``yaml.safe_load`` of a file that must hold a mapping (templates for init)."""
    text = read_text(path)
    check_bounds(text, path)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise syntax_error(error, path) from None
    if not isinstance(document, dict):
        raise ProtocolError(f"{path}: not a protocol (expected a YAML mapping of fields)")
    return document
