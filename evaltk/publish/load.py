"""Find the analyses to publish and read each one's ``results/`` through the results contract.

The book reads only what ``evaltk run`` wrote (``results.json``, the figures it names, and
``series.csv``); it never re-reads raw data or re-fits anything, so the book shows exactly the
numbers that were run. Everything is checked here, before any page is written, so that a
problem is reported as one line naming the file and what to do, not as a Sphinx warning.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from evaltk.errors import LogTampered, PublishError
from evaltk.power.report import PowerReport
from evaltk.power.sw_report import SWPowerReport
from evaltk.registration.log import LOG_FILE, RegistrationLog, read_log
from evaltk.results.figure_files import residual_file
from evaltk.results.schema import RESULTS_SCHEMA_VERSION, AnalysisResult

RESULTS_FILE = Path("results") / "results.json"
SERIES_FILE = Path("results") / "series.csv"
EFFECTS_FILE = Path("results") / "effects.csv"
FIGURE_DATA_FILE = Path("results") / "figure_data.csv"
ANALYSIS_FILE = "analysis.yaml"
POWER_JSON = Path("power") / "power.json"
POWER_FIGURE = Path("power") / "power.png"
LEDGER_FIGURE = Path("results") / "figures" / "ledger.png"


@dataclass(frozen=True)
class LoadedAnalysis:
    """One analysis folder, validated and ready to render.

    Attributes
    ----------
    name : str
        The folder name; it names the chapter (``analyses/NAME/``) and the run command.
    folder : pathlib.Path
        The analysis folder as the user gave it (relative paths stay relative).
    result : AnalysisResult
        The parsed ``results.json``.
    figures : Mapping[str, pathlib.Path]
        Outcome id to an existing figure file, for every outcome that names one.
    series : pathlib.Path or None
        ``results/series.csv`` when the run wrote it.
    registration : RegistrationLog or None
        The verified ``registration.json`` (the pre-registration page shows its first entry).
    power : PowerReport, SWPowerReport or None
        ``power/power.json`` from ``evaltk power``, the sample-size justification.
    power_figure : pathlib.Path or None
        ``power/power.png`` beside it.
    """

    name: str
    folder: Path
    result: AnalysisResult
    figures: Mapping[str, Path] = field(default_factory=dict)
    series: Path | None = None
    registration: RegistrationLog | None = None
    power: PowerReport | SWPowerReport | None = None
    power_figure: Path | None = None
    ledger_figure: Path | None = None  # results/figures/ledger.png, the waterfall chart
    # Comparison designs: each outcome's extra figures (event study, heat map, group means),
    # keyed by their path in results.json; and results/effects.csv.
    extra_figures: Mapping[str, Path] = field(default_factory=dict)
    effects: Path | None = None
    # results/figure_data.csv: the observed values the CITS and DiD group-means figures plot
    # (read for disclosure control; never published).
    figure_data: Path | None = None
    # ITS outcomes: the residual and autocorrelation figure beside the main one (found by its
    # name, evaltk.analysis.residual_figures; results.json does not list it).
    residual_figures: Mapping[str, Path] = field(default_factory=dict)

    @property
    def results_json(self) -> Path:
        return self.folder / RESULTS_FILE

    @property
    def project_path(self) -> str:
        """``analyses/NAME``: the folder relative to the project folder that holds the analyses.

        Pages use this rather than a path relative to wherever the book was built, so that the
        published book (and its generated sources) do not depend on the builder's folder.
        """
        return f"{self.folder.resolve().parent.name}/{self.name}"

    @property
    def run_command(self) -> str:
        """The command that reproduces ``results/``, run in the project folder."""
        return f"evaltk run {self.project_path}"


def display_path(path: Path) -> str:
    """``path`` as a user would type it: relative to the current folder when it is inside it."""
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def find_analyses(analyses_dir: Path) -> list[Path]:
    """The analysis folders under ``analyses_dir``, sorted by name.

    A folder counts as an analysis if it holds ``analysis.yaml`` or a ``results/`` folder;
    hidden folders and those starting with ``_`` are skipped.

    Raises
    ------
    PublishError
        If ``analyses_dir`` is not a folder, or holds no analysis.
    """
    shown = display_path(analyses_dir)
    if not analyses_dir.is_dir():
        raise PublishError(
            f"{shown}: no such folder; pass the folder that holds your analyses "
            "(one sub-folder per analysis, each with analysis.yaml), e.g. --analyses analyses"
        )
    folders = sorted(
        child
        for child in analyses_dir.iterdir()
        if child.is_dir()
        and not child.name.startswith((".", "_"))
        and ((child / ANALYSIS_FILE).is_file() or (child / "results").is_dir())
    )
    if not folders:
        raise PublishError(
            f"{shown}: no analyses to publish (expected sub-folders with {ANALYSIS_FILE}); "
            "create one (see `evaltk init --help`), run it with `evaltk run`, then build the book"
        )
    return folders


def load_analysis(folder: Path) -> LoadedAnalysis:
    """Read and check one analysis folder's results.

    Parameters
    ----------
    folder : pathlib.Path
        An analysis folder (``analyses/NAME``).

    Returns
    -------
    LoadedAnalysis

    Raises
    ------
    PublishError
        If ``results/results.json`` is missing, is not valid JSON, was written by an
        incompatible schema version, fails validation, or names a figure that is missing or
        lies outside ``results/``.
    """
    run = f"evaltk run {display_path(folder)}"
    path = folder / RESULTS_FILE
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PublishError(f"{shown}: not found; run `{run}` first") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PublishError(f"{shown}: cannot be read ({error}); re-run `{run}`") from None
    _check_version(text, shown, run)
    try:
        result = AnalysisResult.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise PublishError(
            f"{shown}: not a valid results file ({where}: {first['msg']}); re-run `{run}`"
        ) from None
    power = read_power(folder)
    return LoadedAnalysis(
        name=folder.name,
        folder=folder,
        result=result,
        figures=_figures(folder, result, run),
        series=(folder / SERIES_FILE) if (folder / SERIES_FILE).is_file() else None,
        registration=_registration(folder),
        power=power,
        power_figure=(folder / POWER_FIGURE)
        if power is not None and (folder / POWER_FIGURE).is_file()
        else None,
        ledger_figure=(folder / LEDGER_FIGURE) if (folder / LEDGER_FIGURE).is_file() else None,
        extra_figures=_extra_figures(folder, result, run),
        effects=(folder / EFFECTS_FILE) if (folder / EFFECTS_FILE).is_file() else None,
        figure_data=(folder / FIGURE_DATA_FILE) if (folder / FIGURE_DATA_FILE).is_file() else None,
        residual_figures=_residual_figures(folder, result),
    )


def _residual_figures(folder: Path, result: AnalysisResult) -> dict[str, Path]:
    """Each outcome's residual figure, when the run drew one beside its main figure."""
    found: dict[str, Path] = {}
    for outcome in result.outcomes:
        if not outcome.figure:
            continue
        path = folder / "results" / Path(outcome.figure).parent / residual_file(outcome.outcome)
        if path.is_file():
            found[outcome.outcome] = path
    return found


