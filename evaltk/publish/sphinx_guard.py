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
(tests/analysis/test_demo.py), because of one more handler here: Sphinx names each image file
of the HTML by its basename, numbered when two images share one (``journeys.png``,
``journeys1.png``), in the order the images reach the environment. Read in parallel, the
chunks of pages reach it in the order they finish, so which analysis's figure got the
unnumbered name changed from build to build. Once every page is read, the images are named
again in page order (:func:`name_images_in_page_order`).
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


def name_images_in_page_order(app: Any, env: Any) -> None:
    """Name the book's image files as a serial build does, whatever order the pages were read
    in (on ``env-updated``: every page read, none written yet; the HTML builder looks the
    names up when it writes a page).

    ``env.images`` maps each image's source path to the pages showing it and its file name in
    the HTML. An image is named by the first page, in page-name order, that shows it; images
    first shown by the same page are taken in source-path order. Images whose basenames
    differ keep their basename, as before.
    """
    images = env.images
    by_first_page = sorted(images.items(), key=lambda item: (min(item[1][0]), item[0]))
    renamed = type(images)()
    for source, (pages, _name) in by_first_page:
        for page in sorted(pages):
            renamed.add_file(page, source)
    env.images = renamed


def setup(app: Any) -> dict[str, Any]:
    """Register the handler after sphinx-book-theme's (priority 500, and 501)."""
    app.connect("html-page-context", escape_theme_text, priority=900)
    app.connect("builder-inited", declare_parallel_safe)
    app.connect("env-updated", name_images_in_page_order)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
