"""``python -m evaltk.publish.jupyter_book_child [--jobs N] build BOOK_DIR``: ``jupyter-book``
loaded ahead of its build, building on ``N`` processes.

Jupyter Book, Sphinx, MyST-NB and the book theme take about a second to import: most of a
build's start. ``evaltk book`` starts this child first (:func:`evaltk.publish.jupyter_book.
preload_jupyter_book`), so that the import runs on another core while evaltk reads the
analyses and writes the pages; it then sends the ``jupyter-book`` arguments as one line of
JSON on standard input, and the child runs ``jupyter-book`` with them, exactly as the
command line would. An empty line or end of input (the caller stopped before the build)
ends the child without building anything.

``--jobs N`` runs Sphinx on ``N`` processes (``sphinx-build -j N``), which the ``jupyter-book``
command line cannot ask for. Sphinx reads and writes the pages in forked processes and the
HTML is the same as one process's (tests/publish/test_build.py); the book's own extension
declares the one Jupyter Book extension that is silent about it safe
(:mod:`evaltk.publish.sphinx_guard`).

Its other arguments, ``build BOOK_DIR``, only name the build for a process list (``ps``): the
arguments sent must begin with them.

Once the build is done the child ends without the interpreter's teardown of Sphinx and its
extensions, which took 0.7 s after every build (:mod:`evaltk.quick_exit`).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from evaltk.quick_exit import exit_now, exit_status


def main() -> int:
    from evaltk.garbage_collection import collect_less_often, paused, set_aside_loaded

    with paused():  # the slow imports, done before the arguments come
        import myst_nb.sphinx_ext  # noqa: F401
        import sphinx.application  # noqa: F401
        import sphinx_book_theme  # noqa: F401
        from jupyter_book.cli.main import main as jupyter_book
    # Sphinx makes and drops doctrees by the thousand nodes: about a third less CPU time for
    # the demo's book with what Sphinx loaded set aside and fewer collections.
    set_aside_loaded()
    collect_less_often()
    named = sys.argv[1:]
    if named[:1] == ["--jobs"]:
        _build_on(int(named[1]))
        named = named[2:]
    line = sys.stdin.readline()
    if not line.strip():
        return 0
    arguments = json.loads(line)
    if arguments[: len(named)] != named:
        print(f"jupyter_book_child: started for {named}, asked {arguments}", file=sys.stderr)
        return 2
    sys.argv = ["jupyter-book", *arguments]
    # Click's standalone mode ends with SystemExit carrying jupyter-book's status.
    try:
        jupyter_book()
    except SystemExit as stop:
        exit_now(exit_status(stop))
    exit_now(0)


def _build_on(jobs: int) -> None:
    """Make ``jupyter-book build`` run Sphinx on ``jobs`` processes (its ``build_sphinx``
    takes them; its command line, which imports it at each build, does not pass them)."""
    import jupyter_book.sphinx

    build_sphinx = jupyter_book.sphinx.build_sphinx

    def on_jobs(*args: Any, **kwargs: Any) -> Any:
        return build_sphinx(*args, **kwargs, jobs=jobs)

    jupyter_book.sphinx.build_sphinx = on_jobs


if __name__ == "__main__":
    sys.exit(main())
