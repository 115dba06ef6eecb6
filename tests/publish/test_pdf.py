"""`evaltk book --pdf`: a real pdflatex build, read back with poppler's pdfinfo, pdftotext and
pdfimages; a failed PDF build keeps the previous PDF; missing LaTeX is one line, before any work.

Needs Debian's LaTeX and poppler-utils (`sudo make system-deps`): skipped without them, failed
under CI=true.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from browser.programs import require_program
from typer.testing import CliRunner

from evaltk.cli import app
from evaltk.cli.progress import without_steps
from evaltk.registration.log import read_log
from evaltk.results.schema import AnalysisResult

from .conftest import BOOK_SOURCES, HANDWRITTEN, TITLE, make_result, write_analysis

RUNNER = CliRunner()
REGISTERED = BOOK_SOURCES.parent / "analyses" / "example-right-care-right-person"
LATEX_HINT = (
    "install Debian's latexmk texlive-latex-recommended texlive-latex-extra "
    "texlive-fonts-recommended tex-gyre poppler-utils (`sudo make system-deps`)"
)


def _require_latex_and_poppler() -> None:
    for program in ("latexmk", "pdflatex", "pdftotext", "pdfinfo", "pdfimages"):
        require_program((program,), LATEX_HINT)


def _book_command(root: Path) -> list[str]:
    return ["book", "--pdf", "--analyses", str(root / "analyses"), "--book-dir", str(root / "book")]


def _poppler(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The example analysis's book built with --pdf once (about 20 s): its root and stdout."""
    _require_latex_and_poppler()
    root = tmp_path_factory.mktemp("pdf")
    folder = write_analysis(root / "analyses" / "example-street-triage", make_result())
    # The Right Care, Right Person example's registration: long outcome ids and amendments.
    shutil.copyfile(REGISTERED / "registration.json", folder / "registration.json")
    (root / "book").mkdir()
    for name in HANDWRITTEN:
        shutil.copyfile(BOOK_SOURCES / name, root / "book" / name)
    result = RUNNER.invoke(app, _book_command(root), env={"COLUMNS": "500"})
    assert result.exit_code == 0, result.output
    return root, result.stdout


def test_pdf_has_pages_the_analysis_and_its_figures(built: tuple[Path, str]) -> None:
    root, stdout = built
    pdf = root / "book" / "_build" / "pdf" / "book.pdf"
    # The PDF's path is the last line printed, after the HTML's.
    lines = stdout.strip().splitlines()
    assert lines[-1] == str(pdf)
    assert lines[-2] == str(root / "book" / "_build" / "html" / "index.html")
    info = re.search(r"^Pages:\s+(\d+)$", _poppler("pdfinfo", str(pdf)), re.M)
    assert info is not None and int(info.group(1)) > 1
    text = re.sub(r"\s+", " ", _poppler("pdftotext", "-enc", "UTF-8", str(pdf), "-"))
    assert TITLE in text  # "<", ">" and "|" of the title survive LaTeX
    for label in ("Section 136 detentions per 100,000 residents", "Conveyances to A&E"):
        assert label in text
    assert "28 % lower (95 % CI 36 % lower to 19 % lower)" in text
    assert "Methods" in text and "About results.json" in text
    # Both outcome figures are in it: pdfimages lists one "image" row per placement, and each
    # PNG (80 x 48 pixels, written by the fixture) is one PDF object however often it is shown.
    rows = [row.split() for row in _poppler("pdfimages", "-list", str(pdf)).splitlines()[2:]]
    images = [row for row in rows if row[2] == "image"]
    assert len({row[10] for row in images}) == 2  # distinct object ids
    assert {(row[3], row[4]) for row in images} == {("80", "48")}
    # Staging folders do not outlive the builds (evaltk's work folder keeps its .gitignore).
    build = root / "book" / "_build"
    assert sorted(p.name for p in build.iterdir()) == [".evaltk", ".evaltk.lock", "html", "pdf"]
    assert sorted(p.name for p in (build / ".evaltk").iterdir()) == [".gitignore"]
    assert sorted(p.name for p in pdf.parent.iterdir()) == ["book.pdf"]


def test_pdf_pre_registration_keeps_ids_whole_and_amendments_in_words(
    built: tuple[Path, str],
) -> None:
    """Issue 20: the Variables table's ids are printed whole (not cut to "s136_custoc"), and
    the amendment log reads as words, as on the HTML page."""
    root, _ = built
    pdf = root / "book" / "_build" / "pdf" / "book.pdf"
    text = _poppler("pdftotext", "-enc", "UTF-8", str(pdf), "-")
    # From the page's title to its last amendment (later chapters document the cost fields).
    page = text[text.index("Pre-registration: ") : text.rindex("Fingerprint after this amendment")]
    ids = [
        o["id"] for o in read_log(REGISTERED / "registration.json").original.protocol["outcomes"]
    ]
    assert len(ids) == 7
    for outcome_id in ids:
        assert re.search(rf"(?<![\w]){outcome_id}(?![\w])", page), outcome_id
    flat = re.sub(r"\s+", " ", page)
    assert "Ambulance conveyances per 100,000 residents: unit cost added, £300 per event" in flat
    assert "amount_gbp" not in flat and '"agency"' not in flat


def test_a_failed_pdf_build_keeps_the_previous_pdf(built: tuple[Path, str], tmp_path: Path) -> None:
    root = tmp_path / "again"
    shutil.copytree(built[0], root)
    pdf = root / "book" / "_build" / "pdf" / "book.pdf"
    before = pdf.read_bytes()
    # A character pdflatex cannot typeset (an ambulance emoji) in the analysis's title.
    results = root / "analyses" / "example-street-triage" / "results" / "results.json"
    result = AnalysisResult.model_validate_json(results.read_text(encoding="utf-8"))
    results.write_text(result.model_copy(update={"title": "Street triage 🚑"}).to_json())
    outcome = RUNNER.invoke(app, _book_command(root), env={"COLUMNS": "500"})
    assert outcome.exit_code == 2
    (message,) = without_steps(outcome.stderr)  # one line besides the step lines
    assert "Traceback" not in outcome.output
    assert "did not build: LaTeX Error: Unicode character 🚑 (U+1F691)" in message
    assert "\\DeclareUnicodeCharacter" in message and "any earlier PDF is unchanged" in message
    assert pdf.read_bytes() == before
    build = root / "book" / "_build"
    assert sorted(p.name for p in build.iterdir()) == [".evaltk", ".evaltk.lock", "html", "pdf"]
    assert sorted(p.name for p in (build / ".evaltk").iterdir()) == [".gitignore"]
    # The HTML, which can show the character, was built and says so.
    assert "Street triage 🚑" in (root / "book" / "_build" / "html" / "index.html").read_text()


def test_missing_latex_is_one_line_before_anything_is_built(
    analyses_dir: Path, book_dir: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    outcome = RUNNER.invoke(
        app,
        ["book", "--pdf", "--analyses", str(analyses_dir), "--book-dir", str(book_dir)],
        env={"COLUMNS": "500", "PATH": str(empty)},
    )
    assert outcome.exit_code == 2
    assert outcome.stderr.strip() == (
        "error: cannot build the PDF: make, latexmk, pdflatex not found; install Debian's "
        "latexmk texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended "
        "tex-gyre (`sudo make system-deps` does it), or build without --pdf"
    )
    assert not (book_dir / "_build").exists()
