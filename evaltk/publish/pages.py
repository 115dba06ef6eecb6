"""Render the generated pages of the book and write them, with their figures, into ``book/``.

Generated: ``index.md`` (the landing page), ``_toc.yml`` and ``analyses/`` (a chapter per
analysis with its figures and downloadable results). Hand-written pages (``methods.md``,
``about-results.md``, ``_config.yml``) are never written here, only linked.

Every generated file carries a marker (:mod:`evaltk.publish.generated`), and a file or folder
without it is never overwritten or deleted: ``--book-dir`` pointed at the wrong folder must not
destroy someone's work. Templates are rendered by :mod:`evaltk.publish.render`.

Disclosure control (:mod:`evaltk.publish.disclosure`: small observed counts suppressed, with
secondary suppression, optionally rounded) is applied in :func:`write_pages` to every analysis
before any page is rendered, so that no page, figure or download can show an unprotected
number: the published ``results.json`` and ``series.csv`` are the protected copies, and a
figure with a suppressed month (an ITS figure, the CITS series, the DiD group means) is
redrawn without it.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import shutil
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from itertools import repeat
from pathlib import Path
from typing import Any

import yaml

from evaltk.errors import PublishError
from evaltk.publish import format as fmt
from evaltk.publish.chapter import cell, chapter_context, figure_target, residual_target, slug
from evaltk.publish.claims import write_claims_page
from evaltk.publish.commissioners import commissioners_context, has_glossary, police_time
from evaltk.publish.demand import PAGE as DEMAND_PAGE
from evaltk.publish.demand import write_demand_page
from evaltk.publish.differencing import check_published
from evaltk.publish.disclosure import (
    Protected,
    protect,
    redraw_comparison_figure,
    redraw_figure,
    series_csv,
)
from evaltk.publish.escape import Markup
from evaltk.publish.generated import MARKER_FILE, MD_MARKER, TOC_MARKER, check_replaceable
from evaltk.publish.load import LoadedAnalysis, display_path, load_analysis
from evaltk.publish.models_fragment import write_models_fragment
from evaltk.publish.osf_form import osf_file_text
from evaltk.publish.preregistration import OSF_FILE, preregistration_context
from evaltk.publish.preregistration import PAGE as PREREGISTRATION
from evaltk.publish.protocol_reference import write_protocol_reference
from evaltk.publish.render import render
from evaltk.publish.validation import write_validation_pages
from evaltk.results.schema import AnalysisResult, OutcomeResult
from evaltk.verdict.headline import lower_first

GENERATED_DIR = "analyses"

#: Hand-written pages linked from the generated ones, in book order, when present: Markdown,
#: or a notebook committed with its outputs (``api.ipynb``; the book does not execute it).
HANDWRITTEN: tuple[tuple[str, str], ...] = (
    ("methods", "Methods"),
    ("about-results", "About results.json"),
    ("api", "Python API"),
    ("glossary", "Glossary"),
)
HANDWRITTEN_SUFFIXES = (".md", ".ipynb")


def handwritten_source(book_dir: Path, name: str) -> str | None:
    """The file of hand-written page ``name`` in ``book_dir`` (``methods.md``), if present."""
    for suffix in HANDWRITTEN_SUFFIXES:
        if (book_dir / f"{name}{suffix}").is_file():
            return f"{name}{suffix}"
    return None


#: Reference pages generated from code on every build (evaltk/publish/validation.py,
#: evaltk/publish/protocol_reference.py), in book order.
GENERATED_REFERENCE: tuple[tuple[str, str], ...] = (
    ("published-claims", "What published claims can support"),
    ("validation", "Validation"),
    ("protocol-reference", "Protocol reference"),
)


@dataclass(frozen=True)
class Chapter:
    """One analysis's chapter: where it goes in the book and the files it needs."""

    analysis: LoadedAnalysis
    slug: str

    @property
    def folder(self) -> str:
        return f"{GENERATED_DIR}/{self.slug}"

    @property
    def docname(self) -> str:
        return f"{self.folder}/index"


