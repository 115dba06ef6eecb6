"""End to end: `evaltk demo` in a fresh folder gives a book with the headline and a figure."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from evaltk.results.schema import AnalysisResult

EVALTK = Path(sys.executable).parent / "evaltk"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One `evaltk demo` run (about 30 s) shared by the tests below."""
    tmp_path = tmp_path_factory.mktemp("demo")
    # One BLAS thread, as `make test` sets: the REML fits' last digits depend on the thread
    # count, and the golden files below were written with one.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    # In the current folder, with no --workdir: as a user in their own folder runs it.
    done = subprocess.run(
        [str(EVALTK), "demo"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    return tmp_path, done.stdout


def _money(value: float) -> str:
    """Pounds to three significant figures, as a commissioner reads them (£639k, £2.48m),
    computed here with Python's own rounding to three figures (``.3g``), not evaltk's."""
    size = float(f"{abs(value):.3g}")
    if size >= 1e6:
        return f"£{size / 1e6:#.3g}m".replace(".m", "m")
    if size >= 1e4:
        return f"£{size / 1e3:#.3g}k".replace(".k", "k")
    return f"£{size:,.0f}"


def test_demo_makes_its_folder_a_project_with_the_reference_comparisons(
    demo: tuple[Path, str],
) -> None:
    tmp_path, _ = demo
    assert (tmp_path / "evaltk-project.toml").is_file()
    assert (tmp_path / "protocols" / "street-triage-its.yaml").is_file()
    validation = (tmp_path / "book" / "_build" / "html" / "validation.html").read_text()
    assert "Bernal" in validation and "0.894" in validation
    for page in (tmp_path / "book" / "_build" / "html").rglob("*.html"):
        assert str(tmp_path) not in page.read_text(encoding="utf-8"), page.name


def test_demo_builds_a_book_with_headline_and_figure(demo: tuple[Path, str]) -> None:
    tmp_path, stdout = demo
    assert "[7/7] Building the book" in stdout
    index = tmp_path / "book" / "_build" / "html" / "index.html"
    assert index.is_file()
    result = AnalysisResult.model_validate_json(
        (tmp_path / "analyses" / "example-street-triage" / "results" / "results.json").read_text()
    )
    html_dir = tmp_path / "book" / "_build" / "html" / "analyses"
    chapters = [html_dir / "example-street-triage" / "index.html"]
    assert chapters[0].is_file(), "the street-triage chapter was not built"
    page = chapters[0].read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    text = re.sub(r"\s+", " ", text)
    # The headline's first sentence (numbers formatted by the run) appears on the chapter page.
    first_sentence = result.headline.split(". ")[0]
    assert first_sentence.split(",")[0] in text
    assert result.verdict.label in text
    # The commissioners' section: net pounds, cost per averted detention, evidence, gaps.
    assert "For commissioners: where the demand went" in text
    assert result.ledger is not None
    net = result.ledger.net_pounds.estimate
    assert f"{_money(net)} {'saved' if net >= 0 else 'added'}" in text
    assert "Cost per averted section 136 detention" in text
    assert "Maryland Scientific Methods Scale level 2 of 5" in text
    assert "Not measured by this evaluation" in text
    images = re.findall(r'<img[^>]+src="([^"]+)"', page)
    assert images, "the chapter shows no figure"
    assert all((chapters[0].parent / src).resolve().is_file() for src in images)
    assert result.verdict.label in index.read_text(encoding="utf-8")


def test_demo_also_runs_the_staggered_example(demo: tuple[Path, str]) -> None:
    """The second example: staggered DiD across the five forces, registered, in the same book."""
    tmp_path, _ = demo
    folder = tmp_path / "analyses" / "example-control-room-staggered"
    result = AnalysisResult.model_validate_json((folder / "results" / "results.json").read_text())
    assert result.registration.status == "registered"
    assert result.design == "staggered_did"
    # Both examples read the one simulated dataset.
    assert not (folder / "data").exists()
    page = tmp_path / "book" / "_build" / "html" / "analyses" / "example-control-room-staggered"
    text = html.unescape(re.sub(r"<[^>]+>", "", (page / "index.html").read_text("utf-8")))
    text = re.sub(r"\s+", " ", text)
    assert "How the comparison was made" in text
    assert "Inference used: randomisation inference" in text
    assert "Pre-trend test, Section 136 detentions per 100,000 residents" in text
    images = re.findall(r'<img[^>]+src="([^"]+)"', (page / "index.html").read_text("utf-8"))
    assert any(src.endswith("s136_rate-heatmap.png") for src in images)
    assert all((page / src).resolve().is_file() for src in images)


def test_demo_runs_the_stepped_wedge_trial_example(demo: tuple[Path, str]) -> None:
    """The fourth example: a randomised stepped-wedge rollout over twelve areas, run in the
    order its registration drew, reported as CONSORT-SW asks (schedule, clusters, periods,
    ICC), with the true effects of its simulated series inside the intervals that matter."""
    import json

    tmp_path, stdout = demo
    assert "[6/7] Running analyses/example-stepped-wedge" in stdout
    folder = tmp_path / "analyses" / "example-stepped-wedge"
    result = AnalysisResult.model_validate_json((folder / "results" / "results.json").read_text())
    assert result.registration.status == "registered" and result.design == "stepped_wedge"
    assert result.evidence is not None and result.evidence.sms_level == 5
    trial = result.trial
    assert trial is not None and len(trial.clusters) == 12 and trial.steps == 6
    assert trial.periods == 12 and trial.baseline_periods == 4 and trial.schedules == 672
    schedule = (folder / "trial" / "schedule.csv").read_text().splitlines()[1:]
    assert [f"{c.name},{c.step},{c.start}" for c in trial.clusters] == schedule
    assert all(value is not None and 0 < value < 1 for value in trial.icc.values())
    truth = json.loads((folder / "data" / "truth.json").read_text())["rate_ratios"]
    primary = result.outcome("s136_rate")
    assert primary.inference == "randomization" and primary.scale == "ratio"
    assert primary.ci_low is not None and primary.ci_high is not None
    assert primary.ci_low < truth["s136"] < primary.ci_high < 1
    chapter = (tmp_path / "book" / "analyses" / "example-stepped-wedge" / "index.md").read_text(
        encoding="utf-8"
    )
    assert "### The trial (CONSORT extension for stepped-wedge trials)" in chapter
    assert "| Cluster | Residents | Step | Scheme from |" in chapter
    assert "| Outcome | ICC |" in chapter
    assert "```{figure} figures/s136_rate.png" in chapter


def test_demo_runs_the_right_care_right_person_example(demo: tuple[Path, str]) -> None:
    """The third example: comparative ITS of Nottinghamshire against the two forces that never
    start, registered, on the same simulated data. The simulator's truth for Nottinghamshire:
    police minutes waiting at hospital x 0.7, A&E conveyances x 1.2, ambulance conveyances,
    missing-person reports and incidents x 1 (evaltk/simulate/config.py)."""
    tmp_path, stdout = demo
    assert "[4/7] Running analyses/example-right-care-right-person" in stdout
    folder = tmp_path / "analyses" / "example-right-care-right-person"
    result = AnalysisResult.model_validate_json((folder / "results" / "results.json").read_text())
    assert result.registration.status == "registered"
    assert result.design == "cits"
    assert result.starts == {"E23000019": "2016-04-01", "E23000020": None, "E23000022": None}
    assert not (folder / "data").exists()
    # The scheme released police time and moved demand to A&E. With inference that holds its
    # size when months are correlated (design.cits.model gls), three forces over six years do
    # not show the A&E rise after Holm's correction over six secondary outcomes, so the verdict
    # may be "Inconclusive" (displacement not ruled out) instead of "Displaces"; any verdict
    # that rules displacement out would be false.
    assert result.verdict.label in ("Displaces", "Inconclusive")
    wait, ae = result.outcome("police_hospital_minutes"), result.outcome("ae_conveyance_rate")
    assert wait.inference == "gls" and ae.inference == "gls"
    assert ae.harm_ruled_out_p is not None and ae.harm_ruled_out_p > 0.05
    assert wait.ci_low is not None and wait.ci_high is not None and wait.ci_high < 1.0
    assert wait.ci_low < 0.7 < wait.ci_high
    assert ae.ci_low is not None and ae.ci_high is not None and ae.ci_low > 1.0
    assert ae.ci_low < 1.2 < ae.ci_high
    for no_effect in ("ambulance_conveyance_rate", "missing_person_rate", "incident_rate"):
        outcome = result.outcome(no_effect)
        assert outcome.p_adjusted is not None and outcome.p_adjusted > 0.05, no_effect
    # The whole-system ledger of the comparative ITS (issue 5): the hours waiting at hospital
    # released and the A&E conveyances added, as the outcomes' own intervals say; waiting is
    # inside officer minutes, so it stays out of the net total.
    assert result.ledger is not None and result.ledger_note == ""
    lines = {line.outcome: line for line in result.ledger.lines}
    assert set(lines) == {
        "police_hospital_minutes",
        "ambulance_conveyance_rate",
        "ae_conveyance_rate",
        "missing_person_rate",
        "s136_rate",
        "officer_minutes",
    }
    waiting = lines["police_hospital_minutes"]
    assert waiting.unit == "minutes" and not waiting.in_net
    assert waiting.averted.ci_low > 0
    assert waiting.hours.estimate == pytest.approx(waiting.averted.estimate / 60)
    assert lines["ae_conveyance_rate"].averted.ci_high < 0
    assert result.evidence is not None
    assert result.evidence.emmie["Economics"] == "Whole-system ledger in hours and pounds."
    assert (folder / "results" / "figures" / "ledger.png").is_file()
    chapter = tmp_path / "book" / "analyses" / "example-right-care-right-person" / "index.md"
    commissioners = _sections(chapter.read_text(encoding="utf-8"))[
        "For commissioners: where the demand went"
    ]
    assert "```{figure} figures/ledger.png" in commissioners
    assert (
        "| Police minutes waiting at hospital (all incidents, per month) *(not in the net "
        "total)* | police | "
    ) in commissioners


# The order of every analysis's chapter (issue 7), as its second-level headings.
CHAPTER_SECTIONS = [
    "For commissioners: where the demand went",
    "Strength of evidence",
    "Registration and amendments",
    "Results, outcome by outcome",
    "Diagnostics",
    "Data accounting",
    "Reproducibility",
]
EXAMPLES = {
    "example-street-triage": "its",
    "example-control-room-staggered": "staggered_did",
    "example-right-care-right-person": "cits",
    "example-street-triage-synthetic": "synthetic_control",
}


def _sections(markdown: str) -> dict[str, str]:
    """Second-level heading -> the text under it, in page order; '' for the text before."""
    parts = re.split(r"^## (.+)$", markdown, flags=re.MULTILINE)
    return {"": parts[0], **dict(zip(parts[1::2], parts[2::2], strict=True))}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_each_chapter_has_the_sections_in_order(demo: tuple[Path, str], name: str) -> None:
    tmp_path, _ = demo
    folder = tmp_path / "analyses" / name
    result = AnalysisResult.model_validate_json((folder / "results" / "results.json").read_text())
    assert result.design == EXAMPLES[name]
    markdown = (tmp_path / "book" / "analyses" / name / "index.md").read_text(encoding="utf-8")
    sections = _sections(markdown)
    assert list(sections)[1:] == CHAPTER_SECTIONS
    # (1) The verdict opens the page, before any section; the ledger (or, without unit costs,
    # where the demand went outcome by outcome) follows it.
    assert f":::{{admonition}} Verdict: {result.verdict.label}" in sections[""]
    ledger = sections["For commissioners: where the demand went"]
    if result.ledger is not None:
        assert "```{figure} figures/ledger.png" in ledger
    else:
        primary = result.primary[0]
        assert f"- **{primary.label}** (primary): " in ledger
    # (2) The Maryland level with its reason, and the five EMMIE headings in their order.
    evidence = sections["Strength of evidence"]
    assert result.evidence is not None
    assert (
        "**{term}`Maryland Scientific Methods Scale <Maryland Scientific Methods Scale>` "
        f"level {result.evidence.sms_level} of 5.**"
    ) in evidence
    headings = re.findall(
        r"^\| (Effect|Mechanism|Moderators|Implementation|Economic cost) \|",
        evidence,
        flags=re.MULTILINE,
    )
    assert headings == ["Effect", "Mechanism", "Moderators", "Implementation", "Economic cost"]
    # (3) The registration, (4) every outcome with its figure, (5) diagnostics.
    assert "**Registered.**" in sections["Registration and amendments"]
    results = sections["Results, outcome by outcome"]
    for outcome in result.outcomes:
        assert f"\n### {outcome.label}\n" in results
    assert results.count("```{figure} figures/") >= len(result.outcomes)
    diagnostics = sections["Diagnostics"]
    if result.design == "its":
        assert "| Ljung–Box p" in diagnostics
    else:
        assert f"**Pre-trend test, {result.primary[0].label}:**" in diagnostics
    # (6) Rows in = used + excluded.
    assert "Every row read is accounted for" in sections["Data accounting"]


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_reproducibility_lists_the_real_hashes_of_the_data(
    demo: tuple[Path, str], name: str
) -> None:
    tmp_path, _ = demo
    markdown = (tmp_path / "book" / "analyses" / name / "index.md").read_text(encoding="utf-8")
    section = _sections(markdown)["Reproducibility"]
    assert f"```console\n$ evaltk run analyses/{name}\n```" in section
    assert re.search(r"^\| statsmodels \| \d+\.\d+", section, flags=re.MULTILINE)
    listed = dict(
        re.findall(r"^\| `([^`]+)` \| [^|]+ \| `([0-9a-f]{64})` \|$", section, flags=re.MULTILINE)
    )
    own = name in ("example-street-triage", "example-street-triage-synthetic")
    data = tmp_path / "analyses" / (name if own else "example-street-triage") / "data"
    prefix = "data/" if own else "../example-street-triage/data/"
    assert set(listed) == {f"{prefix}episodes.parquet", f"{prefix}population.csv"}
    for path, digest in listed.items():
        actual = hashlib.sha256((tmp_path / "analyses" / name / path).read_bytes()).hexdigest()
        assert digest == actual, path
    assert (
        listed[f"{prefix}episodes.parquet"]
        == hashlib.sha256((data / "episodes.parquet").read_bytes()).hexdigest()
    )


@pytest.mark.parametrize("example", ["example-street-triage", "example-street-triage-synthetic"])
def test_demo_never_replaces_data_it_did_not_simulate(tmp_path: Path, example: str) -> None:
    """A second demo replaces its own simulated data; a folder without evaltk's truth.json is
    someone's data, and the demo stops with one line before touching it, and before any
    analysis runs (the synthetic control's data is simulated later, in a worker)."""
    data = tmp_path / "analyses" / example / "data"
    data.mkdir(parents=True)
    (data / "episodes.csv").write_text("mine\n")
    # One BLAS thread, as `make test` sets: the REML fits' last digits depend on the thread
    # count, and the golden files below were written with one.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [str(EVALTK), "demo", "--workdir", str(tmp_path)], capture_output=True, text=True, env=env
    )
    assert done.returncode != 0
    assert "data already exists and is not empty" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in data.iterdir()) == ["episodes.csv"]
    assert (data / "episodes.csv").read_text() == "mine\n"
    assert not list((tmp_path / "analyses").glob("*/results")), "an analysis ran"


GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()),
)
def test_demo_outputs_are_byte_identical_to_the_golden_files(
    demo: tuple[Path, str], name: str
) -> None:
    """The refactor of issue 11 keeps every result: results.json, the tidy CSVs and the panel
    of each example analysis are byte for byte those written before it (tests/golden/NAME/,
    written by `evaltk demo` with one BLAS thread at commit 90b2bb9, and since then only in
    commits that change results on purpose and say what moved)."""
    tmp_path, _ = demo
    results = tmp_path / "analyses" / name / "results"
    for golden in sorted((GOLDEN / name).iterdir()):
        produced = results / golden.name
        assert produced.is_file(), f"{produced} was not written"
        assert _results_only(produced.read_bytes()) == _results_only(golden.read_bytes()), (
            f"{name}/{golden.name} changed"
        )


#: results.json's record of the package versions that computed it, one line per package.
_PACKAGES = re.compile(rb'\n  "packages": \{\n(?:    "[^"\n]+": "[^"\n]*",?\n)*  \},')


def _results_only(written: bytes) -> bytes:
    """``written`` with results.json's package versions left out: they record the machine
    that ran it (a fresh install takes each package's newest release), not a result."""
    return _PACKAGES.sub(b'\n  "packages": "(versions of this run)",', written)


def test_golden_comparison_leaves_out_only_the_package_versions(demo: tuple[Path, str]) -> None:
    """The golden test's one allowance: the versions block is found and only it is left out,
    and the demo records the versions it actually ran with."""
    import matplotlib
    import numpy

    tmp_path, _ = demo
    written = (tmp_path / "analyses/example-street-triage/results/results.json").read_bytes()
    kept = _results_only(written)
    before, block = written.split(b'\n  "packages": {', 1)
    after = block.split(b"\n  },", 1)[1]
    assert kept == before + b'\n  "packages": "(versions of this run)",' + after
    versions = json.loads(written)["packages"]
    assert versions["matplotlib"] == matplotlib.__version__
    assert versions["numpy"] == numpy.__version__


