"""The book's one Jinja environment: a template of ``evaltk/publish/templates`` to MyST text.

Every generated page goes through :func:`render`, so every page escapes values the same way
(:func:`evaltk.publish.escape.finalize`) and fails the same way on a missing variable.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import jinja2

from evaltk.publish.escape import finalize


@functools.cache
def environment() -> jinja2.Environment:
    """The shared environment (built once per process).

    Not HTML autoescape: the output is Markdown. ``finalize`` escapes every printed value for
    MyST unless it is Markup, so forgetting a filter can only over-escape, never inject.
    """
    return jinja2.Environment(
        loader=jinja2.PackageLoader("evaltk.publish", "templates"),
        autoescape=False,
        finalize=finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> str:
    """Render ``template`` (a file name in ``evaltk/publish/templates``) with ``context``.

    Parameters
    ----------
    template : str
        The template's file name, e.g. ``"chapter.md.j2"``.
    **context
        The template's variables; a variable the template uses but is not given is an error.

    Returns
    -------
    str
        The page's MyST Markdown, with runs of blank lines collapsed to one.
    """
    text = environment().get_template(template).render(**context)
    # Blank lines pile up where optional blocks are skipped; one is all Markdown needs.
    return re.sub(r"\n{3,}", "\n\n", text)
