"""``python -m evaltk.publish.jupyter_book_child``: ``jupyter-book`` loaded ahead of its build.

Jupyter Book, Sphinx, MyST-NB and the book theme take about a second to import: most of a
build's start. ``evaltk book`` starts this child first (:func:`evaltk.publish.jupyter_book.
preload_jupyter_book`), so that the import runs on another core while evaltk reads the
analyses and writes the pages; it then sends the ``jupyter-book`` arguments as one line of
JSON on standard input, and the child runs ``jupyter-book`` with them, exactly as the
command line would. An empty line or end of input (the caller stopped before the build)
ends the child without building anything.

Its own arguments, ``build BOOK_DIR``, only name the build for a process list (``ps``): the
arguments sent must begin with them.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    import myst_nb.sphinx_ext  # noqa: F401 - the slow imports, done before the arguments come
    import sphinx.application  # noqa: F401
    import sphinx_book_theme  # noqa: F401
    from jupyter_book.cli.main import main as jupyter_book

    line = sys.stdin.readline()
    if not line.strip():
        return 0
    arguments = json.loads(line)
    if arguments[: len(sys.argv) - 1] != sys.argv[1:]:
        print(f"jupyter_book_child: started for {sys.argv[1:]}, asked {arguments}", file=sys.stderr)
        return 2
    sys.argv = ["jupyter-book", *arguments]
    # Click's standalone mode ends with SystemExit carrying jupyter-book's status.
    jupyter_book()
    return 0


if __name__ == "__main__":
    sys.exit(main())
