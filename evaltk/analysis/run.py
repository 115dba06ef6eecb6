"""``evaltk run ANALYSIS``: protocol -> panel -> one model per outcome -> verdict -> results/.

The run is a straight line through the modules of the data flow (DESIGN.md). It writes
``ANALYSIS/results/`` whole or not at all:

* ``results.json`` — the :class:`~evaltk.results.schema.AnalysisResult` (deterministic);
* ``series.csv`` (ITS) — per outcome and month: observed, fitted, counterfactual and its
  interval;
* ``effects.csv`` (did, event_study, staggered_did, cits) — per outcome: the headline effect,
  the event-time effects and, for staggered adoption, every ATT(g,t);
* ``figure_data.csv`` (did, event_study, cits) — the observed values the CITS series and DiD
  group-means figures plot, with each group's summed count by month, so that ``evaltk book``
  can apply disclosure control to those figures (not published);
* ``panel.csv`` — the unit x month measures the models were fitted to (for audit; not for
  publication: it holds small counts);
* ``figures/OUTCOME.png`` — observed against counterfactual (ITS), the event-study plot
  (did, event_study, staggered_did) or the treated and comparison series (cits); comparison
  designs add ``figures/OUTCOME-KIND.png`` (heat map, group means).

Comparison designs are fitted by :mod:`evaltk.analysis.estimate_panel`; the whole-system
ledger needs a month-by-month counterfactual in events, which the ITS and the comparative ITS
give; it is left out for the other designs (``ledger_note`` says so).

Before anything is read, the protocol is checked against its registration
(``ANALYSIS/registration.json``): an unregistered or changed protocol is refused with a
field-level diff, unless the run is *exploratory*, in which case results.json, every figure and
(through results.json) every book page say so.
"""

from __future__ import annotations

import functools
import importlib.metadata
import platform
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # a run draws figures to files; never needs a screen
import matplotlib.pyplot as plt
import pandas as pd

from evaltk import __version__
from evaltk.analysis.atomic import replace_folder
from evaltk.analysis.design_fit import DesignFit
from evaltk.analysis.estimate import OutcomeFit, finite_or_none, fit_all
from evaltk.analysis.estimate_panel import (
    draw_figures,
    effects_table,
    fit_designs,
    outcome_result,
    raw_p_value,
)
from evaltk.analysis.inputs import input_files
from evaltk.digest import file_sha256
from evaltk.episodes.forces import force_name
from evaltk.errors import DataError
from evaltk.ingest.source import episode_format
from evaltk.linkage.pipeline import LinkedEpisodes, link_episodes
from evaltk.linkage.report import link_rates
from evaltk.measures import build_panel
from evaltk.measures.panel import Panel
from evaltk.measures.quality import quality_share
from evaltk.protocol import LoadedProtocol, load_protocol
from evaltk.protocol.canonical import protocol_sha256
from evaltk.protocol.spec import EpisodeSource, Protocol
from evaltk.registration import check_registration, results_registration
from evaltk.registration.stamp import (
    EXPLORATORY_OUTCOME,
    EXPLORATORY_RUN,
    png_metadata,
    stamp_figure,
)
from evaltk.results.schema import (
    AnalysisResult,
    Cumulative,
    DataSummary,
    Diagnostics,
    DisclosureSettings,
    Interval,
    OutcomeResult,
    Registration,
)
from evaltk.verdict.equivalence import equivalence_fields
from evaltk.verdict.evidence import evidence_level
from evaltk.verdict.headline import headline
from evaltk.verdict.ledger import build_ledger
from evaltk.verdict.multiplicity import adjust
from evaltk.verdict.rules import decide
from evaltk.verdict.waterfall import plot_waterfall

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Progress = Callable[[str], None]
Fit = OutcomeFit | DesignFit

#: Designs whose fits give a month-by-month counterfactual in events for the ledger.
LEDGER_DESIGNS = ("its", "cits")

#: What the other comparison designs say instead of the ledger.
LEDGER_NOTE = (
    "The whole-system ledger (hours and pounds) is computed from a month-by-month "
    "counterfactual in events, which an interrupted time series or a comparative ITS gives; "
    "it is not computed for the {design} design, whose effect is an average over units and "
    "periods with no counterfactual count for each month."
)

_PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "duckdb", "pyarrow", "matplotlib")
_SCHEME = {
    "street_triage": "street triage",
    "control_room_nurse": "the control-room nurse scheme",
    "right_care_right_person": "Right Care, Right Person",
    "other": "the scheme",
}


