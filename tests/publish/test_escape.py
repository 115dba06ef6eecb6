"""User text must render as itself: checked with MyST's own Markdown parser.

The parser is myst-parser's markdown-it configuration with the extensions the book enables
(``book/_config.yml``), so a character that would start a role, a directive, a table cell, a
list or HTML is caught here rather than in a built page.
"""

from __future__ import annotations

import html
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

from evaltk.publish.escape import Markup, code, join, md, one_line, option

from .conftest import BOOK_SOURCES

# The same MyST extensions as the book, read from its config so that the two cannot drift.
_CONFIG = yaml.safe_load((BOOK_SOURCES / "_config.yml").read_text(encoding="utf-8"))
EXTENSIONS = set(_CONFIG["parse"]["myst_enable_extensions"])
PARSER = create_md_parser(MdParserConfig(enable_extensions=EXTENSIONS), RendererHTML)
NASTY = [
    "A&E <4h | *all* _x_ `code` [link](http://x) {ref}`target` $x$ ~~s~~",
    "1. not a list",
    "- not a bullet",
    "+ not a bullet",
    "# not a heading",
    "::: {note}",
    "> not a quote",
    "&amp; &#60; stay as typed",
    "<script>alert(1)</script>",
    "trailing backslash \\",
    "{{ substitution }}",
    "(target)=",
    "line one\nline two\n\n# three",
    "===",
    "2016) not a list either",
]


def _rendered_text(markdown: str) -> str:
    out = PARSER.render(markdown)
    return html.unescape(re.sub(r"<[^>]+>", "", out)).strip()


def _tags(markdown: str) -> set[str]:
    return set(re.findall(r"<(\w+)", PARSER.render(markdown)))


@pytest.mark.parametrize("text", NASTY)
def test_paragraph_renders_as_the_text(text: str) -> None:
    assert _rendered_text(md(text)) == one_line(text)
    assert _tags(md(text)) <= {"p"}


@pytest.mark.parametrize("text", NASTY)
def test_table_cell_keeps_the_table_whole(text: str) -> None:
    table = f"| a | b |\n|---|---|\n| {md(text)} | end |\n"
    rendered = PARSER.render(table)
    assert rendered.count("<td>") == 2
    assert _rendered_text(table).endswith("end")
    assert one_line(text) in html.unescape(re.sub(r"<[^>]+>", "", rendered))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_any_ascii_text_renders_as_itself(text: str) -> None:
    assert _rendered_text(md(text)) == one_line(text)


def test_markup_passes_through_and_join_escapes_only_text() -> None:
    assert md(Markup("**bold**")) == "**bold**"
    sentence = join(Markup("**Note.** "), "A*B ", code("x`y"))
    assert sentence == "**Note.** A\\*B ``x`y``"
    assert _rendered_text(sentence) == "Note. A*B x`y"


def test_option_values_are_literal_one_line() -> None:
    assert option("two\nlines: *kept*") == "two lines: *kept*"