def _registration(folder: Path) -> RegistrationLog | None:
    """The verified log; a log that fails verification stops the book (never shown as valid)."""
    path = folder / LOG_FILE
    if not path.is_file():
        return None
    try:
        return read_log(path)
    except LogTampered as error:
        raise PublishError(f"{error}; the book does not publish a broken registration") from None


def read_power(folder: Path) -> PowerReport | SWPowerReport | None:
    """The analysis's ``power/power.json`` (a stepped-wedge trial's has its own shape), or None
    without one; a bad file is one line."""
    path = folder / POWER_JSON
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    try:
        if json.loads(text).get("design") == "stepped_wedge":
            return SWPowerReport.model_validate_json(text)
        return PowerReport.model_validate_json(text)
    except (ValidationError, ValueError, AttributeError) as error:
        raise PublishError(
            f"{display_path(path)}: not a valid power file ({str(error).splitlines()[0]}); "
            f"re-run `evaltk power {display_path(folder)}`"
        ) from None


def load_analyses(
    analyses_dir: Path, *, skipped: Callable[[str], None] | None = None
) -> list[LoadedAnalysis]:
    """Every analysis under ``analyses_dir`` that has been run, loaded and checked.

    A folder with ``analysis.yaml`` but no ``results/`` yet (not run) is left out, and
    ``skipped`` is called with one line naming it; a folder whose results are there but
    broken stops the book (see :func:`load_analysis`).

    Raises
    ------
    PublishError
        As :func:`find_analyses`, as :func:`load_analysis`, or if no analysis has been run
        (the message names the first one's missing results).
    """
    folders = find_analyses(analyses_dir)
    ran = [folder for folder in folders if (folder / "results").exists()]
    if not ran:
        return [load_analysis(folders[0])]  # raises: results.json not found; run ... first
    for folder in folders:
        if folder not in ran and skipped is not None:
            skipped(
                f"{display_path(folder)}: not run yet, left out of the book "
                f"(`evaltk run {display_path(folder)}` adds it)"
            )
    return [load_analysis(folder) for folder in ran]


