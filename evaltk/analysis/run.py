"""``evaltk run ANALYSIS``: protocol -> panel -> one model per outcome -> verdict -> results/.

The run is a straight line through the modules of the data flow (DESIGN.md). It writes
``ANALYSIS/results/`` whole or not at all:

* ``results.json`` — the :class:`~evaltk.results.schema.AnalysisResult` (deterministic);
* ``series.csv`` (ITS) — per outcome and month: observed, fitted, counterfactual and its
  interval;
* ``effects.csv`` (every design but its) — per outcome: the headline effect, the event-time
  effects and, for staggered adoption, every ATT(g,t); for the synthetic designs the donor
  weights and every placebo;
* ``figure_data.csv`` (every design but its) — the observed values the CITS series, DiD
  group-means and synthetic figures plot, with each group's summed count by month, so that
  ``evaltk book`` can apply disclosure control to those figures (not published);
* ``panel.csv`` — the unit x month measures the models were fitted to (for audit; not for
  publication: it holds small counts);
* ``pathways.csv`` and ``contacts.csv`` (episodes with person ids) — people's journeys
  before and after the start, and people by number of contacts in the year before and the
  last year (:mod:`evaltk.measures.journeys`): counts for ``evaltk book`` to protect and
  draw (:mod:`evaltk.publish.demand`), not for publication as they are (small counts);
* ``figures/OUTCOME.png`` — observed against counterfactual (ITS), the event-study plot
  (did, event_study, staggered_did), the treated and comparison series (cits) or the treated
  and synthetic series (synthetic designs); comparison designs add
  ``figures/OUTCOME-KIND.png`` (heat map, group means, placebo gaps).

Every design is fitted by :func:`evaltk.estimate.fit_outcomes` (one fit per outcome); the
whole-system ledger turns every design's headline into events, hours and pounds over the
treated force-months (:mod:`evaltk.verdict.ledger`).

Before anything is read, the protocol is checked against its registration
(``ANALYSIS/registration.json``): an unregistered or changed protocol is refused with a
field-level diff, unless the run is *exploratory*, in which case results.json, every figure and
(through results.json) every book page say so.
"""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Callable
from pathlib import Path

from evaltk import __version__
from evaltk.analysis.figures import draw_figures
from evaltk.analysis.inputs import input_files
from evaltk.analysis.tables import (
    effects_table,
    observed_figure_data,
    series_table,
    write_demand,
)
from evaltk.digest import file_sha256
from evaltk.episodes.forces import force_name
from evaltk.errors import DataError
from evaltk.estimate import OutcomeFit, fit_outcomes
from evaltk.estimate.stepped_wedge import trial_report
from evaltk.ingest.source import episode_format
from evaltk.linkage.on_spark import link_on_spark
from evaltk.linkage.pipeline import LinkedEpisodes, link_episodes
from evaltk.linkage.report import link_rates
from evaltk.locking import folder_lock
from evaltk.measures import EngineSettings, build_panel
from evaltk.measures.journeys import demand_tables
from evaltk.measures.panel import Panel
from evaltk.measures.quality import quality_share
from evaltk.protocol import LoadedProtocol, load_protocol
from evaltk.protocol.canonical import protocol_sha256
from evaltk.protocol.data_paths import check_data_paths, published_path
from evaltk.protocol.spec import EpisodeSource, Protocol
from evaltk.registration import (
    check_data,
    check_registration,
    record_data_seen,
    results_registration,
)
from evaltk.results.atomic import check_writable, replace_folder
from evaltk.results.schema import (
    AnalysisResult,
    DataSummary,
    DisclosureSettings,
    Registration,
)
from evaltk.verdict.evidence import evidence_level
from evaltk.verdict.headline import headline, measure_phrase
from evaltk.verdict.ledger import build_ledger
from evaltk.verdict.outcome_result import outcome_results
from evaltk.verdict.rules import decide

Progress = Callable[[str], None]
Warn = Callable[[str], None]

