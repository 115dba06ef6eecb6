"""``evaltk book``: publish every analysis's results as a Jupyter Book (HTML, optionally PDF)."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

from evaltk.cli.app import app, user_errors
from evaltk.cli.progress import steps

# Paragraphs as single strings: typer's rich help keeps a docstring's line breaks as they are.
HELP = (
    "Build the results book: a landing page with every analysis's verdict, a chapter per "
    "analysis (headline, figures, outcome table, diagnostics, data accounting, "
    "reproducibility), and the methods.\n\n"
    "Reads ANALYSES/*/results/ (results.json, figures/, series.csv) and never re-runs an "
    "analysis: run `evaltk run ANALYSES/NAME` first. Pages from an earlier build are "
    "replaced, so an analysis removed from ANALYSES also leaves the book.\n\n"
    "The HTML is built offline with Jupyter Book into a staging folder, and replaces "
    "BOOK_DIR/_build/html only if the build succeeds. Prints the path of the built index.html.\n\n"
    "With --pdf the same pages are also built to BOOK_DIR/_build/pdf/book.pdf with pdflatex "
    "(Debian: `sudo make system-deps` installs LaTeX), after the HTML has passed the "
    "disclosure check; a failed PDF build keeps any earlier PDF. The PDF's path is then "
    "printed last."
)


@app.command(help=HELP)
@user_errors
def book(
    analyses: Path = typer.Option(
        Path("analyses"),
        "--analyses",
        help="Folder of analyses: one sub-folder each, already run with `evaltk run`.",
    ),
    book_dir: Path = typer.Option(
        Path("book"),
        "--book-dir",
        help="Book source folder holding the hand-written _config.yml, methods.md and "
        "about-results.md. Generated pages go into it; HTML into BOOK_DIR/_build/html.",
    ),
    strict: bool = typer.Option(
        True,
        "--strict/--no-strict",
        help="Fail on any Sphinx warning or broken cross-reference (the default; use it "
        "before publishing). --no-strict builds the book despite warnings.",
    ),
    pdf: bool = typer.Option(
        False,
        "--pdf",
        help="Also build a PDF of the book (BOOK_DIR/_build/pdf/book.pdf) with pdflatex; "
        "needs LaTeX (latexmk and Debian's texlive packages: `sudo make system-deps`).",
    ),
) -> None:
    """Build the results book (see :data:`HELP`; the library call is
    :func:`evaltk.publish.build_book`)."""
    from evaltk.publish import build_book  # Jinja and the book's modules only when building
    from evaltk.publish.pdf import pdf_path

    console = Console(highlight=False)
    started = time.monotonic()
    with steps(console) as say:
        index = build_book(analyses, book_dir, strict=strict, progress=say, pdf=pdf)
    console.print(
        f"built the book{' and its PDF' if pdf else ''} in {time.monotonic() - started:.0f} s"
    )
    # Printed bare (no markup, no wrapping) so that scripts can take the last line as the path.
    print(index)
    if pdf:
        print(pdf_path(book_dir))
