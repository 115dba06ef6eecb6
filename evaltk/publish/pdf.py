"""The book as one PDF: Jupyter Book's ``pdflatex`` builder (Sphinx → LaTeX → latexmk).

Built from the same generated pages as the HTML, after the HTML has passed the disclosure scan,
so the PDF says nothing the checked HTML does not. LaTeX itself comes from Debian's packages
(``scripts/system-deps.sh``; ``book/_config.yml`` holds the LaTeX settings, including the
characters beyond Latin-1 that the pages use).

Like the HTML, the PDF is built in a fresh staging folder inside ``BOOK/_build/.evaltk/``
(git-ignored; a killed build's folder is removed by the next) and moved to
``BOOK/_build/pdf/book.pdf`` by one rename, only when the build succeeded: a failed build leaves
no half-written PDF and keeps an earlier one as it was.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from evaltk.errors import PublishError
from evaltk.publish.jupyter_book import first_problem, jupyter_book_command, run_build_command
from evaltk.publish.load import display_path
from evaltk.results.atomic import output_error, recover_folder, staging_folder

#: The Debian packages that provide pdflatex, its fonts and classes, and latexmk (DESIGN.md).
LATEX_PACKAGES = (
    "latexmk texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended tex-gyre"
)
#: ``latex_documents: targetname`` in book/_config.yml names the .tex, and so the PDF.
PDF_NAME = "book.pdf"
#: Programs the pdflatex builder runs: Jupyter Book calls ``make all-pdf`` in the LaTeX folder,
#: whose Makefile calls latexmk, which calls pdflatex.
_TOOLS = ("make", "latexmk", "pdflatex")
#: Stop at the first LaTeX error instead of waiting for a reply on the terminal.
_LATEX_OPTIONS = "-interaction=nonstopmode -halt-on-error"
_TEX_ERROR = re.compile(r"^! (.*)$")


def pdf_path(book_dir: Path) -> Path:
    """Where ``evaltk book --pdf`` puts the PDF: ``BOOK/_build/pdf/book.pdf``."""
    return book_dir / "_build" / "pdf" / PDF_NAME


def require_latex() -> None:
    """Fail at once, before any building, if a program the PDF build runs is missing.

    Raises
    ------
    PublishError
        Naming the missing programs and the packages (and command) that install them.
    """
    missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
    if missing:
        raise PublishError(
            f"cannot build the PDF: {', '.join(missing)} not found; install Debian's "
            f"{LATEX_PACKAGES} (`sudo make system-deps` does it), or build without --pdf"
        )


def build_pdf(book_dir: Path, *, strict: bool = True) -> Path:
    """Build the PDF of a book whose pages are already written, and move it into place.

    Parameters
    ----------
    book_dir : pathlib.Path
        A complete book source folder (``_config.yml``, ``_toc.yml`` and the pages), as
        :func:`evaltk.publish.build_book` leaves it.
    strict : bool, default True
        Sphinx warnings and missing references fail the build, as for the HTML.

    Returns
    -------
    pathlib.Path
        ``book_dir/_build/pdf/book.pdf``.

    Raises
    ------
    PublishError
        If LaTeX is missing, or the build fails (naming the first LaTeX or Sphinx error);
        any earlier PDF is then left as it was.
    """
    require_latex()
    build_root = book_dir / "_build"
    final = pdf_path(book_dir)
    unchanged = "any earlier PDF is unchanged"
    try:
        build_root.mkdir(parents=True, exist_ok=True)
        recover_folder(final.parent)
        staging = staging_folder(final.parent)
    except OSError as error:
        raise (output_error(error, build_root, unchanged) or error) from None
    try:
        command = jupyter_book_command(book_dir, "pdflatex", staging, strict)
        # LATEXOPTS is read by the latexmkrc that Sphinx writes beside the .tex.
        completed = run_build_command(command, {"LATEXOPTS": _LATEX_OPTIONS})
        built = staging / "_build" / "latex" / PDF_NAME
        if completed.returncode != 0 or not _is_pdf(built):
            problem = latex_problem(completed.stdout + "\n" + completed.stderr)
            raise PublishError(
                f"the PDF of the book in {display_path(book_dir)} did not build: {problem}; "
                "any earlier PDF is unchanged"
            )
        final.parent.mkdir(exist_ok=True)
        # Same file system (both inside _build), so this is a rename: whole or not at all.
        os.replace(built, final)
    except OSError as error:
        raise (output_error(error, build_root, unchanged) or error) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def latex_problem(output: str) -> str:
    """The first TeX error (``! ...`` and its continuation line), else the first Sphinx one.

    A character pdflatex cannot typeset is the likeliest error in a book of generated pages,
    so that message also says where its mapping goes.
    """
    lines = output.splitlines()
    for number, line in enumerate(lines):
        match = _TEX_ERROR.match(line.strip())
        # TeX's own consequences of the first error, which say nothing about its cause.
        if match is None or match.group(1).startswith(("Emergency stop", " ==> Fatal error")):
            continue
        message = match.group(1).strip()
        following = lines[number + 1].strip() if number + 1 < len(lines) else ""
        if following and not following.startswith(("!", "l.", "See the", "Type")):
            message += " " + following
        if "Unicode character" in message:
            message += (
                " (map it in sphinx: config: latex_elements: preamble in the book's "
                "_config.yml with \\DeclareUnicodeCharacter)"
            )
        return message
    return first_problem(output)


def _is_pdf(path: Path) -> bool:
    # latexmk can leave a file behind from a run that failed later; a PDF starts with %PDF-
    # and ends with %%EOF (allowing trailing whitespace).
    if not path.is_file() or path.stat().st_size < 64:
        return False
    with path.open("rb") as handle:
        head = handle.read(5)
        handle.seek(-32, os.SEEK_END)
        tail = handle.read()
    return head == b"%PDF-" and b"%%EOF" in tail