#: Appended to an error that stops a run before its results are swapped in.
_UNCHANGED = "the previous results are unchanged"


_PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "duckdb", "pyarrow", "matplotlib")
_SCHEME = {
    "street_triage": "street triage",
    "control_room_nurse": "the control-room nurse scheme",
    "right_care_right_person": "Right Care, Right Person",
    "other": "the scheme",
}


def _data_summary(
    loaded: LoadedProtocol, panel: Panel, linked: LinkedEpisodes | None = None
) -> DataSummary:
    source = loaded.folder / loaded.protocol.data.path
    account = panel.accounting
    data = loaded.protocol.data
    report = {}
    if isinstance(data, EpisodeSource):
        quality = quality_share(account)
        report = {
            "format": episode_format(data, source),
            "in_scope": quality.in_scope,
            "excluded_share": round(quality.share, 6),
            "max_excluded_share": data.max_excluded_share,
            "identifiers": data.identifiers,
        }
    return DataSummary(
        path=published_path(loaded.protocol.data.path, loaded.folder),
        sha256=file_sha256(source),
        files=input_files(loaded.protocol, loaded.folder),
        rows_in=account.rows_in,
        rows_used=account.rows_used,
        excluded=dict(sorted(account.excluded.items())),
        linkage=link_rates(linked, loaded.protocol) if linked is not None else None,
        empty_months=list(panel.empty_months),
        **report,
    )


def _packages() -> dict[str, str]:
    versions = {"python": platform.python_version(), "evaltk": __version__}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _unregistered(protocol: Protocol) -> Registration:
    return Registration(
        status="unregistered",
        protocol_sha256=protocol_sha256(protocol),
        note="This run was not checked against a registered protocol.",
    )


def _flagged_headline(text: str, registration: Registration) -> str:
    """The headline, led by what a reader must know first about how it stands to the plan."""
    flags = []
    if registration.status == "exploratory":
        flags.append("Exploratory analysis, not the registered one.")
    if registration.primary_changed:
        registered = ", ".join(registration.registered_primary) or "none"
        flags.append(
            f"The primary outcome was changed after registration (registered: {registered})."
        )
    return " ".join([*flags, text])


#: Treated units the headline names one by one with their start dates; more are summarised.
MAX_STARTS_NAMED = 5


def _began(protocol: Protocol) -> str | None:
    """Where and when the scheme began, for the headline, when units started at different
    dates (None: the headline's own "in PLACES in MONTH")."""
    starts = sorted((protocol.intervention.start[u], u) for u in protocol.treated_units)
    if len({start for start, _ in starts}) < 2:
        return None
    if len(starts) > MAX_STARTS_NAMED:
        # A rollout over many areas reads as its shape, not a list of twelve names and dates.
        dates = sorted({start for start, _ in starts})
        what = "areas" if protocol.design.kind == "stepped_wedge" else "forces"
        return (
            f"in {len(starts)} {what}, in {len(dates)} steps from {dates[0]:%B %Y} to "
            f"{dates[-1]:%B %Y}"
        )
    parts = [f"{force_name(unit)} from {start:%B %Y}" for start, unit in starts]
    return "in " + ", ".join(parts[:-1]) + " and " + parts[-1]


