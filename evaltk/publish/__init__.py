"""Publish: results.json and figures -> Jupyter Book (MyST Markdown) -> HTML.

The flow, one module each: :mod:`~evaltk.publish.load` reads and checks every analysis's
``results/``; :mod:`~evaltk.publish.format` turns numbers into words; :mod:`~evaltk.publish.escape`
makes user text safe in MyST; :mod:`~evaltk.publish.chapter` words one analysis's chapter;
:mod:`~evaltk.publish.render` renders a template (one Jinja environment);
:mod:`~evaltk.publish.pages` writes the generated pages, never over a hand-written file
(:mod:`~evaltk.publish.generated`); :mod:`~evaltk.publish.validation` prints the validation
records, fitting nothing;
:mod:`~evaltk.publish.build` runs Jupyter Book and swaps the HTML in on success.
"""

from __future__ import annotations

from evaltk.publish.build import build_book, run_jupyter_book
from evaltk.publish.load import LoadedAnalysis, find_analyses, load_analyses, load_analysis
from evaltk.publish.pages import write_pages

__all__ = [
    "LoadedAnalysis",
    "build_book",
    "find_analyses",
    "load_analyses",
    "load_analysis",
    "run_jupyter_book",
    "write_pages",
]
