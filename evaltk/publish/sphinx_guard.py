"""A Sphinx extension the book loads (``sphinx: extra_extensions`` in ``_config.yml``): the page
titles the book theme puts in the template context, escaped.

sphinx-book-theme sets ``pagetitle`` (and ``root_title``, ``page_description``) from the
document's title as plain text, ``title.astext()``, and its layout writes ``{{ pagetitle }}``
into the print header of every page; Sphinx's templates do not autoescape. So a protocol title
of ``<script>...</script>``, escaped correctly in the Markdown evaltk writes, came back as live
HTML. This handler runs after the theme's (a higher priority number runs later) and escapes
those values; everything else in the context is HTML that Sphinx rendered and escaped already.
:mod:`evaltk.publish.html_safety` checks the built pages whatever the configuration.
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


def setup(app: Any) -> dict[str, Any]:
    """Register the handler after sphinx-book-theme's (priority 500, and 501)."""
    app.connect("html-page-context", escape_theme_text, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
