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

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from evaltk.errors import PublishError
from evaltk.publish.disclosure import scan_book, settings_of
from evaltk.publish.load import display_path, load_analyses
from evaltk.publish.pages import write_pages

Progress = Callable[[str], None]

#: Generous: a small book builds in about 6-10 s; this only stops a hung build.
BUILD_TIMEOUT_SECONDS = 600

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PROBLEM = re.compile(r"\b(WARNING|ERROR|SEVERE|CRITICAL)\b|Exception|Error:")


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
        Folder of analyses, one sub-folder each, with ``results/`` written by ``evaltk run``.
    book_dir : pathlib.Path
        The book source folder, holding the hand-written ``_config.yml``, ``methods.md`` and
        ``about-results.md``. Generated files (``index.md``, ``_toc.yml``, ``analyses/``) are
        written into it; the HTML goes to ``book_dir/_build/html``.
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
    analyses = load_analyses(analyses_dir)
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


def jupyter_book_command(book_dir: Path, builder: str, output: Path, strict: bool) -> list[str]:
    """``jupyter-book build BOOK --builder BUILDER --path-output OUTPUT`` (+ strict flags)."""
    command = [
        jupyter_book_executable(),
        "build",
        str(book_dir),
        "--builder",
        builder,
        "--path-output",
        str(output),
    ]
    # -W: warnings are errors; -n: nit-picky (broken references); --keep-going: report all.
    return command + (["-W", "-n", "--keep-going"] if strict else [])


def jupyter_book_executable() -> str:
    """The ``jupyter-book`` next to the running interpreter, else the one on ``PATH``."""
    beside = Path(sys.executable).parent / "jupyter-book"
    if beside.is_file():
        return str(beside)
    found = shutil.which("jupyter-book")
    if found is None:
        raise PublishError(
            "jupyter-book is not installed in this environment; install evaltk with its "
            "dependencies (pip install 'jupyter-book>=1.0.4,<2')"
        )
    return found


def first_problem(output: str) -> str:
    """The first Sphinx warning or error line in the build's output, cleaned for one line."""
    lines = [_ANSI.sub("", line).strip() for line in output.splitlines()]
    lines = [line for line in lines if line]
    for line in lines:
        if _PROBLEM.search(line) and not line.startswith("build finished"):
            return _shorten(line)
    return _shorten(lines[-1]) if lines else "jupyter-book exited without output"


def _shorten(line: str, limit: int = 300) -> str:
    # Sphinx names files by absolute path; relative is easier to read in one line.
    cwd = str(Path.cwd().resolve()) + os.sep
    line = line.replace(cwd, "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def run_build_command(
    command: list[str], extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a ``jupyter-book build`` with its output captured, no terminal and a time limit."""
    env = dict(os.environ)
    # Colour codes would end up in the error message; the build needs no terminal.
    env.update({"NO_COLOR": "1", "TERM": "dumb", "PYTHONIOENCODING": "utf-8"})
    env.update(extra_env or {})
    started = time.monotonic()
    try:
        return subprocess.run(
            command,
            # Nothing may wait for a reply (pdflatex asks one on an error when it can read).
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            timeout=BUILD_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        elapsed = time.monotonic() - started
        raise PublishError(
            f"jupyter-book did not finish within {elapsed:.0f} s; check the book for a page "
            "that runs code, or build it by hand with `jupyter-book build book`"
        ) from None
    except OSError as error:
        raise PublishError(f"could not run {command[0]} ({error})") from None


def _swap(built: Path, final: Path) -> None:
    """Put ``built`` at ``final``, replacing any previous build only now that this one worked."""
    retired = None
    if final.exists():
        retired = Path(tempfile.mkdtemp(prefix=".retired-", dir=final.parent)) / "html"
        final.rename(retired)
    built.rename(final)
    if retired is not None:
        shutil.rmtree(retired.parent, ignore_errors=True)
