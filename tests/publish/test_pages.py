"""Generated pages, checked as Markdown (fast; the real build is in test_build.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from evaltk.errors import PublishError
from evaltk.publish.chapter import cell, slug, with_code
from evaltk.publish.generated import MARKER_FILE
from evaltk.publish.load import load_analyses
from evaltk.publish.pages import chapters, prewrite_chapter, write_pages
from evaltk.results.schema import AnalysisResult, DataAccessStatement, Registration

from .conftest import BOOK_SOURCES, HANDWRITTEN, HEADLINE, VERDICT, make_result, write_analysis

#: Table cells keep a number with its unit or sign by a no-break space: "19 %" never breaks
#: into "19" and "%" (evaltk.publish.chapter.cell).
NB = "\u00a0"


def _chapter_text(book_dir: Path) -> str:
    return (book_dir / "analyses" / "example-street-triage" / "index.md").read_text()


def test_chapter_sections_in_order(analyses_dir: Path, book_dir: Path) -> None:
    write_pages(load_analyses(analyses_dir), book_dir)
    text = _chapter_text(book_dir)
    order = [
        "# Street triage in Nottinghamshire \\<2016\\> \\| ITS",
        VERDICT,
        "Section 136 detentions fell by 28 % (95 % CI 19 % to 36 %)",
        "## For commissioners: where the demand went",
        "## Strength of evidence",
        "## Registration and amendments",
        "## Results, outcome by outcome",
        "```{figure} figures/s136_rate.png",
        "### Every outcome",
        "## Diagnostics",
        "Ljung–Box p (12 lags) | 0.21 |",
        "## Data accounting",
        "## Reproducibility",
        "| statsmodels | 0.14.4 |",
    ]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert HEADLINE.split(". ")[0] in text


def test_outcome_table_has_both_outcomes_formatted(analyses_dir: Path, book_dir: Path) -> None:
    write_pages(load_analyses(analyses_dir), book_dir)
    rows = [line for line in _chapter_text(book_dir).splitlines() if line.startswith("| ")]
    # Six columns: the class and its good direction share a cell; an ITS's totals over the
    # post period are a second table, so each outcome has two rows, in the same order.
    s136 = [r for r in rows if r.startswith("| Section 136 detentions per 100,000")]
    ae = [r for r in rows if r.startswith("| Conveyances to A&E |")]
    assert s136 == [
        "| Section 136 detentions per 100,000 residents *(primary)* | Resolution; lower is better "
        f"| 28{NB}% lower | 36{NB}% lower to 19{NB}% lower | \\<{NB}0.001 | \\<{NB}0.001 |",
        "| Section 136 detentions per 100,000 residents *(primary)* "
        "| about 413 fewer events (301 fewer to 521 fewer) |",
    ]
    assert ae == [
        "| Conveyances to A&E | Displacement; lower is better "
        f"| 19{NB}% higher | 8.0{NB}% higher to 31{NB}% higher | \\<{NB}0.001 | 0.003 |",
        "| Conveyances to A&E | about 160 more events (231 more to 88 more) |",
    ]
    assert "| Outcome | Averted over the post period |\n|---|---|\n" in _chapter_text(book_dir)


def test_chapter_states_registration_accounting_and_command(
    analyses_dir: Path, book_dir: Path
) -> None:
    write_pages(load_analyses(analyses_dir), book_dir)
    text = _chapter_text(book_dir)
    assert "**Not registered.**" in text
    assert "*How the verdict was reached:* primary fell; A&E rose" in text
    assert "| Excluded: outside window | {evaltk-observed}`120` |" in text
    assert "every row is accounted for" in text
    # results.json before schema 1.4 names only its main data file: shown alone, with its hash.
    row = "| `data/episodes.parquet` | episodes (one row per incident) | `" + "cd" * 32 + "` |"
    assert row in text
    # The command is relative to the project folder, wherever the book was built from.
    assert "```console\n$ evaltk run analyses/example-street-triage\n```" in text
    assert "from analyses/example-street-triage/results/results.json" in text
    assert "| statsmodels | 0.14.4 |" in text
    assert "Maryland Scientific Methods Scale level 2" in text
    assert "Ljung–Box p (12 lags) | 0.21 |" in text
    assert "Counts from the ambulance trust's \\*dispatch\\* log." in text  # note, escaped


def test_chapter_states_the_recorded_decision_settings(analyses_dir: Path, book_dir: Path) -> None:
    write_pages(load_analyses(analyses_dir), book_dir)
    text = _chapter_text(book_dir)
    # The key facts are a list table: no empty header row above them.
    assert "```{list-table}\n:stub-columns: 1\n:widths: 22 78\n\n* - Question\n" in text
    assert "| | |" not in text
    assert "* - Intervention\n  - Street triage\n" in text
    assert (
        "* - Tests\n  - Two-sided, at α = 0.05; 95 % confidence intervals; secondary outcomes "
        "corrected together by the Holm step-down method\n"
    ) in text
    assert "| Outcome | Class | Change | 95 % CI | p | Adjusted p |\n" in text
    assert "95 % CI is the 95 % confidence interval." in text
    assert "*Adjusted p* is corrected by the Holm step-down method" in text
    assert "(95 % CI 36 % lower to 19 % lower" in text  # sentences and captions name the level
    assert "(CI " not in text and "| CI |" not in text  # never a CI without its level


def test_chapter_uses_the_level_and_correction_of_its_own_run(
    tmp_path: Path, book_dir: Path
) -> None:
    result = make_result().model_copy(
        update={
            "alpha": 0.01,
            "interval_level": 0.9,
            "multiplicity": "none",
            "intervention": "right_care_right_person",
        }
    )
    write_analysis(tmp_path / "a" / "x", result)
    write_pages(load_analyses(tmp_path / "a"), book_dir)
    text = (book_dir / "analyses" / "x" / "index.md").read_text()
    assert "* - Intervention\n  - Right Care, Right Person\n" in text
    assert "Two-sided, at α = 0.01; 90 % confidence intervals; no correction across" in text
    assert "*Adjusted p* equals p: the protocol chose no correction" in text
    assert "90 % CI 36 % lower to 19 % lower" in text
    assert "95 %" not in text.replace(HEADLINE, "")  # the fixture's headline is fixed text
    assert "Holm" not in text
    landing = (book_dir / "index.md").read_text()
    assert f"28{NB}% lower (90{NB}% CI 36{NB}% lower to 19{NB}% lower)" in landing


def test_rows_that_do_not_add_up_are_flagged(tmp_path: Path, book_dir: Path) -> None:
    result = make_result()
    data = result.data.model_copy(update={"rows_used": 9_000})
    write_analysis(tmp_path / "a" / "x", result.model_copy(update={"data": data}))
    write_pages(load_analyses(tmp_path / "a"), book_dir)
    assert "**These do not add up:**" in (book_dir / "analyses" / "x" / "index.md").read_text()


def test_empty_months_are_a_warning_in_the_data_accounting(tmp_path: Path, book_dir: Path) -> None:
    result = make_result()
    gaps = ["E23000019 2016-08", "E23000019 2017-02"]
    data = result.data.model_copy(update={"empty_months": gaps})
    write_analysis(tmp_path / "a" / "x", result.model_copy(update={"data": data}))
    write_analysis(tmp_path / "a" / "y", result)
    write_pages(load_analyses(tmp_path / "a"), book_dir)
    text = (book_dir / "analyses" / "x" / "index.md").read_text()
    accounting = text[text.index("## Data accounting") :]
    assert (
        ":::{warning}\n2 unit-month(s) of the window have no data at all (E23000019 2016-08, "
        "E23000019 2017-02). They are treated as missing and left out of the estimates, not "
        "counted as months without events: check the extract for a gap.\n:::"
    ) in accounting
    assert "no data at all" not in (book_dir / "analyses" / "y" / "index.md").read_text()


def test_figures_and_downloads_are_copied_next_to_the_page(
    analyses_dir: Path, book_dir: Path
) -> None:
    write_pages(load_analyses(analyses_dir), book_dir)
    folder = book_dir / "analyses" / "example-street-triage"
    assert (folder / "figures" / "s136_rate.png").read_bytes()[:4] == b"\x89PNG"
    assert (folder / "figures" / "ae_conveyances.png").is_file()
    assert (folder / "files" / "results.json").is_file()
    assert (folder / "files" / "series.csv").is_file()


def test_landing_page_and_toc(analyses_dir: Path, book_dir: Path) -> None:
    write_pages(load_analyses(analyses_dir), book_dir)
    landing = (book_dir / "index.md").read_text()
    assert "resolve** mental-health crises, or merely **displace** them" in landing
    assert (
        "| [Street triage in Nottinghamshire \\<2016\\> \\| ITS]"
        "(analyses/example-street-triage/index.md) | **Displaces** |"
    ) in landing
    # Four columns: the design and the registration are said in the evidence cell.
    assert (
        "| Analysis | Verdict | Primary outcome compared with no scheme; net pounds and police "
        "hours | Evidence: Maryland scale, design, registration |\n|---|---|---|---|\n"
    ) in landing
    assert (
        "| **Displaces** | Section 136 detentions per 100,000 residents: "
        f"28{NB}% lower (95{NB}% CI 36{NB}% lower to 19{NB}% lower) "
        "| Not rated: interrupted time series; not registered |\n"
    ) in landing
    toc = yaml.safe_load((book_dir / "_toc.yml").read_text())
    assert toc["root"] == "index"
    assert toc["parts"][0]["chapters"] == [
        {
            "file": "analyses/example-street-triage/index",
            "sections": [{"file": "analyses/example-street-triage/preregistration"}],
        }
    ]
    assert toc["parts"][1]["chapters"] == [{"file": "methods"}, {"file": "about-results"}]


def test_stale_analyses_are_removed(analyses_dir: Path, book_dir: Path) -> None:
    write_analysis(analyses_dir / "second", make_result())
    write_pages(load_analyses(analyses_dir), book_dir)
    assert (book_dir / "analyses" / "second" / "index.md").is_file()
    shutil.rmtree(analyses_dir / "second")
    write_pages(load_analyses(analyses_dir), book_dir)
    assert not (book_dir / "analyses" / "second").exists()
    assert "second" not in (book_dir / "_toc.yml").read_text()


def test_never_overwrites_what_it_did_not_generate(analyses_dir: Path, book_dir: Path) -> None:
    (book_dir / "analyses").mkdir()
    (book_dir / "analyses" / "precious.md").write_text("hand-written")
    with pytest.raises(PublishError, match="not generated by `evaltk book`"):
        write_pages(load_analyses(analyses_dir), book_dir)
    assert (book_dir / "analyses" / "precious.md").read_text() == "hand-written"

    shutil.rmtree(book_dir / "analyses")
    (book_dir / "index.md").write_text("# My own landing page\n")
    with pytest.raises(PublishError, match=r"index\.md: exists and was not generated"):
        write_pages(load_analyses(analyses_dir), book_dir)


def test_generated_folder_is_marked(analyses_dir: Path, book_dir: Path) -> None:
    write_pages(load_analyses(analyses_dir), book_dir)
    assert (book_dir / "analyses" / MARKER_FILE).is_file()


def test_book_folder_needs_its_config(analyses_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(PublishError, match=r"_config\.yml: not found"):
        write_pages(load_analyses(analyses_dir), tmp_path / "empty-book")


def test_slugs_and_collisions(analyses_dir: Path) -> None:
    assert slug("My analysis (v2)") == "my-analysis-v2"
    (loaded,) = load_analyses(analyses_dir)
    twin = type(loaded)(name="Example Street Triage", folder=loaded.folder, result=loaded.result)
    with pytest.raises(PublishError, match="would share the chapter"):
        chapters([loaded, twin])


def test_missing_diagnostics_are_shown_as_not_recorded(tmp_path: Path, book_dir: Path) -> None:
    result = make_result()
    primary = result.outcomes[0]
    assert primary.diagnostics is not None
    diagnostics = primary.diagnostics.model_copy(update={"ljung_box_p": None})
    outcomes = [primary.model_copy(update={"diagnostics": diagnostics}), result.outcomes[1]]
    write_analysis(tmp_path / "a" / "x", result.model_copy(update={"outcomes": outcomes}))
    write_pages(load_analyses(tmp_path / "a"), book_dir)
    text = (book_dir / "analyses" / "x" / "index.md").read_text()
    assert "| Ljung–Box p (12 lags) | – | not recorded in results.json |" in text


def test_about_results_describes_every_schema_field() -> None:
    """book/about-results.md is hand-written: fail when results.json gains an undocumented field."""
    from pydantic import BaseModel

    from evaltk.results import schema

    from .conftest import BOOK_SOURCES

    text = (BOOK_SOURCES / "about-results.md").read_text(encoding="utf-8")
    models = [
        value
        for value in vars(schema).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == schema.__name__
    ]
    missing = {
        f"{model.__name__}.{name}"
        for model in models
        for name in model.model_fields
        if f"`{name}`" not in text
    }
    assert not missing, f"about-results.md does not describe {sorted(missing)}"


def test_table_cells_keep_numbers_with_their_units() -> None:
    assert cell("12 % to 3.4 % lower; p < 0.001 and > 0.99") == (
        f"12{NB}% to 3.4{NB}% lower; p \\<{NB}0.001 and \\>{NB}0.99"
    )
    assert cell("A&E | *all* 5 days") == "A&E \\| \\*all\\* 5 days"  # escaped as before


def test_backticked_parts_of_user_text_are_code_and_the_rest_is_escaped() -> None:
    assert with_code("simulated by `evaltk simulate` when *demo* runs") == (
        "simulated by `evaltk simulate` when \\*demo\\* runs"
    )
    # A pipe would end a table cell, and an unpaired backtick opens nothing: both stay escaped.
    assert with_code("a `x | y` and `unclosed") == "a \\`x \\| y\\` and \\`unclosed"
    assert with_code("`evaltk run` first") == "`evaltk run` first"
    assert with_code("``, `a`b`c` and ```") == "\\`\\`, `a`b`c` and \\`\\`\\`"


def test_registration_log_shows_commands_as_code(tmp_path: Path, book_dir: Path) -> None:
    registration = Registration(
        status="registered",
        protocol_sha256="ab" * 32,
        registered_at="2024-01-01T00:00:00Z",
        registered_by="analyst",
        registered_sha256="ab" * 32,
        data_access=DataAccessStatement(
            status="not_collected",
            statement="The data are simulated by `evaltk simulate` (preset *demo*).",
        ),
    )
    result = make_result().model_copy(update={"registration": registration})
    write_analysis(tmp_path / "a" / "x", result)
    write_pages(load_analyses(tmp_path / "a"), book_dir)
    page = (book_dir / "analyses" / "x" / "index.md").read_text()
    assert (
        "1. **Registered** 2024-01-01T00:00:00Z by analyst. Existing data: The data are simulated "
        "by `evaltk simulate` (preset \\*demo\\*). Protocol SHA-256 `" + "ab" * 32 + "`."
    ) in page


def _series(observed: int) -> str:
    """A series.csv of one post-period month of ``observed`` detentions."""
    return (
        "outcome,period,observed,fitted,counterfactual,cf_low,cf_high,in_fit,post\n"
        f"s136_rate,2016-04-01,{observed},21.0,29.0,26.0,32.0,True,True\n"
    )


def _analyses_one_with_small_counts(root: Path, result: AnalysisResult, names: list[str]) -> Path:
    """Analyses ``names`` under ``root/analyses``; the second has a month of 3 detentions,
    below the threshold of 5, so its figure is redrawn."""
    analyses = root / "analyses"
    for name in names:
        write_analysis(analyses / name, result)
    (analyses / names[1] / "results" / "series.csv").write_text(_series(3))
    return analyses


def _new_book(folder: Path) -> Path:
    folder.mkdir()
    for name in HANDWRITTEN:
        shutil.copyfile(BOOK_SOURCES / name, folder / name)
    return folder


def _written(book: Path, written: list[Path]) -> tuple[list[Path], dict[Path, bytes]]:
    """The pages ``write_pages`` returned and every file of the book, relative to it."""
    files = {p.relative_to(book): p.read_bytes() for p in sorted(book.rglob("*")) if p.is_file()}
    return [p.relative_to(book) for p in written], files


def test_chapters_written_in_worker_processes_are_byte_identical(
    tmp_path: Path, result: AnalysisResult
) -> None:
    """`evaltk book` writes the chapters in forked processes (one per core): the book's
    sources, figures redrawn for a suppressed count included, are those written in one."""
    names = ["a-first", "b-small-counts", "c-third"]
    analyses = _analyses_one_with_small_counts(tmp_path, result, names)
    books = {}
    for workers in (1, 2):
        book = _new_book(tmp_path / f"book-{workers}")
        books[workers] = _written(book, write_pages(load_analyses(analyses), book, workers=workers))
    assert books[2][0] == books[1][0]
    assert books[2][1].keys() == books[1][1].keys()
    assert [k for k in books[1][1] if books[1][1][k] != books[2][1][k]] == []
    # The redrawn figure is there: the parallel path did the disclosure work too.
    redrawn = Path("analyses/b-small-counts/figures/s136_rate.png")
    assert books[2][1][redrawn] != books[2][1][Path("analyses/a-first/figures/s136_rate.png")]


def test_chapters_written_ahead_are_taken_only_while_their_analysis_is_unchanged(
    tmp_path: Path, result: AnalysisResult
) -> None:
    """`evaltk demo` writes each chapter in the worker that ran its analysis
    (prewrite_chapter); the book then moves it into place: the same files as writing it
    there. A chapter whose analysis changed after it was written ahead is written afresh."""
    names = ["a-first", "b-small-counts", "c-changed"]
    analyses = _analyses_one_with_small_counts(tmp_path, result, names)
    changed = analyses / "c-changed" / "results" / "series.csv"
    books = {}
    for way in ("fresh", "ahead"):
        book = _new_book(tmp_path / f"book-{way}")
        changed.write_text(_series(12))
        ahead = tmp_path / f"ahead-{way}"
        if way == "ahead":
            ahead.mkdir()
            for folder in sorted(analyses.iterdir()):
                prewrite_chapter(folder, book, ahead)
        # After the chapters were written ahead, one analysis is run again with other data.
        changed.write_text(_series(7))
        taken = ahead if way == "ahead" else None
        books[way] = _written(
            book, write_pages(load_analyses(analyses), book, workers=1, prewritten=taken)
        )
    assert books["ahead"][0] == books["fresh"][0]
    assert books["ahead"][1].keys() == books["fresh"][1].keys()
    assert [k for k in books["fresh"][1] if books["fresh"][1][k] != books["ahead"][1][k]] == []
    # The two unchanged chapters were moved in; the changed one was left where it was written.
    assert sorted(p.name for p in (tmp_path / "ahead-ahead").iterdir()) == ["c-changed"]
    stale = (tmp_path / "ahead-ahead" / "c-changed" / "files" / "series.csv").read_bytes()
    assert books["ahead"][1][Path("analyses/c-changed/files/series.csv")] != stale