def assemble(
    loaded: LoadedProtocol,
    panel: Panel,
    fits: list[OutcomeFit],
    registration: Registration | None = None,
    linked: LinkedEpisodes | None = None,
) -> AnalysisResult:
    """Build the AnalysisResult from the fits (no I/O except hashing the data file).

    ``registration`` is the block from :func:`evaltk.registration.results_registration`;
    without it the result is marked unregistered.
    """
    protocol = loaded.protocol
    registration = registration or _unregistered(protocol)
    outcomes = outcome_results(fits, protocol)
    start = protocol.first_start().replace(day=1)
    scheme = _SCHEME[protocol.intervention.kind]
    ledger = build_ledger(fits, protocol)
    treated = protocol.treated_units
    return AnalysisResult(
        evaltk_version=__version__,
        analysis=loaded.folder.resolve().name,
        title=protocol.title,
        question=protocol.question,
        intervention=protocol.intervention.kind,
        units=list(protocol.units),
        start=start.isoformat(),
        window_start=protocol.window.start.isoformat(),
        window_end=protocol.window.end.isoformat(),
        design=protocol.design.kind,
        alpha=protocol.decision.alpha,
        interval_level=protocol.decision.interval_level,
        multiplicity=protocol.decision.multiplicity,
        registration=registration,
        verdict=decide(outcomes, protocol.decision),
        headline=_flagged_headline(
            headline(
                outcomes,
                scheme=scheme,
                start=start,
                places=", ".join(force_name(unit) for unit in treated),
                alpha=protocol.decision.alpha,
                level=protocol.decision.interval_level,
                began=_began(protocol),
                phrases={
                    o: measure_phrase(aggregate, panel.per.get(o, 100_000))
                    for o, aggregate in panel.aggregates.items()
                },
            ),
            registration,
        ),
        ledger=ledger,
        ledger_note="" if ledger is not None else "No outcome carries a unit cost.",
        starts={
            unit: (
                protocol.intervention.start[unit].replace(day=1).isoformat()
                if unit in protocol.intervention.start
                else None
            )
            for unit in protocol.units
        },
        evidence=evidence_level(protocol, ledger, outcomes),
        not_measured=list(protocol.not_measured),
        data=_data_summary(loaded, panel, linked),
        disclosure=DisclosureSettings(
            threshold=protocol.disclosure.threshold, round_to=protocol.disclosure.round_to
        ),
        outcomes=outcomes,
        packages=_packages(),
        trial=trial_report(protocol, fits),
    )


def run_analysis(
    path: str | Path,
    progress: Progress | None = None,
    *,
    exploratory: bool = False,
    warn: Warn | None = None,
    engine: EngineSettings | None = None,
) -> AnalysisResult:
    """Run one analysis folder end to end and write its ``results/`` (``evaltk run``).

    :func:`run_with_fits` without the fits; see it for the parameters and errors.

    Returns
    -------
    AnalysisResult
        What was written to ``results/results.json``.
    """
    return run_with_fits(path, progress, exploratory=exploratory, warn=warn, engine=engine)[0]


def run_with_fits(
    path: str | Path,
    progress: Progress | None = None,
    *,
    exploratory: bool = False,
    warn: Warn | None = None,
    engine: EngineSettings | None = None,
) -> tuple[AnalysisResult, list[OutcomeFit]]:
    """Run one analysis folder end to end, write its ``results/``, and keep the fits.

    The one run of ``evaltk run`` and of the notebook API (:func:`evaltk.api.run`), which
    keeps each outcome's fit to show and plot.

    The folder is locked for the whole run (:func:`evaltk.locking.folder_lock`): a second
    ``evaltk run``, ``register`` or ``amend`` of the same folder waits for it, then stops with
    :class:`~evaltk.errors.FolderBusy`. Before any computing, the data paths are checked
    (inside the folder unless ``data.allow_outside``) and the folder is checked to be
    writable, so a read-only or full disk is reported at once, not after the fits.

    Parameters
    ----------
    path : str or Path
        The analysis folder (holding ``analysis.yaml``) or the YAML file itself.
    progress : callable, optional
        Called with a short description at the start of each step.
    exploratory : bool, default False
        Run even if the protocol is unregistered or differs from its registration, and stamp
        every output as exploratory.
    warn : callable, optional
        Called with one line per warning once the results are written: each data file that
        differs from the first registered run's (``ANALYSIS/data-seen.json``, which a
        registered run appends to and an exploratory run only reads).
    engine : EngineSettings, optional
        Where the episode rows are measured: DuckDB (default) or Spark
        (``EngineSettings(engine="spark", spark=SparkSettings(...))``). Only the unit x
        month panel comes back; everything after it runs here, the same on either engine.

    Returns
    -------
    result : AnalysisResult
        What was written to ``results/results.json``.
    fits : list of OutcomeFit
        One per outcome, in the protocol's order, as the results were built from.

    Raises
    ------
    RunRefused
        Without ``exploratory``, when the analysis is unregistered, its registration log
        fails verification, or the protocol changed since the latest registration entry (the
        message lists each changed field). Nothing is written.
    DataError
        When a data file is missing or lies outside the folder without ``data.allow_outside``.
    OutputError
        When the folder is read-only, not writable by this user, or its disk fills up; the
        previous results are then unchanged.
    FolderBusy
        When another evaltk command holds the folder for longer than the lock's wait.
    """
    say = progress or (lambda _message: None)
    say("Reading the protocol")
    loaded = load_protocol(path)
    with folder_lock(loaded.folder):
        result, fits = _run_locked(loaded, say, exploratory, engine)
        files = {f.path: f.sha256 for f in result.data.files}
        if result.registration.status == "registered":
            warnings = list(
                record_data_seen(
                    loaded.folder, files, log_sha256=result.registration.log_sha256
                ).warnings
            )
        else:
            warnings = check_data(loaded.folder, files)
    for line in warnings:
        (warn or (lambda _line: None))(line)
    return result, fits