def _check_version(text: str, shown: str, run: str) -> None:
    # Read the version before validating so that a file from another major version gets a
    # message about versions rather than a list of unknown fields.
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PublishError(
            f"{shown}: not valid JSON (line {error.lineno}: {error.msg}); re-run `{run}`"
        ) from None
    if not isinstance(document, dict):
        raise PublishError(f"{shown}: not a results file (expected a JSON object); re-run `{run}`")
    version = str(document.get("results_schema_version", ""))
    if version.split(".")[0] != RESULTS_SCHEMA_VERSION.split(".")[0]:
        raise PublishError(
            f"{shown}: results schema version {version or '(none)'} cannot be read by this "
            f"evaltk (reads {RESULTS_SCHEMA_VERSION}); re-run `{run}` with this version"
        )


def _extra_figures(folder: Path, result: AnalysisResult, run: str) -> dict[str, Path]:
    """Every outcome's extra figures (comparison designs), checked as the main ones are."""
    results_dir = (folder / "results").resolve()
    figures: dict[str, Path] = {}
    for outcome in result.outcomes:
        for extra in outcome.figures:
            path = (results_dir / extra.path).resolve()
            if not path.is_relative_to(results_dir) or not path.is_file():
                raise PublishError(
                    f"{display_path(folder / RESULTS_FILE)}: outcome {outcome.outcome!r} names "
                    f"{extra.kind} figure {extra.path!r}, which is missing or outside results/; "
                    f"re-run `{run}`"
                )
            figures[extra.path] = path
    return figures


def _figures(folder: Path, result: AnalysisResult, run: str) -> dict[str, Path]:
    results_dir = (folder / "results").resolve()
    figures: dict[str, Path] = {}
    for outcome in result.outcomes:
        if not outcome.figure:
            continue
        path = (results_dir / outcome.figure).resolve()
        # results.json is data: a figure path must not reach outside results/.
        if not path.is_relative_to(results_dir):
            raise PublishError(
                f"{display_path(folder / RESULTS_FILE)}: outcome {outcome.outcome!r} names figure "
                f"{outcome.figure!r}, outside results/; re-run `{run}`"
            )
        if not path.is_file():
            raise PublishError(
                f"{display_path(folder / 'results' / outcome.figure)}: figure for outcome "
                f"{outcome.outcome!r} not found; re-run `{run}`"
            )
        figures[outcome.outcome] = path
    return figures