def test_landing_page_gives_net_pounds_and_police_hours_for_every_analysis(
    demo: tuple[Path, str],
) -> None:
    """Issue 13: the landing page shows each analysis's net pounds and hours, with the same
    figures as its ledger (every example is costed)."""
    tmp_path, _ = demo
    landing = (tmp_path / "book" / "_build" / "html" / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", landing)))
    for name in sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()):
        results = tmp_path / "analyses" / name / "results" / "results.json"
        result = AnalysisResult.model_validate_json(results.read_text(encoding="utf-8"))
        assert result.ledger is not None, f"{name} has no ledger"
        net = result.ledger.net_pounds.estimate
        assert net is not None
        words = f"{_money(net)} {'saved' if net >= 0 else 'added'}"
        assert f"Whole system: {words}" in text, name
    assert text.count("police time:") == len([p for p in GOLDEN.iterdir() if p.is_dir()])


# -- a page a commissioner reads without help (issue 13, part 6) -------------------------------
_SIGN = {"saved": 1, "released": 1, "fewer": 1, "higher": 1, "added": -1, "more": -1, "lower": -1}
_END = re.compile(
    r"^(?:(?P<none>no change|no difference)|£?(?P<n>[\d,.]+)(?P<unit>[km]?) ?%? ?"
    r"(?:hours |events |minutes )?(?P<word>saved|released|fewer|higher|added|more|lower)?)$"
)