def _run_locked(
    loaded: LoadedProtocol, say: Progress, exploratory: bool, engine: EngineSettings | None
) -> tuple[AnalysisResult, list[OutcomeFit]]:
    say("Checking the registration")
    check = check_registration(loaded)
    if check.status != "registered" and not exploratory:
        raise check.refusal()
    registration = results_registration(check, exploratory=exploratory)
    protocol = loaded.protocol
    check_data_paths(protocol, loaded.folder, loaded.path)
    source = loaded.folder / protocol.data.path
    if not source.is_file():
        hint = (
            " (run `evaltk simulate` or point data.path at your extract)"
            if isinstance(protocol.data, EpisodeSource)
            else ""
        )
        raise DataError(f"{loaded.path}: data.path: file not found: {source}{hint}")
    check_writable(loaded.folder, _UNCHANGED)  # before minutes of fitting, not after
    linked = None
    if isinstance(protocol.data, EpisodeSource) and protocol.data.linkage is not None:
        say("Pseudonymising and linking the agencies' extracts")
        if engine is not None and engine.engine == "spark":
            # Where the data live: read in place, linked and flagged by Spark.
            linked = link_on_spark(protocol, loaded.folder, settings=engine)
        else:
            linked = link_episodes(protocol, loaded.folder, settings=engine)
    say("Measuring outcomes" + (" on Spark" if engine and engine.engine == "spark" else ""))
    panel = build_panel(
        protocol, loaded.folder, settings=engine, linked_file=linked.path if linked else None
    )
    # People's journeys and contacts (measures/journeys.py): the same engine, only counts back.
    demand = demand_tables(
        protocol, loaded.folder, linked_file=linked.path if linked else None, settings=engine
    )
    say(f"Fitting {len(protocol.outcomes)} models")
    fits = fit_outcomes(panel, protocol)
    say("Deciding and writing results")
    result = assemble(loaded, panel, fits, registration, linked)
    with replace_folder(loaded.folder / "results", _UNCHANGED) as staging:
        (staging / "results.json").write_text(result.to_json(), encoding="utf-8")
        if protocol.design.kind == "its":
            series_table(fits).to_csv(staging / "series.csv", index=False, float_format="%.10g")
        else:
            effects_table(fits).to_csv(staging / "effects.csv", index=False, float_format="%.10g")
            observed_figure_data(fits, panel, protocol).to_csv(
                staging / "figure_data.csv", index=False, float_format="%.10g"
            )
        panel.frame.to_csv(staging / "panel.csv", index=False, float_format="%.10g")
        if demand is not None:
            write_demand(demand, staging)
        draw_figures(fits, staging / "figures", result)
    return result, fits
