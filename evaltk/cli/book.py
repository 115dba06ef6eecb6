"""``evaltk book``: publish every analysis's results as a Jupyter Book (HTML, optionally PDF)."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

from evaltk.cli.app import app, user_errors
from evaltk.cli.parallel_runs import MAX_WORKERS, worker_count
from evaltk.cli.progress import steps
from evaltk.project import project_or_cwd

# Paragraphs as single strings: typer's rich help keeps a docstring's line breaks as they are.
HELP = (
    "Build the results book: a landing page with every analysis's verdict, a chapter per "
    "analysis (headline, figures, outcome table, diagnostics, data accounting, "
    "reproducibility), and the methods.\n\n"
    "Reads ANALYSES/*/results/ (results.json, figures/, series.csv) and never re-runs an "
    "analysis: run `evaltk run ANALYSES/NAME` first; an analysis not yet run is left out, "
    "with a line naming it. Inside an evaltk project (a folder with evaltk-project.toml, "
    "made by `evaltk init PROJECT`) ANALYSES and BOOK_DIR default to the project's analyses/ "
    "and book/, from any folder in it; elsewhere to ./analyses and ./book. A BOOK_DIR "
    "without _config.yml first gets evaltk's book sources. Pages from an earlier build are "
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
    analyses: Path | None = typer.Option(
        None,
        "--analyses",
        help="Folder of analyses: one sub-folder each, run with `evaltk run`. Default: the "
        "project's analyses/ (./analyses outside a project).",
        show_default=False,
    ),
    book_dir: Path | None = typer.Option(
        None,
        "--book-dir",
        help="Book source folder holding the hand-written _config.yml, methods.md and "
        "about-results.md (written from evaltk's own if it has no _config.yml). Generated "
        "pages go into it; HTML into BOOK_DIR/_build/html. Default: the project's book/ "
        "(./book outside a project).",
        show_default=False,
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

    project = project_or_cwd()
    analyses = analyses if analyses is not None else project / "analyses"
    book_dir = book_dir if book_dir is not None else project / "book"
    console = Console(highlight=False)
    started = time.monotonic()
    with steps(console) as say:
        index = build_book(
            analyses,
            book_dir,
            strict=strict,
            progress=say,
            pdf=pdf,
            workers=worker_count(MAX_WORKERS),
        )
    console.print(
        f"built the book{' and its PDF' if pdf else ''} in {time.monotonic() - started:.0f} s"
    )
    # Printed bare (no markup, no wrapping) so that scripts can take the last line as the path.
    print(index)
    if pdf:
        print(pdf_path(book_dir))