def _estimator_text(fit: OutcomeFit, protocol: Protocol) -> str:
    options = protocol.design.its
    family = fit.family.replace("_", "-").replace("quasi-poisson", "quasi-Poisson")
    family = family.replace("poisson", "Poisson")
    seasonality = {
        "fourier": f"{options.harmonics} Fourier pair(s)",
        "month": "month indicators",
        "none": "no seasonality",
    }[options.seasonality]
    if options.hac:
        errors = f"Newey-West errors ({options.hac_lags or 'auto'} lags)"
    elif options.ar1:
        errors = "errors with AR(1) working correlation"
    else:
        errors = "model-based errors"
    slope = ", slope change" if options.slope_change else ""
    if options.model == "gls":
        scale = "the series" if fit.family == "gaussian" else "the log rate"
        return (
            f"segmented regression of {scale} by GLS, level change{slope}, {seasonality}, "
            "Poisson sampling + white + AR(1) errors by REML, Satterthwaite t tests"
        )
    return f"segmented GLM, {family}, level change{slope}, {seasonality}, {errors}"


def _interval(effect: object | None) -> Interval | None:
    if effect is None:
        return None
    return Interval(
        estimate=finite_or_none(getattr(effect, "estimate", None)),
        ci_low=finite_or_none(getattr(effect, "ci_low", None)),
        ci_high=finite_or_none(getattr(effect, "ci_high", None)),
    )


def _outcome_result(
    fit: OutcomeFit, protocol: Protocol, n_units: int, p_adjusted: float | None
) -> OutcomeResult:
    outcome = fit.outcome
    common = {
        "outcome": outcome.id,
        "label": outcome.label,
        "role": outcome.role,
        "outcome_class": outcome.outcome_class,
        "direction": outcome.direction,
        "aggregate": fit.aggregate,
        "design": protocol.design.kind,
        "estimator": _estimator_text(fit, protocol),
        "scale": "difference" if fit.family == "gaussian" else "ratio",
        "n_units": n_units,
        "n_periods": len(fit.series),
        "note": fit.error or "",
    }
    result = fit.result
    if result is None:
        return OutcomeResult(
            **common,
            estimate=None,
            ci_low=None,
            ci_high=None,
            p_value=None,
            p_adjusted=None,
            slope_change=None,
            trend_per_year=None,
            cumulative=None,
            diagnostics=None,
            figure=None,
        )
    effect = result.effect
    cumulative = result.cumulative
    diagnostics = result.diagnostics
    additive = fit.cumulative_unit != "not additive"
    std_error = finite_or_none(effect.std_error)
    margin = outcome.margin or protocol.decision.minimum_important_change
    return OutcomeResult(
        **common,
        std_error=std_error,
        df=finite_or_none(effect.df),
        **equivalence_fields(
            finite_or_none(effect.estimate),
            std_error,
            str(common["scale"]),
            outcome.direction,
            margin,
            effect.df,
        ),
        estimate=finite_or_none(effect.estimate),
        ci_low=finite_or_none(effect.ci_low),
        ci_high=finite_or_none(effect.ci_high),
        p_value=finite_or_none(effect.p_value),
        p_adjusted=p_adjusted,
        slope_change=_interval(result.slope_effect),
        trend_per_year=_interval(result.trend_per_year),
        cumulative=Cumulative(
            averted=finite_or_none(cumulative.averted) if additive else None,
            ci_low=finite_or_none(cumulative.averted_ci_low) if additive else None,
            ci_high=finite_or_none(cumulative.averted_ci_high) if additive else None,
            observed=finite_or_none(cumulative.observed) if additive else None,
            counterfactual=finite_or_none(cumulative.counterfactual) if additive else None,
            unit=fit.cumulative_unit,
        ),
        diagnostics=Diagnostics(
            dispersion=finite_or_none(diagnostics.get("dispersion")),
            ljung_box_p=finite_or_none(diagnostics.get("ljung_box_p")),
            ljung_box_lags=diagnostics.get("ljung_box_lags"),
            durbin_watson=finite_or_none(diagnostics.get("durbin_watson")),
            n_pre=int(diagnostics.get("n_pre", 0)),
            n_post=int(diagnostics.get("n_post", 0)),
            n_washout=int(diagnostics.get("n_washout", 0)),
        ),
        figure=f"figures/{outcome.id}.png",
    )


def _raw_p_value(fit: Fit) -> float | None:
    if isinstance(fit, DesignFit):
        return raw_p_value(fit)
    return fit.result.effect.p_value if fit.result is not None else None