def chapters(analyses: Sequence[LoadedAnalysis]) -> list[Chapter]:
    """A chapter per analysis, in the order given; two analyses may not share a slug."""
    out: list[Chapter] = []
    seen: dict[str, str] = {}
    for analysis in analyses:
        key = slug(analysis.name)
        if key in seen:
            raise PublishError(
                f"analyses {seen[key]!r} and {analysis.name!r} would share the chapter "
                f"{GENERATED_DIR}/{key}; rename one of the folders"
            )
        seen[key] = analysis.name
        out.append(Chapter(analysis, key))
    return out


# -- rendering ---------------------------------------------------------------------------------
def _links(book_dir: Path, prefix: str) -> dict[str, Markup | None]:
    found = {name: (book_dir / f"{name}.md").is_file() for name, _ in HANDWRITTEN}
    return {
        "methods": Markup(f"{prefix}methods.md") if found["methods"] else None,
        "about": Markup(f"{prefix}about-results.md") if found["about-results"] else None,
        "glossary": Markup(f"{prefix}glossary.md") if found["glossary"] else None,
    }


def primary_text(result: AnalysisResult) -> str:
    """The primary outcome(s) in plain words, for the landing table."""
    level = result.interval_level
    parts = [
        f"{o.label}{_time_base(o)}: {fmt.change_with_interval(o, level, whole=True)}"
        for o in result.primary
    ]
    text = "; ".join(parts) or "no primary outcome"
    if result.registration.primary_changed:
        text += " (primary outcome changed after registration)"
    return text


def _time_base(outcome: OutcomeResult) -> str:
    """ " per month" after a difference's label (0.445 lower is per force-month, as the
    chapter's headline says), unless the label gives its time base; a ratio needs none."""
    label = outcome.label.lower()
    if outcome.scale != "difference" or "month" in label:
        return ""
    return " per month"


def ledger_text(result: AnalysisResult) -> str:
    """The whole-system ledger in one sentence for the landing table: net pounds and police
    hours, each with its interval ("" when no outcome is costed)."""
    ledger = result.ledger
    if ledger is None:
        return ""
    level = result.interval_level
    police = police_time(ledger, level)
    return f"Whole system: {fmt.pounds(ledger.net_pounds, level)}; police time: {police}."


def evidence_text(result: AnalysisResult) -> str:
    """The landing table's evidence cell: Maryland level, design and registration together.

    One cell, not three columns: with six columns the table was wider than the text column.
    """
    level = (
        f"Level {result.evidence.sms_level} of 5" if result.evidence is not None else "Not rated"
    )
    design = lower_first(fmt.design(result.design))
    return f"{level}: {design}; {lower_first(fmt.registration(result.registration.status))}"


def render_landing(chapter_list: Sequence[Chapter], book_dir: Path) -> str:
    """The landing page: the question, then a row per analysis linking to its chapter."""
    rows = []
    for chapter in chapter_list:
        result = chapter.analysis.result
        rows.append(
            {
                "title": result.title,
                "link": Markup(f"{chapter.docname}.md"),
                "verdict": result.verdict.label,
                "primary": cell(
                    " ".join(filter(None, (primary_text(result), ledger_text(result))))
                ),
                "evidence": evidence_text(result),
            }
        )
    sources = [(handwritten_source(book_dir, name), title) for name, title in HANDWRITTEN]
    pages = [{"title": title, "link": Markup(source)} for source, title in sources if source]
    return render("index.md.j2", rows=rows, pages=pages)


def render_chapter(chapter: Chapter, book_dir: Path) -> str:
    """One analysis's chapter (see ``templates/chapter.md.j2`` for the order of sections)."""
    return render(
        "chapter.md.j2",
        a=chapter_context(chapter.analysis),
        c=commissioners_context(chapter.analysis, glossary=has_glossary(book_dir)),
        links=_links(book_dir, "../../"),
    )


def render_preregistration(chapter: Chapter) -> str:
    """One analysis's pre-registration page (see ``templates/preregistration.md.j2``)."""
    return render("preregistration.md.j2", p=preregistration_context(chapter.analysis))


