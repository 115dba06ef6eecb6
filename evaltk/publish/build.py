"""Build the book: load the analyses, write the pages, run Jupyter Book 1.x to HTML.

Jupyter Book runs in a subprocess (its own Sphinx application and logging, none of it left in
the caller's process) with the ``jupyter-book`` executable of the running interpreter, so the
book is always built by the environment evaltk is installed in.

Build, check, then publish. HTML is built into a fresh staging folder in
``BOOK/_build/.evaltk/`` (git-ignored, cleaned by the next build if a kill left it), checked
there — the disclosure scan (:func:`evaltk.publish.disclosure.scan_book`) and the HTML-safety
scan (:func:`evaltk.publish.html_safety.scan_html_safety`) — and only then swapped into
``BOOK/_build/html`` (:func:`evaltk.results.atomic.swap_in`: the published folder is replaced
whole and never goes missing). A build that fails, or fails a check, leaves the published book
as it was. A fresh folder also means every page is read on every build, so a strict build
reports every warning, not only those of pages that changed since the last one.

One build at a time: the build holds the lock of ``BOOK/_build``
(:func:`evaltk.locking.folder_lock`); a second ``evaltk book`` waits, then stops with
:class:`~evaltk.errors.FolderBusy`. ``BOOK/_build`` is checked to be writable before anything
is built. On request the same pages are then built to a PDF (:mod:`evaltk.publish.pdf`).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from evaltk.errors import OutputError, PublishError
from evaltk.locking import folder_lock
from evaltk.project import book_sources
from evaltk.publish.disclosure import scan_book, settings_of
from evaltk.publish.html_safety import scan_html_safety
from evaltk.publish.jupyter_book import (
    first_problem,
    jupyter_book_command,
    preload_jupyter_book,
    run_build_command,
)
from evaltk.publish.load import display_path, load_analyses
from evaltk.publish.pages import write_pages
from evaltk.results.atomic import (
    check_writable,
    output_error,
    recover_folder,
    staging_folder,
    swap_in,
)

Progress = Callable[[str], None]
#: Checks of a built HTML folder, run before it is published; each raises PublishError.
Check = Callable[[Path], None]

#: Appended to an error that stops a build before its HTML is swapped in.
UNCHANGED = "the published book is unchanged"


def build_book(
    analyses_dir: Path,
    book_dir: Path,
    *,
    strict: bool = True,
    progress: Progress | None = None,
    pdf: bool = False,
    workers: int = 1,
    preloaded: subprocess.Popen[str] | None = None,
    prewritten: Path | None = None,
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
    workers : int, default 1
        Processes writing the analyses' chapters (:func:`evaltk.publish.pages.write_pages`;
        above 1 they are forked, which the caller knows to be safe on its platform), and
        running Sphinx (``sphinx-build -j``).
    preloaded : subprocess.Popen, optional
        A Jupyter Book child the caller started earlier for this ``book_dir`` (see
        :func:`evaltk.publish.jupyter_book.preload_jupyter_book`, ``jobs=workers``) and ends
        itself; by default one is started here, to import while the pages are written.
    prewritten : pathlib.Path, optional
        Chapters written ahead (:func:`evaltk.publish.pages.prewrite_chapter`), taken where
        their analysis is unchanged (see :func:`evaltk.publish.pages.write_pages`).

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
    build_root = book_dir / "_build"
    check_writable(build_root, UNCHANGED)
    # Jupyter Book imports itself on another core while the pages are written (or started
    # earlier, with the caller's own imports: the demo).
    jupyter_book = (
        nullcontext(preloaded) if preloaded is not None else preload_jupyter_book(book_dir, workers)
    )
    with folder_lock(build_root), jupyter_book as preloaded:
        say(f"Reading analyses in {display_path(analyses_dir)}")
        analyses = load_analyses(analyses_dir, skipped=say)
        scaffolded = book_sources(book_dir)
        if scaffolded is not None and scaffolded.written:
            say(
                f"{display_path(book_dir)} had no _config.yml: wrote evaltk's book sources "
                f"into it ({len(scaffolded.written)} files: _config.yml, methods, validation "
                "records)"
            )
        say(f"Writing pages for {len(analyses)} analys{'is' if len(analyses) == 1 else 'es'}")
        try:
            write_pages(analyses, book_dir, workers=workers, prewritten=prewritten)
        except OSError as error:
            raise _output_error(error, book_dir) from None
        threshold = max(settings_of(a.result).threshold for a in analyses)

        def checks(html: Path) -> None:
            say("Checking the built book for small counts (disclosure control) and scripts")
            scan_book(html, threshold)
            scan_html_safety(html)

        say("Building HTML with Jupyter Book")
        index = run_jupyter_book(book_dir, strict=strict, check=checks, preloaded=preloaded)
        if pdf:
            say("Building the PDF with pdflatex")
            try:
                build_pdf(book_dir, strict=strict)
            except PublishError as error:
                raise PublishError(f"{error} (the HTML book was built: {index})") from None
    return index


def run_jupyter_book(
    book_dir: Path,
    *,
    strict: bool = True,
    check: Check | None = None,
    preloaded: subprocess.Popen[str] | None = None,
) -> Path:
    """Run ``jupyter-book build BOOK --builder html``, check the result, swap it into place.

    Parameters
    ----------
    book_dir : pathlib.Path
        A complete book source folder (``_config.yml``, ``_toc.yml`` and the pages).
    strict : bool, default True
        Pass ``-W -n --keep-going``: warnings and missing references fail the build.
    check : callable, optional
        Called with the built (staged) HTML folder before it is published; if it raises, the
        published ``_build/html`` is left as it was. Its message names the staged page as the
        page it would have been published as.
    preloaded : subprocess.Popen, optional
        A ``jupyter-book`` already importing itself
        (:func:`evaltk.publish.jupyter_book.preload_jupyter_book`), to run the build.

    Returns
    -------
    pathlib.Path
        ``book_dir/_build/html/index.html``.

    Raises
    ------
    PublishError
        If Jupyter Book is missing, fails, times out or produces no ``index.html``, or the
        check fails.
    OutputError
        If ``_build`` is read-only, not ours, or its disk is full.
    """
    build_root = book_dir / "_build"
    final = build_root / "html"
    try:
        build_root.mkdir(parents=True, exist_ok=True)
        _clean_leftovers(build_root)
        recover_folder(final)
        # In _build, which the book's config excludes from its sources, and on the same file
        # system as the published folder, so publishing is a rename.
        staging = staging_folder(final)
    except OSError as error:
        raise _output_error(error, build_root) from None
    try:
        completed = run_build_command(
            jupyter_book_command(book_dir, "html", staging, strict), preloaded=preloaded
        )
        built = staging / "_build" / "html"
        output = completed.stdout + "\n" + completed.stderr
        if completed.returncode != 0 or not (built / "index.html").is_file():
            if "No space left on device" in output:
                raise OutputError(
                    f"{build_root}: cannot write there (no space left on the device); free "
                    f"some space and try again; {UNCHANGED}"
                )
            raise PublishError(
                f"the book in {display_path(book_dir)} did not build: {first_problem(output)}"
                + ("" if not strict else " (or build with --no-strict to see the book anyway)")
            )
        if check is not None:
            try:
                check(built)
            except PublishError as error:
                # Name the page where it would have been published, not the staging folder.
                message = str(error).replace(str(built), str(final))
                raise PublishError(f"{message}; {UNCHANGED}") from None
        swap_in(built, final)
    except OSError as error:
        raise _output_error(error, build_root) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final / "index.html"


def _output_error(error: OSError, folder: Path) -> OSError | OutputError:
    return output_error(error, folder, UNCHANGED) or error


def _clean_leftovers(build_root: Path) -> None:
    """Remove the staging folders that earlier versions of evaltk left in ``_build`` when killed
    (the current ones live in ``_build/.evaltk`` and are cleaned by :func:`recover_folder`),
    and chapters a killed ``evaltk demo`` had written ahead (``.chapters-*``; by the time this
    runs, a live demo's have been taken into the book)."""
    for pattern in (".staging-*", ".retired-*", ".chapters-*"):
        for path in build_root.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)
