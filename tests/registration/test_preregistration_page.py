"""The pre-registration page: OSF's sections, from the registered protocol and power.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from evaltk.analysis.run import run_analysis
from evaltk.power import its_settings, power_analysis, write_power
from evaltk.protocol import load_protocol
from evaltk.publish.load import load_analyses
from evaltk.publish.pages import write_pages
from evaltk.registration import register
from evaltk.registration.fingerprint import fingerprint

from .conftest import ROOT, WHEN


def test_page_mirrors_osf_and_shows_the_recorded_power(
    analysis_with_data: Path, tmp_path: Path
) -> None:
    settings = its_settings(
        load_protocol(analysis_with_data),
        baseline=50.0,
        replicates=20,
        months_after=(12, 45),
        effects=(0.8, 1.0),
    )
    write_power(power_analysis(settings, workers=1), analysis_with_data / "power")
    done = register(
        analysis_with_data,
        data_access="outcomes_examined",
        explanation="The 2015 s136 counts were seen in a board paper.",
        by="A. Analyst",
        now=WHEN,
    )
    run_analysis(analysis_with_data)
    book = tmp_path / "book"
    book.mkdir()
    for name in ("_config.yml", "methods.md", "about-results.md"):
        shutil.copyfile(ROOT / "book" / name, book / name)
    write_pages(load_analyses(analysis_with_data.parent), book)
    folder = book / "analyses" / analysis_with_data.name
    page = (folder / "preregistration.md").read_text(encoding="utf-8")
    sections = [
        "## Study information",
        "**Hypotheses.**",
        "## Design plan",
        "## Sampling plan",
        "## Sample size justification",
        "## Variables",
        "## Analysis plan",
        "**Inference and decision rules.**",
        "**Data exclusion.**",
        "## Amendments",
    ]
    positions = [page.index(s) for s in sections]
    assert positions == sorted(positions)
    assert "H1 (primary): after street triage began in April 2016" in page
    assert "The 2015 s136 counts were seen in a board paper." in page
    assert "| 12 months after | 45 months after (registered) |" in page
    assert "This is the power analysis recorded with the registration (same SHA-256)." in page
    assert "```{figure} power.png" in page and (folder / "power.png").is_file()
    assert "counting an incident only if the same person has another within 28 days" in page
    assert "None: the analysis ran as registered." in page
    # The fingerprint printed by `evaltk register`, to be filed with the commissioner, is on
    # the page, so a reader can compare it with the one they were sent.
    filed = fingerprint(done.entry.entry_sha256)
    assert f"Fingerprint (filed with the commissioner)\n  - `{filed}`" in page
    assert f"Latest fingerprint (after amendments)\n  - `{filed}`" in page
    assert "* - Signed\n  - not signed" in page
    # Variables: one row per outcome, the id on its own line under the label (issue 20).
    assert ":class: evaltk-variables" in page
    assert "* - Section 136 detentions per 100,000 residents\n\n    `s136_rate`\n" in page
    assert "  - Primary (resolution); a fall is good\n" in page
    # The plan's model sentence is the results' estimator, in full (one description).
    estimator = json.loads((analysis_with_data / "results" / "results.json").read_text())[
        "outcomes"
    ][0]["estimator"]
    # Model auto: s136 has a count in every month, so GLS was fitted; the plan states the rule
    # and both models in the same phrases as the results.
    assert estimator == (
        "segmented regression of the log rate by GLS, level change, 2 Fourier pair(s), "
        "Poisson sampling + white + AR(1) errors by REML, Satterthwaite t tests"
    )
    assert (
        "**Statistical model.** Model chosen by the data for each outcome (GLS where every "
        "fitted month has a count above zero and six months are left beyond the coefficients, "
        "otherwise the GLM): each outcome's monthly series: segmented regression of the log "
        "rate by GLS, level change at the start on an underlying trend, 2 Fourier pair(s), "
        "Poisson sampling + white + AR(1) errors by REML, Satterthwaite t tests" in page
    )
    assert (
        "Otherwise: each outcome's monthly series: segmented GLM, quasi-Poisson, on an "
        "underlying trend with a level change at the start and 2 Fourier pair(s) for "
        "seasonality; model-based errors;" in page
    )
    # The OSF form beside the page, as its download.
    assert "{download}`osf-preregistration.md <files/osf-preregistration.md>`" in page
    form = (folder / "files" / "osf-preregistration.md").read_text(encoding="utf-8")
    assert form.startswith("# Pre-registration: ") and "\n### Inference criteria\n" in form
    # The methods page lists the same sentence, and the results' own (issue 20).
    models = (book / "_fragments" / "models.md").read_text(encoding="utf-8")
    assert "Registered: Model chosen by the data for each outcome (GLS where every" in models
    assert estimator in models.split("Results: ")[1]
    chapter = (folder / "index.md").read_text(encoding="utf-8")
    assert "[pre-registration](preregistration.md)" in chapter


def test_stepped_wedge_power_is_read_and_shown_with_the_registered_test_first(
    tmp_path: Path,
) -> None:
    """A trial's power.json has its own shape: the book reads it (it used to stop with "not a
    valid power file") and shows the registered test's power before the z test's."""
    from evaltk.power.stepped_wedge import SteppedWedgePowerSettings, sw_power_analysis
    from evaltk.power.sw_output import write_sw_power
    from evaltk.publish.load import read_power
    from evaltk.publish.preregistration import power_context

    settings = SteppedWedgePowerSettings(
        clusters=(8,), steps=(4,), mean_count=30.0, icc=0.1, effects=(0.7, 1.0), replicates=40
    )
    report = sw_power_analysis(settings)
    write_sw_power(report, tmp_path / "power")
    read = read_power(tmp_path)
    assert read == report
    shown = power_context(read, tmp_path, [])
    assert shown is not None
    assert shown["headers"][0] == "registered test"
    assert shown["estimator"].startswith("Randomisation test over the registered scheme")
    cell = report.cells[0]
    assert shown["rows"][0]["cells"][0] == f"{cell.power:.2f} ± {cell.mc_se:.2f}"
    assert shown["rows"][0]["cells"][1] == f"{cell.z_test_power:.2f} ± {cell.z_test_mc_se:.2f}"
    assert "by the registered test (simulated)" in shown["mde"][0]