def _sections(chapter: Chapter, book_dir: Path) -> list[dict[str, str]]:
    """A chapter's sections: its pre-registration, and its demand page when one was written."""
    sections = [{"file": f"{chapter.folder}/{PREREGISTRATION}"}]
    if (book_dir / chapter.folder / f"{DEMAND_PAGE}.md").is_file():
        sections.append({"file": f"{chapter.folder}/{DEMAND_PAGE}"})
    return sections


def render_toc(chapter_list: Sequence[Chapter], book_dir: Path) -> str:
    """``_toc.yml`` in Jupyter Book's ``jb-book`` format, written with a YAML library."""
    parts: list[dict[str, Any]] = [
        {
            "caption": "Analyses",
            "chapters": [
                {"file": c.docname, "sections": _sections(c, book_dir)} for c in chapter_list
            ],
        }
    ]
    handwritten = [
        {"file": name} for name, _ in HANDWRITTEN if handwritten_source(book_dir, name) is not None
    ]
    if handwritten:
        parts.append({"caption": "How to read the results", "chapters": handwritten})
    parts.append(
        {
            "caption": "Validation and reference",
            "chapters": [{"file": name} for name, _ in GENERATED_REFERENCE],
        }
    )
    toc = {"format": "jb-book", "root": "index", "parts": parts}
    header = f"{TOC_MARKER}. Do not edit: it is rewritten on every build.\n"
    return header + yaml.safe_dump(toc, sort_keys=False, allow_unicode=True)


# -- writing -----------------------------------------------------------------------------------
def write_pages(
    analyses: Sequence[LoadedAnalysis],
    book_dir: Path,
    *,
    workers: int = 1,
    prewritten: Path | None = None,
) -> list[Path]:
    """Write the generated pages and their files into ``book_dir``, from scratch.

    ``book_dir/analyses/`` is deleted and rebuilt, so an analysis removed from ``analyses/``
    disappears from the book; ``index.md`` and ``_toc.yml`` are rewritten.

    Parameters
    ----------
    analyses : sequence of LoadedAnalysis
        At least one, as returned by :func:`evaltk.publish.load.load_analyses`.
    book_dir : pathlib.Path
        The book source folder; it must hold the hand-written ``_config.yml``.
    workers : int, default 1
        Processes writing the chapters; above 1 they are forked (Linux only: the caller
        decides, as :func:`evaltk.cli.parallel_runs.worker_count` does).
    prewritten : pathlib.Path, optional
        A folder of chapters written ahead by :func:`prewrite_chapter`: each one whose
        analysis and book are as they were then is moved into place instead of written again.

    Returns
    -------
    list of pathlib.Path
        The Markdown pages written (landing page first).

    Raises
    ------
    PublishError
        If there is no analysis, ``book_dir`` has no ``_config.yml``, or a file or folder to
        be replaced was not generated by evaltk.
    """
    if not analyses:
        raise PublishError("no analyses to publish; run `evaltk run analyses/NAME` first")
    config = book_dir / "_config.yml"
    if not config.is_file():
        raise PublishError(
            f"{display_path(config)}: not found; the book folder needs its hand-written "
            "sources (_config.yml, methods.md, about-results.md) as in the evaltk repository"
        )
    protected = {}
    for chapter in chapters(analyses):
        safe = protect(chapter.analysis)
        protected[chapter.slug] = safe
    chapter_list = [Chapter(_without_redrawn_residuals(p), key) for key, p in protected.items()]
    landing, toc = book_dir / "index.md", book_dir / "_toc.yml"
    check_replaceable(landing, MD_MARKER)
    check_replaceable(toc, TOC_MARKER)
    # Validation chapter (with the methods page's calibration fragment) and protocol reference:
    # computed and written first, so that a hand-written file in their place stops the build
    # before anything is deleted.
    reference_pages = [
        write_claims_page(book_dir),
        *write_validation_pages(book_dir),
        write_protocol_reference(book_dir),
    ]
    _fresh_generated_dir(book_dir)

    written = [landing]
    taken: dict[str, list[Path]] = {}
    for c in chapter_list:
        ahead = _take_prewritten(c, prewritten, book_dir) if prewritten is not None else None
        if ahead is not None:
            taken[c.slug] = ahead
    to_write = [c for c in chapter_list if c.slug not in taken]
    safes = [protected[chapter.slug] for chapter in to_write]
    if workers > 1 and len(to_write) > 1:
        # Each chapter writes only its own folder (its figures redrawn where a count is
        # suppressed, its journeys drawn: most of this step's time), so chapters are written
        # at once in forked processes; their page lists come back in the chapters' order.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(workers, len(to_write)), mp_context=context) as pool:
            pages = list(pool.map(_write_chapter, to_write, safes, repeat(book_dir)))
    else:
        pages = [_write_chapter(c, safe, book_dir) for c, safe in zip(to_write, safes, strict=True)]
    taken.update((c.slug, chapter_pages) for c, chapter_pages in zip(to_write, pages, strict=True))
    written += [page for c in chapter_list for page in taken[c.slug]]
    reference_pages.append(write_models_fragment(book_dir, [c.analysis for c in chapter_list]))
    landing.write_text(render_landing(chapter_list, book_dir), encoding="utf-8")
    toc.write_text(render_toc(chapter_list, book_dir), encoding="utf-8")
    return written + reference_pages


