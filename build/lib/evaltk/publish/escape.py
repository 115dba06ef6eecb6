"""Escape user text (titles, labels, notes, reasons) for the MyST Markdown pages.

Text from ``results.json`` is data, never markup: a label such as ``A&E <24h | *all*`` must
show exactly those characters, must not open a role (``{ref}`...```), a directive fence, a
table cell or a list, and must not inject HTML. The templates escape every ``{{ value }}`` by
default (see :func:`finalize`); markup built on purpose is wrapped in :class:`Markup` so that it
passes through unchanged.

Only the MyST extensions enabled in ``book/_config.yml`` (``colon_fence``) add syntax beyond
CommonMark + tables; if more are enabled there (``dollarmath``, ``substitution``...), their
characters are already escaped here (``$``, ``{``).
"""

from __future__ import annotations

import re
from typing import Any

# CommonMark lets a backslash escape any ASCII punctuation, so escaping a character that needs
# none is harmless. These are the ones that can start or end markup inline, in a table cell or
# in a MyST role (``{role}`text```), target, substitution or math.
_SPECIAL = re.compile(r"([\\`*_\[\]{}<>#|$~!^])")
# '&' only matters when it would form an entity (``&amp;``, ``&#60;``); "A&E" stays readable.
_ENTITY = re.compile(r"&(?=#?\w+;)")
# Only at the start of a line: "12. " or "3) " would open an ordered list, "-" or "+" a bullet
# list, "=" a setext underline, ":::" a directive fence, "%" a MyST comment, "(x)=" a MyST
# target, "+++" a MyST block break.
_LIST_START = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_LINE_START = ("-", "+", "=", ":", "%", "(")
_WHITESPACE = re.compile(r"\s+")


class Markup(str):
    """Text that is already MyST markup and must not be escaped again."""

    __slots__ = ()


def one_line(text: Any) -> str:
    """Collapse all whitespace (newlines included) to single spaces and strip the ends.

    A newline inside a table cell ends the table, and one inside a paragraph can start a
    heading or a list, so user text is always put on one line.
    """
    return _WHITESPACE.sub(" ", str(text)).strip()


def md(text: Any) -> Markup:
    """Escape ``text`` for inline MyST Markdown (paragraphs, headings, table cells).

    ``A&E <4h | *all*`` becomes ``A&E \\<4h \\| \\*all\\*``, which renders as the original.
    """
    if isinstance(text, Markup):
        return text
    return Markup(_protect_start(_escape_chars(one_line(text))))


def join(*parts: object) -> Markup:
    """Concatenate Markup and text into one line, escaping only the text.

    ``str + Markup`` is a plain ``str`` (the mark is lost, and it would be escaped again), so
    sentences that mix the two are built with this. Spaces at the ends of parts are kept.
    """
    pieces = [
        part if isinstance(part, Markup) else _escape_chars(_WHITESPACE.sub(" ", str(part)))
        for part in parts
    ]
    line = "".join(pieces).strip()
    if parts and not isinstance(parts[0], Markup):
        line = _protect_start(line)
    return Markup(line)


def _escape_chars(text: str) -> str:
    return _ENTITY.sub(r"\\&", _SPECIAL.sub(r"\\\1", text))


def _protect_start(line: str) -> str:
    line = _LIST_START.sub(r"\1\\\2", line)
    if line[:1] in _LINE_START:
        line = "\\" + line
    return line


def option(text: Any) -> Markup:
    """Text for a directive option value (``:alt:``), which MyST reads literally, not as Markdown.

    Backslashes would show, so only what breaks the option line is changed: newlines become
    spaces.
    """
    return Markup(one_line(text))


def code(text: Any) -> Markup:
    """Inline code: a backtick run longer than any inside ``text`` (CommonMark's rule)."""
    line = one_line(text)
    longest = max((len(run) for run in re.findall(r"`+", line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    return Markup(f"{fence}{pad}{line}{pad}{fence}")


def finalize(value: Any) -> Any:
    """Jinja ``finalize`` hook: escape every printed value unless it is :class:`Markup`."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    return md(value)
