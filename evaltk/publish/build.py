"""Build the book: load the analyses, write the pages, run Jupyter Book 1.x to HTML.

Jupyter Book runs in a subprocess (its own Sphinx application and logging, none of it left in
the caller's process) with the ``jupyter-book`` executable of the running interpreter, so the
book is always built by the environment evaltk is installed in.

HTML is built into a fresh staging folder and swapped into ``book/_build/html`` only when the
build succeeds: a failed build leaves the previous book as it was. A fresh folder also means
every page is read on every build, so a strict build reports every warning, not only those of
pages that changed since the last one (Sphinx's incremental builds stay silent on the rest).
On request the same pages are then built to a PDF (:mod:`evaltk.publish.pdf`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from evaltk.errors import PublishError
from evaltk.project import book_sources
from evaltk.publish.disclosure import scan_book, settings_of
from evaltk.publish.jupyter_book import first_problem, jupyter_book_command, run_build_command
from evaltk.publish.load import display_path, load_analyses
from evaltk.publish.pages import write_pages

Progress = Callable[[str], None]


def build_book(
    analyses_dir: Path,
    book_dir: Path,
    *,
    strict: bool = True,
    progress: Progress | None = None,
    pdf: bool = False,
) -> Path:
    """Generate the book's pages from ``analyses_dir`` and build it to HTML (and a PDF).

    Parameters
    ----------
    analyses_dir : pathlib.Path
        Folder of analyses, one sub-folder each, with ``results/`` written by ``evaltk run``;
        a sub-folder not run yet is left out, with a line to ``progress``.
    book_dir : pathlib.Path
        The book source folder, holding the hand-written ``_config.yml``, ``methods.md`` and
        ``about-results.md``; without a ``_config.yml`` it first gets evaltk's own book
        sources and validation records (:func:`evaltk.project.book_sources`). Generated
        files (``index.md``, ``_toc.yml``, ``analyses/``) are written into it; the HTML goes
        to ``book_dir/_build/html``.
    strict : bool, default True
        Treat every Sphinx warning, and every broken cross-reference (nit-picky mode), as an
        error. The build still runs to the end so that the error names the first problem.
    progress : callable, optional
        Called with a short description of each stage (for a progress display).
    pdf : bool, default False
        Also build ``book_dir/_build/pdf/book.pdf`` (:func:`evaltk.publish.pdf.pdf_path`)
        with pdflatex, once the HTML has been built and has passed the disclosure scan.

    Returns
    -------
    pathlib.Path
        The built landing page, ``book_dir/_build/html/index.html``.

    Raises
    ------
    PublishError
        If an analysis has no (or an invalid) ``results.json``, there are no analyses, a
        generated file would overwrite a hand-written one, or the build fails (the message
        names the first Sphinx warning or error). With ``pdf``, also if LaTeX is missing
        (checked before anything is built) or the PDF fails to build (the HTML is then
        already published; an earlier PDF is kept).
    """
    # Imported here: evaltk.publish.pdf uses this module's runner.
    from evaltk.publish.pdf import build_pdf, require_latex

    if pdf:
        require_latex()  # before minutes of work, not after
    say = progress or (lambda message: None)
    say(f"Reading analyses in {display_path(analyses_dir)}")
    analyses = load_analyses(analyses_dir, skipped=say)
    scaffolded = book_sources(book_dir)
    if scaffolded is not None and scaffolded.written:
        say(
            f"{display_path(book_dir)} had no _config.yml: wrote evaltk's book sources into it "
            f"({len(scaffolded.written)} files: _config.yml, methods, validation records)"
        )
    say(f"Writing pages for {len(analyses)} analys{'is' if len(analyses) == 1 else 'es'}")
    write_pages(analyses, book_dir)
    say("Building HTML with Jupyter Book")
    index = run_jupyter_book(book_dir, strict=strict)
    say("Checking the built book for small counts (disclosure control)")
    scan_book(index.parent, max(settings_of(a.result).threshold for a in analyses))
    if pdf:
        say("Building the PDF with pdflatex")
        try:
            build_pdf(book_dir, strict=strict)
        except PublishError as error:
            raise PublishError(f"{error} (the HTML book was built: {index})") from None
    return index


def run_jupyter_book(book_dir: Path, *, strict: bool = True) -> Path:
    """Run ``jupyter-book build BOOK --builder html`` and swap the result into ``_build/html``.

    Parameters
    ----------
    book_dir : pathlib.Path
        A complete book source folder (``_config.yml``, ``_toc.yml`` and the pages).
    strict : bool, default True
        Pass ``-W -n --keep-going``: warnings and missing references fail the build.

    Returns
    -------
    pathlib.Path
        ``book_dir/_build/html/index.html``.

    Raises
    ------
    PublishError
        If Jupyter Book is missing, fails, times out or produces no ``index.html``.
    """
    build_root = book_dir / "_build"
    build_root.mkdir(parents=True, exist_ok=True)
    # Inside _build, which the config excludes from the sources, and on the same file system
    # as the final folder, so the swap is two renames.
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=build_root))
    try:
        completed = run_build_command(jupyter_book_command(book_dir, "html", staging, strict))
        built = staging / "_build" / "html"
        if completed.returncode != 0 or not (built / "index.html").is_file():
            problem = first_problem(completed.stdout + "\n" + completed.stderr)
            raise PublishError(
                f"the book in {display_path(book_dir)} did not build: {problem}"
                + ("" if not strict else " (or build with --no-strict to see the book anyway)")
            )
        final = build_root / "html"
        _swap(built, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final / "index.html"


def _swap(built: Path, final: Path) -> None:
    """Put ``built`` at ``final``, replacing any previous build only now that this one worked."""
    retired = None
    if final.exists():
        retired = Path(tempfile.mkdtemp(prefix=".retired-", dir=final.parent)) / "html"
        final.rename(retired)
    built.rename(final)
    if retired is not None:
        shutil.rmtree(retired.parent, ignore_errors=True)