def _write_chapter(
    chapter: Chapter, safe: Protected, book_dir: Path, folder: Path | None = None
) -> list[Path]:
    """Write one analysis's chapter folder (pages, figures, downloads); its pages.

    ``folder``: where to write it, by default its place in ``book_dir``; the pages' links
    assume that place.
    """
    written: list[Path] = []
    folder = folder if folder is not None else book_dir / chapter.folder
    (folder / "figures").mkdir(parents=True)
    (folder / "files").mkdir()
    for outcome_id, source in chapter.analysis.figures.items():
        target = folder / figure_target(outcome_id, source)
        if safe.series is not None and outcome_id in safe.redraw:
            redraw_figure(safe.series, outcome_id, chapter.analysis.result, target)
        elif safe.figure_data is not None and (outcome_id, "main") in safe.redraw_figures:
            redraw_comparison_figure(
                safe.figure_data, outcome_id, "main", chapter.analysis.result, target
            )
        else:
            shutil.copyfile(source, target)
    (folder / "files" / "results.json").write_text(
        chapter.analysis.result.to_json(), encoding="utf-8"
    )
    if safe.series is not None:
        (folder / "files" / "series.csv").write_text(series_csv(safe.series), encoding="utf-8")
    # Journeys and who carries the demand (episodes with person ids), protected there.
    if (demand_page := write_demand_page(chapter.analysis, folder)) is not None:
        written.append(demand_page)
    # The downloads as written: no small count may be worked out from their totals.
    check_published(folder / "files")
    if chapter.analysis.ledger_figure is not None:
        shutil.copyfile(chapter.analysis.ledger_figure, folder / "figures" / "ledger.png")
    for outcome_id, source in chapter.analysis.residual_figures.items():
        shutil.copyfile(source, folder / residual_target(outcome_id))
    # Comparison designs: event-study plots, heat maps and effects.csv hold model
    # estimates only; the group-means figure plots observed values and is redrawn when
    # one of them is suppressed (see evaltk.publish.disclosure).
    owners = {
        extra.path: (o.outcome, extra.kind)
        for o in chapter.analysis.result.outcomes
        for extra in o.figures
    }
    for path, source in chapter.analysis.extra_figures.items():
        target = folder / figure_target(Path(path).stem, source)
        owner = owners.get(path)
        if safe.figure_data is not None and owner in safe.redraw_figures:
            redraw_comparison_figure(
                safe.figure_data, owner[0], owner[1], chapter.analysis.result, target
            )
        else:
            shutil.copyfile(source, target)
    if chapter.analysis.effects is not None:
        shutil.copyfile(chapter.analysis.effects, folder / "files" / "effects.csv")
    if chapter.analysis.power_figure is not None:
        shutil.copyfile(chapter.analysis.power_figure, folder / "power.png")
    page = folder / "index.md"
    page.write_text(render_chapter(chapter, book_dir), encoding="utf-8")
    written.append(page)
    # A section of its chapter in the table of contents, and linked from the chapter.
    prereg = folder / f"{PREREGISTRATION}.md"
    prereg.write_text(render_preregistration(chapter), encoding="utf-8")
    written.append(prereg)
    if (log := chapter.analysis.registration) is not None:  # the page's OSF download
        form = osf_file_text(log, chapter.analysis.folder, chapter.analysis.result.title)
        (folder / "files" / OSF_FILE).write_text(form, encoding="utf-8")
    return written