def _signed(end: str, sign: dict[str, int]) -> float:
    """'£858k added' -> -858000, '36 % lower' -> -36, '4,070 hours released' -> 4070."""
    match = _END.match(end.replace("\u00a0", " ").strip())
    assert match, f"an interval end that does not read as a number and a direction: {end!r}"
    if match["none"]:
        return 0.0
    size = float(match["n"].replace(",", "")) * {"": 1, "k": 1e3, "m": 1e6}[match["unit"]]
    # An end without a direction is a cost (per averted detention): positive.
    return sign[match["word"]] * size if match["word"] else size


def _commissioners(tmp_path: Path, name: str) -> str:
    markdown = (tmp_path / "book" / "analyses" / name / "index.md").read_text(encoding="utf-8")
    return _sections(markdown)["For commissioners: where the demand went"]


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_commissioners_read_low_to_high_intervals_whole_percentages_and_rounded_money(
    demo: tuple[Path, str], name: str
) -> None:
    tmp_path, _ = demo
    folder = tmp_path / "analyses" / name
    result = AnalysisResult.model_validate_json((folder / "results" / "results.json").read_text())
    section = _commissioners(tmp_path, name)
    assert result.ledger is not None
    # Net pounds and each line's pounds at three significant figures, from results.json.
    net = result.ledger.net_pounds
    assert net.estimate is not None and net.ci_low is not None and net.ci_high is not None
    words = {True: "saved", False: "added"}
    assert (
        f"{_money(net.estimate)} {words[net.estimate >= 0]} (95 % CI "
        f"{_money(net.ci_low)} {words[net.ci_low >= 0]} to "
        f"{_money(net.ci_high)} {words[net.ci_high >= 0]})"
    ) in section
    assert not re.search(r"£\d{1,3},\d{3},\d{3}|£\d{2,3},\d{3}\b", section), "pounds to the pound"
    # Every interval printed runs from its lower limit to its upper.
    intervals = re.findall(r"95[ \u00a0]% CI (.+?) to (.+?)\)", section.replace("`", ""))
    assert len(intervals) >= 4
    for line in section.splitlines():
        # Other agencies' hours count up as added (the ledger's sign for that line).
        sign = {**_SIGN, "added": 1, "released": -1} if "Other agencies" in line else _SIGN
        for low, high in re.findall(r"95[ \u00a0]% CI (.+?) to (.+?)\)", line):
            assert _signed(low, sign) <= _signed(high, sign), (low, high)
    # Whole percentages only, and none of the statisticians' words.
    assert not re.search(r"\d\.\d+[ \u00a0]?%", section)
    for jargon in ("multivariate", "Satterthwaite", "estimating function", "copula", "GLS"):
        assert jargon not in section, jargon
    evidence = _sections(
        (tmp_path / "book" / "analyses" / name / "index.md").read_text(encoding="utf-8")
    )["Strength of evidence"]
    assert "Satterthwaite" not in evidence and "REML" not in evidence