def _adjusted_p_values(fits: list[Fit], method: str) -> dict[str, float | None]:
    """Primary and secondary outcomes are corrected as two separate families."""
    adjusted: dict[str, float | None] = {}
    for role in ("primary", "secondary"):
        members = [f for f in fits if f.outcome.role == role]
        raw = [_raw_p_value(f) for f in members]
        for fit, value in zip(members, adjust(raw, method), strict=True):
            adjusted[fit.outcome.id] = finite_or_none(value)
    return adjusted


def _series_table(fits: list[Fit]) -> pd.DataFrame:
    frames = []
    for fit in fits:
        if not isinstance(fit, OutcomeFit) or fit.result is None:
            continue
        frame = fit.result.counterfactual.copy()
        frame.insert(0, "outcome", fit.outcome.id)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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
        path=loaded.protocol.data.path,
        sha256=file_sha256(source),
        files=input_files(loaded.protocol, loaded.folder),
        rows_in=account.rows_in,
        rows_used=account.rows_used,
        excluded=dict(sorted(account.excluded.items())),
        linkage=link_rates(linked, loaded.protocol) if linked is not None else None,
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


def _began(protocol: Protocol) -> str | None:
    """Where and when the scheme began, for the headline, when units started at different
    dates (None: the headline's own "in PLACES in MONTH")."""
    starts = sorted((protocol.intervention.start[u], u) for u in protocol.treated_units)
    if len({start for start, _ in starts}) < 2:
        return None
    parts = [f"{force_name(unit)} from {start:%B %Y}" for start, unit in starts]
    return "in " + ", ".join(parts[:-1]) + " and " + parts[-1]


def assemble(
    loaded: LoadedProtocol,
    panel: Panel,
    fits: list[Fit],
    registration: Registration | None = None,
    linked: LinkedEpisodes | None = None,
) -> AnalysisResult:
    """Build the AnalysisResult from the fits (no I/O except hashing the data file).

    ``registration`` is the block from :func:`evaltk.registration.results_registration`;
    without it the result is marked unregistered.
    """
    protocol = loaded.protocol
    registration = registration or _unregistered(protocol)
    adjusted = _adjusted_p_values(fits, protocol.decision.multiplicity)
    outcomes = [
        outcome_result(fit, protocol, adjusted[fit.outcome.id])
        if isinstance(fit, DesignFit)
        else _outcome_result(fit, protocol, len(protocol.units), adjusted[fit.outcome.id])
        for fit in fits
    ]
    start = protocol.first_start().replace(day=1)
    scheme = _SCHEME[protocol.intervention.kind]
    its = protocol.design.kind in LEDGER_DESIGNS
    ledger = build_ledger(fits, protocol) if its else None
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
            ),
            registration,
        ),
        ledger=ledger,
        ledger_note="" if its else LEDGER_NOTE.format(design=protocol.design.kind),
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
    )


def _figure_mark(outcome_id: str, registration: Registration) -> str | None:
    """The exploratory mark a figure must carry, if any."""
    if registration.status != "registered":
        return EXPLORATORY_RUN
    if outcome_id in registration.exploratory_outcomes:
        return EXPLORATORY_OUTCOME
    return None


def _save(fig: Figure, path: Path, registration: Registration, mark: str | None) -> None:
    if mark:
        stamp_figure(fig, mark)
    fig.savefig(
        path, dpi=110, bbox_inches="tight", metadata=png_metadata(registration.status, mark)
    )
    plt.close(fig)


def _draw_figures(fits: list[Fit], folder: Path, result: AnalysisResult) -> None:
    registration = result.registration
    folder.mkdir(parents=True, exist_ok=True)
    if result.ledger is not None:
        fig, _ = plot_waterfall(result.ledger)
        mark = EXPLORATORY_RUN if registration.status != "registered" else None
        _save(fig, folder / "ledger.png", registration, mark)
    for fit in fits:
        if isinstance(fit, DesignFit):
            mark = _figure_mark(fit.outcome.id, registration)
            draw_figures(
                fit,
                result.outcome(fit.outcome.id),
                folder,
                functools.partial(_save, registration=registration, mark=mark),
            )
            continue
        if fit.result is None:
            continue
        fig, ax = fit.result.plot()
        ax.set_title(fit.outcome.label)
        _save(
            fig,
            folder / f"{fit.outcome.id}.png",
            registration,
            _figure_mark(fit.outcome.id, registration),
        )