def prewrite_chapter(analysis_folder: Path, book_dir: Path, into: Path) -> Path:
    """Write the chapter of the analysis in ``analysis_folder`` ahead of its book, into
    ``into/SLUG``, with a record of what it was written from (``into/SLUG.json``); return
    the chapter's folder.

    ``evaltk demo`` writes each example's chapter in the worker that has just run it, while
    the other examples still run, and :func:`write_pages` (``prewritten=into``) then moves it
    into the book instead of writing it again. The chapter is the one :func:`write_pages`
    would write: the same protection, figures and pages.
    """
    analysis = load_analysis(analysis_folder)
    (chapter,) = chapters([analysis])
    safe = protect(analysis)
    staged = into / chapter.slug
    if staged.exists():
        shutil.rmtree(staged)
    pages = _write_chapter(
        Chapter(_without_redrawn_residuals(safe), chapter.slug), safe, book_dir, staged
    )
    record = {
        "written_from": _chapter_inputs(analysis, book_dir),
        "pages": [page.relative_to(staged).as_posix() for page in pages],
    }
    (into / f"{chapter.slug}.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    return staged


def _take_prewritten(chapter: Chapter, prewritten: Path, book_dir: Path) -> list[Path] | None:
    """Move the chapter written ahead for ``chapter`` into the book and return its pages, or
    None (and write it afresh) when there is none or its analysis or book changed since."""
    staged, record_file = prewritten / chapter.slug, prewritten / f"{chapter.slug}.json"
    if not (staged.is_dir() and record_file.is_file()):
        return None
    record = json.loads(record_file.read_text(encoding="utf-8"))
    record_file.unlink()
    if record["written_from"] != _chapter_inputs(chapter.analysis, book_dir):
        return None
    target = book_dir / chapter.folder
    staged.rename(target)
    return [target / page for page in record["pages"]]


def _chapter_inputs(analysis: LoadedAnalysis, book_dir: Path) -> dict[str, str]:
    """What a chapter is written from: a digest of every file of its analysis folder but the
    data and the lock folder (results, figures, registration, protocol, power), and which of
    the book's hand-written pages it links to."""
    digest = hashlib.sha256()
    for path in sorted(analysis.folder.rglob("*")):
        relative = path.relative_to(analysis.folder)
        if path.is_file() and relative.parts[0] not in ("data", ".evaltk"):
            digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    links = {name: str(value) for name, value in _links(book_dir, "").items()}
    return {"files": digest.hexdigest(), "glossary": str(has_glossary(book_dir)), **links}


def _without_redrawn_residuals(safe: Protected) -> LoadedAnalysis:
    """The analysis without the residual figures of outcomes whose series had a count
    suppressed: drawn from the raw series, they are not published (the main figure is
    redrawn from the protected series, which has no residuals to draw)."""
    analysis = safe.analysis
    kept = {k: v for k, v in analysis.residual_figures.items() if k not in safe.redraw}
    return replace(analysis, residual_figures=kept)


def _fresh_generated_dir(book_dir: Path) -> Path:
    generated = book_dir / GENERATED_DIR
    if generated.exists():
        if not (generated / MARKER_FILE).is_file():
            raise PublishError(
                f"{display_path(generated)}: exists and was not generated by `evaltk book`; "
                "it is rebuilt from scratch on every build, so move it away or choose another "
                "--book-dir"
            )
        shutil.rmtree(generated)
    generated.mkdir(parents=True)
    # The marker goes in first, so that a build that fails half-way can still be cleaned up.
    (generated / MARKER_FILE).write_text(
        "Generated by `evaltk book`; deleted and rebuilt on every build.\n", encoding="utf-8"
    )
    return generated