def test_glossary_links_on_the_commissioners_section_resolve(demo: tuple[Path, str]) -> None:
    tmp_path, _ = demo
    html_dir = tmp_path / "book" / "_build" / "html"
    glossary = (html_dir / "glossary.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'id="(term-[^"]+)"', glossary))
    assert {"term-EMMIE", "term-ATT-g-t", "term-Confidence-interval"} <= ids
    for name in EXAMPLES:
        page = (html_dir / "analyses" / name / "index.html").read_text(encoding="utf-8")
        start = page.index('<section id="for-commissioners-where-the-demand-went"')
        section = page[start : page.index('<section id="registration-and-amendments"', start)]
        links = set(re.findall(r'href="\.\./\.\./glossary\.html#(term-[^"]+)"', section))
        assert {"term-EMMIE", "term-Maryland-Scientific-Methods-Scale"} <= links, name
        assert links <= ids, links - ids
        assert "Effect, Mechanism" in html.unescape(re.sub(r"<[^>]+>", "", section))


def test_its_diagnostics_show_residual_plots_and_p_values_as_numbers(
    demo: tuple[Path, str],
) -> None:
    tmp_path, _ = demo
    name = "example-street-triage"
    folder = tmp_path / "analyses" / name
    result = AnalysisResult.model_validate_json((folder / "results" / "results.json").read_text())
    book = tmp_path / "book" / "analyses" / name
    diagnostics = _sections((book / "index.md").read_text(encoding="utf-8"))["Diagnostics"]
    shown = re.findall(r"```\{figure\} (figures/\S+-residuals\.png)", diagnostics)
    assert shown, "no residual figure in the diagnostics"
    assert all((book / target).is_file() for target in shown)
    for outcome in result.outcomes:
        assert outcome.diagnostics is not None
        # A residual figure for every ITS outcome the run drew one for (figures of series with
        # a suppressed small count are redrawn, and their residual plots withheld).
        drawn = (folder / "results" / "figures" / f"{outcome.outcome}-residuals.png").is_file()
        assert drawn, outcome.outcome
        p = outcome.diagnostics.ljung_box_p
        assert p is not None
        value = "< 0.001" if p < 0.001 else (f"{p:.3f}" if p < 0.1 else f"{p:.2f}")
        assert f"| {value} | test of correlation between the residuals" in diagnostics.replace(
            "\\<", "<"
        ).replace("\u00a0", " ")
    assert "no evidence that residuals" not in diagnostics
    assert "residuals of nearby months are correlated;" not in diagnostics


def test_truth_json_gives_each_examples_true_ledger_and_the_ledger_covers_it(
    demo: tuple[Path, str],
) -> None:
    """truth.json holds each example's true ledger (issue 13): the expected change over its
    treated force-months priced by its own unit costs, computed the way its ledger is (same
    force-months, same units, same hours and pounds per unit, same totals). Each example's
    95 % ledger intervals of the net pounds, net hours and police hours contain the truth on
    the demo data (the coverage over 200 datasets is book/validation/ledger_coverage.json)."""
    import json

    from evaltk.protocol.load import load_protocol
    from evaltk.simulate import SimulationConfig
    from evaltk.validation.true_ledger import true_ledger

    tmp_path, _ = demo
    truth = json.loads(
        (tmp_path / "analyses" / "example-street-triage" / "data" / "truth.json").read_text()
    )
    config = SimulationConfig(**truth["config"])
    assert set(truth["true_ledgers"]) == {
        "example-street-triage",
        "example-control-room-staggered",
        "example-right-care-right-person",
    }
    for name, true in truth["true_ledgers"].items():
        folder = tmp_path / "analyses" / name
        # The same computation again, from truth.json's own config and the analysis.
        assert true == true_ledger(config, load_protocol(folder).protocol).to_dict()
        result = AnalysisResult.model_validate_json(
            (folder / "results" / "results.json").read_text()
        )
        ledger = result.ledger
        assert ledger is not None and true["no_truth_for"] == []
        lines = {line.outcome: line for line in ledger.lines}
        assert set(lines) == {line["outcome"] for line in true["lines"]}
        for line in true["lines"]:
            estimated = lines[line["outcome"]]
            assert (line["unit"], line["in_net"]) == (estimated.unit, estimated.in_net)
            assert line["agency"] == estimated.agency
            assert estimated.force_months == true["force_months"], (name, line["outcome"])
            if line["averted"] != 0:  # pounds and hours per event or minute, as the ledger's
                for what in ("pounds", "hours"):
                    per = getattr(estimated, what).estimate / estimated.averted.estimate
                    assert line[what] == pytest.approx(line["averted"] * per, rel=1e-6, abs=0.01)
        for total in ("net_pounds", "net_hours", "police_hours_released"):
            interval = getattr(ledger, total)
            assert interval.ci_low <= true[total] <= interval.ci_high, (name, total)


def test_demo_runs_the_synthetic_control_example(demo: tuple[Path, str]) -> None:
    """The fourth example: Nottinghamshire against a synthetic force of 41 others, on data of
    its own (preset synthetic, true s136 ratio 0.7 from April 2016), registered, with its
    chapter section: the synthetic force's weights by force name, its fit before the start,
    the placebo in space that gives the p-value, and both figures."""
    tmp_path, stdout = demo
    assert "[5/7] Running analyses/example-street-triage-synthetic" in stdout
    folder = tmp_path / "analyses" / "example-street-triage-synthetic"
    result = AnalysisResult.model_validate_json((folder / "results" / "results.json").read_text())
    assert result.registration.status == "registered"
    assert result.design == "synthetic_control"
    s136 = result.outcome("s136_rate")
    record = s136.synthetic
    assert record is not None and record.treated_name == "Nottinghamshire"
    assert record.n_donors == 41 and len(record.placebos) == 42
    assert s136.p_value == pytest.approx(record.rank / 42)
    assert sum(w.weight for w in record.weights) == pytest.approx(1.0, abs=1e-3)
    assert s136.inference == "placebo" and s136.pretrend is not None
    assert s136.pretrend.method == "placebo"
    # The estimate is a fall (the truth: 30 % of the counterfactual rate); the ledger's
    # interval for s136 covers the true number of detentions averted (truth.json).
    assert s136.estimate is not None and s136.estimate < 0
    truth = json.loads((folder / "data" / "truth.json").read_text())
    true_lines = {
        line["outcome"]: line
        for line in truth["true_ledgers"]["example-street-triage-synthetic"]["lines"]
    }
    assert result.ledger is not None
    line = next(line for line in result.ledger.lines if line.outcome == "s136_rate")
    assert line.averted.ci_low <= true_lines["s136_rate"]["averted"] <= line.averted.ci_high
    assert line.force_months == 45
    # The chapter, as built: the section beside the result, with forces by name.
    markdown = (tmp_path / "book" / "analyses" / folder.name / "index.md").read_text("utf-8")
    results = _sections(markdown)["Results, outcome by outcome"]
    section = results[results.index("\n### Section 136 detentions per 100,000 residents\n") :]
    assert "**The synthetic force.** Synthetic Nottinghamshire is a weighted mix of" in section
    shown = [w for w in record.weights if w.weight > 0]
    top = shown[0]
    assert f"| {top.name} ({top.unit}) | {top.weight:.3f} |" in section
    assert f"root mean squared prediction error (RMSPE) of {record.pre_rmspe:.3g}" in section
    assert f"ranks {record.rank} of 42, so p = {record.rank}/42" in section
    assert "Why placebos and not a standard error from a formula" in section
    page = tmp_path / "book" / "_build" / "html" / "analyses" / folder.name / "index.html"
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page.read_text("utf-8"))))
    assert "Synthetic Nottinghamshire is a weighted mix of" in text and top.name in text
    images = re.findall(r'<img[^>]+src="([^"]+)"', page.read_text("utf-8"))
    # Sphinx numbers a file name it has seen in another chapter (s136_rate2.png).
    assert any(re.search(r"/s136_rate\d*\.png$", src) for src in images)
    assert any(re.search(r"/s136_rate-placebo\d*\.png$", src) for src in images)
    assert all((page.parent / src).resolve().is_file() for src in images)