def _observed_figure_data(fits: list[Fit], panel: Panel, protocol: Protocol) -> pd.DataFrame:
    """The observed values plotted by the comparison designs' figures that show them (the CITS
    series, the DiD group means), with each group's summed count by month: ``evaltk book``
    reads it to apply disclosure control to those figures (and redraws one that shows a
    suppressed month). Not published."""
    from evaltk.estimators.did import DiDResult, EventStudyResult

    frame = panel.frame
    treated = set(protocol.treated_units)
    rows = frame[frame["unit"].isin(protocol.units)].copy()
    rows["group"] = ["treated" if u in treated else "comparison" for u in rows["unit"]]
    rows["period"] = pd.to_datetime(rows["period"])
    counts = (
        rows.groupby(["outcome", "group", "period"], sort=False)["numerator"].sum().rename("count")
    )
    parts = []
    for fit in fits:
        if not isinstance(fit, DesignFit) or not fit.estimated:
            continue
        draws = [("main", fit.figure), *fit.figures.items()]
        for kind, draw in draws:
            owner = getattr(draw, "__self__", None)
            if not isinstance(owner, DiDResult) or isinstance(owner, EventStudyResult):
                continue  # event-study plots and heat maps show model estimates only
            data = owner.get_plot_data()
            if owner.design != "cits" and "group" not in data:
                continue
            if owner.design == "cits":
                part = data[["period", "role", "observed", "fitted", "counterfactual", "post"]]
                part = part.rename(columns={"role": "group"})
            else:
                part = data[["period", "group", "value"]].rename(columns={"value": "observed"})
                part["group"] = part["group"].str.replace(" units", "", regex=False)
            part = part.copy()
            part.insert(0, "figure", kind)
            part.insert(0, "outcome", fit.outcome.id)
            part["period"] = pd.to_datetime(part["period"], errors="coerce")
            keys = pd.MultiIndex.from_arrays([part["outcome"], part["group"], part["period"]])
            part["count"] = counts.reindex(keys).to_numpy()
            parts.append(part)
    columns = ["outcome", "figure", "period", "group", "observed"]
    columns += ["fitted", "counterfactual", "post", "count"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def run_analysis(
    path: str | Path, progress: Progress | None = None, *, exploratory: bool = False
) -> AnalysisResult:
    """Run one analysis folder end to end and write its ``results/``.

    Parameters
    ----------
    path : str or Path
        The analysis folder (holding ``analysis.yaml``) or the YAML file itself.
    progress : callable, optional
        Called with a short description at the start of each step.
    exploratory : bool, default False
        Run even if the protocol is unregistered or differs from its registration, and stamp
        every output as exploratory.

    Returns
    -------
    AnalysisResult
        What was written to ``results/results.json``.

    Raises
    ------
    RunRefused
        Without ``exploratory``, when the analysis is unregistered, its registration log
        fails verification, or the protocol changed since the latest registration entry (the
        message lists each changed field). Nothing is written.
    """
    say = progress or (lambda _message: None)
    say("Reading the protocol")
    loaded = load_protocol(path)
    say("Checking the registration")
    check = check_registration(loaded)
    if check.status != "registered" and not exploratory:
        raise check.refusal()
    registration = results_registration(check, exploratory=exploratory)
    protocol = loaded.protocol
    source = loaded.folder / protocol.data.path
    if not source.is_file():
        hint = (
            " (run `evaltk simulate` or point data.path at your extract)"
            if isinstance(protocol.data, EpisodeSource)
            else ""
        )
        raise DataError(f"{loaded.path}: data.path: file not found: {source}{hint}")
    linked = None
    if isinstance(protocol.data, EpisodeSource) and protocol.data.linkage is not None:
        say("Pseudonymising and linking the agencies' extracts")
        linked = link_episodes(protocol, loaded.folder)
    say("Measuring outcomes")
    panel = build_panel(protocol, loaded.folder, linked_file=linked.path if linked else None)
    say(f"Fitting {len(protocol.outcomes)} models")
    fits: list[Fit] = (
        list(fit_all(panel, protocol))
        if protocol.design.kind == "its"
        else list(fit_designs(panel, protocol))
    )
    say("Deciding and writing results")
    result = assemble(loaded, panel, fits, registration, linked)
    with replace_folder(loaded.folder / "results") as staging:
        (staging / "results.json").write_text(result.to_json(), encoding="utf-8")
        if protocol.design.kind == "its":
            _series_table(fits).to_csv(staging / "series.csv", index=False, float_format="%.10g")
        else:
            effects_table([f for f in fits if isinstance(f, DesignFit)]).to_csv(
                staging / "effects.csv", index=False, float_format="%.10g"
            )
            _observed_figure_data(fits, panel, protocol).to_csv(
                staging / "figure_data.csv", index=False, float_format="%.10g"
            )
        panel.frame.to_csv(staging / "panel.csv", index=False, float_format="%.10g")
        _draw_figures(fits, staging / "figures", result)
    return result
