"""Publish: results.json and figures -> Jupyter Book (MyST Markdown) -> HTML.

The flow, one module each: :mod:`~evaltk.publish.load` reads and checks every analysis's
``results/``; :mod:`~evaltk.publish.format` turns numbers into words; :mod:`~evaltk.publish.escape`
makes user text safe in MyST; :mod:`~evaltk.publish.chapter` words one analysis's chapter;
:mod:`~evaltk.publish.render` renders a template (one Jinja environment);
:mod:`~evaltk.publish.pages` writes the generated pages, never over a hand-written file
(:mod:`~evaltk.publish.generated`); :mod:`~evaltk.publish.validation` prints the validation
records, fitting nothing;
:mod:`~evaltk.publish.build` runs Jupyter Book and swaps the HTML in on success.

The names below are loaded on first use (PEP 562): the book's Sphinx build imports
:mod:`evaltk.publish.sphinx_guard`, and importing a submodule runs this file first, which must
not pull pandas, matplotlib and every page module into each build (about 1.5 s of CPU).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evaltk.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from evaltk.publish.build import build_book, run_jupyter_book
    from evaltk.publish.load import LoadedAnalysis, find_analyses, load_analyses, load_analysis
    from evaltk.publish.pages import write_pages

#: Public name -> the module that defines it.
_WHERE = {
    "build_book": "evaltk.publish.build",
    "run_jupyter_book": "evaltk.publish.build",
    "LoadedAnalysis": "evaltk.publish.load",
    "find_analyses": "evaltk.publish.load",
    "load_analyses": "evaltk.publish.load",
    "load_analysis": "evaltk.publish.load",
    "write_pages": "evaltk.publish.pages",
}

__all__ = [
    "LoadedAnalysis",
    "build_book",
    "find_analyses",
    "load_analyses",
    "load_analysis",
    "run_jupyter_book",
    "write_pages",
]


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