def test_the_book_built_on_two_processes_is_the_one_built_on_one(
    demo: tuple[Path, str], tmp_path: Path
) -> None:
    """`evaltk book` and the demo run Sphinx on one process per core (the Jupyter Book child's
    --jobs): the demo's book, built both ways, is the same file for file and byte for byte."""
    from evaltk.publish.jupyter_book import (
        jupyter_book_command,
        preload_jupyter_book,
        run_build_command,
    )

    book = demo[0] / "book"
    built = {}
    for jobs in (1, 2):
        output = tmp_path / f"jobs-{jobs}"
        with preload_jupyter_book(book, jobs=jobs) as child:
            assert child is not None
            done = run_build_command(jupyter_book_command(book, "html", output, True), None, child)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        # Sphinx names a range of pages per line when it reads them in parallel chunks.
        status = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout)
        chunks = re.search(r"reading sources\.\.\. \[[ 0-9]+%\] \S+ \.\. ", status)
        assert (chunks is not None) == (jobs == 2), status[-2000:]
        html_dir = output / "_build" / "html"
        built[jobs] = {
            path.relative_to(html_dir): path.read_bytes()
            for path in sorted(html_dir.rglob("*"))
            if path.is_file()
        }
    assert len(built[1]) > 100
    assert built[2].keys() == built[1].keys()
    assert [name for name in built[1] if built[1][name] != built[2][name]] == []
