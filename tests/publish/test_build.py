"""The real Jupyter Book build, twice: once strict and successful, once failing.

Each build takes about 6-10 s, so the successful one is shared by the tests that read its HTML.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest

from evaltk.errors import PublishError
from evaltk.publish import build_book
from evaltk.publish.jupyter_book import first_problem

from .conftest import BOOK_SOURCES, HANDWRITTEN, TITLE, VERDICT, make_result, write_analysis


def _book(root: Path) -> tuple[Path, Path]:
    analyses = root / "analyses"
    write_analysis(analyses / "example-street-triage", make_result())
    book = root / "book"
    book.mkdir()
    for name in HANDWRITTEN:
        shutil.copyfile(BOOK_SOURCES / name, book / name)
    return analyses, book


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    analyses, book = _book(tmp_path_factory.mktemp("built"))
    stages: list[str] = []
    index = build_book(analyses, book, strict=True, progress=stages.append)
    return index, stages


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"\s+", " ", page.read_text(encoding="utf-8")))


def test_strict_build_writes_the_landing_page(built: tuple[Path, list[str]]) -> None:
    index, stages = built
    assert index.name == "index.html" and index.parent.name == "html"
    assert index.parent.parent.name == "_build"
    assert stages[-2] == "Building HTML with Jupyter Book"
    assert stages[-1].startswith("Checking the built book for small counts")
    landing = _text(index)
    assert TITLE in landing
    assert "Displaces" in landing
    assert "28 % lower (95 % CI 36 % lower to 19 % lower)" in landing
    # Staging folders do not outlive the build; evaltk's work folder holds only its .gitignore.
    build = index.parent.parent
    assert sorted(p.name for p in build.iterdir()) == [".evaltk", ".evaltk.lock", "html"]
    assert sorted(p.name for p in (build / ".evaltk").iterdir()) == [".gitignore"]


def test_chapter_has_headline_figure_and_table(built: tuple[Path, list[str]]) -> None:
    index, _ = built
    chapter = index.parent / "analyses" / "example-street-triage" / "index.html"
    text = _text(chapter)
    assert "Section 136 detentions fell by 28 % (95 % CI 19 % to 36 %)" in text
    assert VERDICT in text
    sources = re.findall(r'<img [^>]*src="([^"]+)"', chapter.read_text(encoding="utf-8"))
    assert sources, "no figure in the chapter"
    for src in sources:
        assert (chapter.parent / src).resolve().is_file(), src
    alts = re.findall(r'<img [^>]*alt="([^"]+)"', chapter.read_text(encoding="utf-8"))
    assert any("counterfactual" in alt for alt in alts)
    for cells in (
        "<td><p>Conveyances to A&E</p></td>",
        "<td><p>19 % higher</p></td> <td><p>8.0 % higher to 31 % higher</p></td>",
        "<td><p>28 % lower</p></td> <td><p>36 % lower to 19 % lower</p></td>",
    ):
        assert cells in text


def test_methods_and_about_pages_are_built(built: tuple[Path, list[str]]) -> None:
    index, _ = built
    assert "Newey–West" in _text(index.parent / "methods.html")
    assert "results_schema_version" in _text(index.parent / "about-results.html")


def test_failed_build_names_the_warning_and_keeps_the_old_html(tmp_path: Path) -> None:
    analyses, book = _book(tmp_path)
    previous = book / "_build" / "html" / "index.html"
    previous.parent.mkdir(parents=True)
    previous.write_text("the previous book")
    with (book / "methods.md").open("a") as handle:
        handle.write("\nSee [a page that does not exist](nowhere.md).\n")
    with pytest.raises(PublishError) as caught:
        build_book(analyses, book, strict=True)
    message = str(caught.value)
    assert "did not build" in message and "methods.md" in message and "WARNING" in message
    assert "\n" not in message
    assert previous.read_text() == "the previous book"
    assert sorted(p.name for p in (previous.parents[1] / ".evaltk").iterdir()) == [".gitignore"]


def test_a_book_failing_a_check_leaves_the_published_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks read the staged build: a failure publishes nothing (issue 14)."""
    import evaltk.publish.build as build

    analyses, book = _book(tmp_path)
    previous = book / "_build" / "html" / "index.html"
    previous.parent.mkdir(parents=True)
    previous.write_text("the previous book")
    seen: list[Path] = []

    def failing_scan(html: Path, threshold: int = 5) -> None:
        seen.append(html)
        assert (html / "index.html").is_file()  # the new book, built and not yet published
        raise PublishError(f"{html / 'index.html'}: disclosure check failed: a count of 3")

    monkeypatch.setattr(build, "scan_book", failing_scan)
    with pytest.raises(PublishError) as caught:
        build_book(analyses, book, strict=True)
    assert previous.read_text() == "the previous book"
    assert seen and seen[0] != previous.parent
    assert str(caught.value) == (
        f"{previous}: disclosure check failed: a count of 3; the published book is unchanged"
    )
    assert sorted(p.name for p in (previous.parents[1] / ".evaltk").iterdir()) == [".gitignore"]


