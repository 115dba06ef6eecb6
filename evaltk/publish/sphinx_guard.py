"""A Sphinx extension the book loads (``sphinx: extra_extensions`` in ``_config.yml``): the page
titles the book theme puts in the template context, escaped.

sphinx-book-theme sets ``pagetitle`` (and ``root_title``, ``page_description``) from the
document's title as plain text, ``title.astext()``, and its layout writes ``{{ pagetitle }}``
into the print header of every page; Sphinx's templates do not autoescape. So a protocol title
of ``<script>...</script>``, escaped correctly in the Markdown evaltk writes, came back as live
HTML. This handler runs after the theme's (a higher priority number runs later) and escapes
those values; everything else in the context is HTML that Sphinx rendered and escaped already.
:mod:`evaltk.publish.html_safety` checks the built pages whatever the configuration.

It also lets the book build on several cores (``evaltk book`` runs Sphinx with one process per
core): Jupyter Book 1.x always loads ``sphinx_multitoc_numbering`` (even with
``use_multitoc_numbering: false``), and that extension does not declare itself safe for
parallel reading, so Sphinx would read serially and warn, which a strict build turns into an
error. It is safe: its only code replaces ``TocTreeCollector.assign_section_numbers``, which
Sphinx runs in the main process once every page is read, and it keeps no state of its own.
The HTML built on two processes is byte-identical to the serial build
(tests/publish/test_build.py).
"""

from __future__ import annotations

import html
from typing import Any

#: Context values the theme fills with raw text (not HTML).
TEXT_VALUES = ("pagetitle", "root_title", "page_description")


def escape_theme_text(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Escape the theme's plain-text values in the page's template context."""
    for name in TEXT_VALUES:
        value = context.get(name)
        if isinstance(value, str) and not hasattr(value, "__html__"):
            context[name] = html.escape(value, quote=True)


#: Extensions that leave their parallel safety undeclared but were read and found safe (above).
KNOWN_PARALLEL_SAFE = ("sphinx_multitoc_numbering",)


def declare_parallel_safe(app: Any) -> None:
    """Mark :data:`KNOWN_PARALLEL_SAFE` extensions, when loaded, safe to read and write in
    parallel (on ``builder-inited``: after every extension is loaded, before any page is read)."""
    for name in KNOWN_PARALLEL_SAFE:
        extension = app.extensions.get(name)
        if extension is not None and extension.parallel_read_safe is None:
            extension.parallel_read_safe = True
            extension.parallel_write_safe = True


def setup(app: Any) -> dict[str, Any]:
    """Register the handler after sphinx-book-theme's (priority 500, and 501)."""
    app.connect("html-page-context", escape_theme_text, priority=900)
    app.connect("builder-inited", declare_parallel_safe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