def test_first_problem_picks_the_first_warning() -> None:
    output = (
        "Running Jupyter-Book v1.0.4\nreading sources...\n"
        "\x1b[91m/x/book/methods.md:3: WARNING: cross-reference target not found\x1b[39m\n"
        "/x/book/about.md:9: WARNING: another\nbuild finished with problems, 2 warnings.\n"
    )
    assert first_problem(output) == (
        "/x/book/methods.md:3: WARNING: cross-reference target not found"
    )
    assert first_problem("") == "jupyter-book exited without output"


def test_a_preloaded_jupyter_book_never_used_is_ended(tmp_path: Path) -> None:
    """`evaltk book` starts Jupyter Book first, so that it imports while the pages are
    written; a child never told to build is ended with the block (and see
    tests/reliability: a book whose pages fail leaves no process behind)."""
    from evaltk.publish.jupyter_book import preload_jupyter_book

    with preload_jupyter_book(tmp_path) as child:
        assert child is not None and child.poll() is None
        assert child.args[-2:] == ["build", str(tmp_path)]  # named as a build in `ps`
    assert child.returncode is not None


def test_a_preloaded_jupyter_book_builds_only_the_book_it_was_started_for(
    tmp_path: Path,
) -> None:
    from evaltk.publish.jupyter_book import preload_jupyter_book, run_build_command

    with preload_jupyter_book(tmp_path / "one") as child:
        assert child is not None
        done = run_build_command(["jupyter-book", "build", str(tmp_path / "two")], None, child)
    assert done.returncode == 2
    assert "started for ['build'" in done.stderr and "two" in done.stderr


def test_the_preloaded_jupyter_book_imports_this_evaltk_not_one_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evaltk.publish.jupyter_book import preload_jupyter_book, run_build_command

    other = tmp_path / "checkout" / "evaltk"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("raise SystemExit(7)\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "checkout")
    with preload_jupyter_book(tmp_path / "one") as child:
        assert child is not None
        done = run_build_command(["jupyter-book", "build", str(tmp_path / "two")], None, child)
    # This evaltk's child answered (it refuses another book); the other would have ended 7.
    assert done.returncode == 2, done.stderr
    assert "started for ['build'" in done.stderr


def test_leftovers_of_killed_builds_and_demos_are_cleaned(tmp_path: Path) -> None:
    from evaltk.publish.build import _clean_leftovers

    build = tmp_path / "_build"
    for name in (".staging-1", ".retired-2", ".chapters-3", "html", ".evaltk"):
        (build / name / "analyses").mkdir(parents=True)
    _clean_leftovers(build)
    assert sorted(p.name for p in build.iterdir()) == [".evaltk", "html"]
