"""What an analysis's pre-registration page says, in the order of OSF's pre-registration form.

The page shows the protocol *as first registered* (entry 0 of ``registration.json``), not as
it ran: the point is to let a reader compare the plan with what was done. Amendments are
listed after it, each with its reason and changed fields; the power analysis (``evaltk
power``) is the sample-size justification.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaltk.digest import file_sha256
from evaltk.estimators.render import format_level
from evaltk.power.report import BY_MONTHS, PowerReport
from evaltk.power.sw_report import SWPowerReport
from evaltk.protocol.model_description import describe_model
from evaltk.protocol.spec import Measure, Outcome, Protocol
from evaltk.publish import format as fmt
from evaltk.publish.chapter import with_code
from evaltk.publish.escape import Markup, code, join
from evaltk.publish.load import LoadedAnalysis
from evaltk.registration.change_words import change_words
from evaltk.registration.fingerprint import fingerprint
from evaltk.registration.log import LogEntry
from evaltk.registration.signing import key_id
from evaltk.verdict.headline import lower_first

PAGE = "preregistration"
#: OSF Prereg's fields filled in (:mod:`evaltk.publish.osf_form`): written by ``evaltk register
#: --export osf`` beside registration.json and by ``evaltk book`` as the page's download.
OSF_FILE = "osf-preregistration.md"

_AGGREGATE = {
    "count": "number of incidents",
    "rate": "incidents per {per:,} residents",
    "share": "share of incidents",
    "mean": "mean {field} per incident",
    "sum": "total {field}",
    "per_person": "{field} per person with an incident in the month",
    "high_intensity_people": "number of high-intensity users",
    "high_intensity_share": "share of incidents that are high-intensity users'",
    "high_intensity_field_share": "share of {field} that is high-intensity users'",
}


def _condition(field: str, condition: Any) -> str:
    if isinstance(condition, list):
        return f"{field} is one of {', '.join(map(str, condition))}"
    if isinstance(condition, bool):
        return f"{field} is {'true' if condition else 'false'}"
    if isinstance(condition, dict):
        words = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "ne": "≠"}
        return " and ".join(
            f"{field} {words[k]} {v}" for k, v in condition.items() if v is not None
        )
    return f"{field} = {condition}"


def _filter_text(where: dict[str, Any]) -> str:
    return "; ".join(
        _condition(f, c.model_dump(exclude_none=True) if hasattr(c, "model_dump") else c)
        for f, c in where.items()
    )


def measure_text(measure: Measure | None) -> str:
    """A measure in words: ``incidents per 100,000 residents where s136 is true``."""
    if measure is None:
        return "a column of the ready monthly series"
    what = _AGGREGATE[measure.aggregate].format(per=measure.per, field=measure.field)
    parts = [what]
    if measure.where:
        parts.append(f"where {_filter_text(measure.where)}")
    if measure.repeat is not None:
        among = (
            f" (among incidents where {_filter_text(measure.repeat.among)})"
            if (measure.repeat.among)
            else ""
        )
        parts.append(
            f"counting an incident only if the same person has another within "
            f"{measure.repeat.within_days} days{among}"
        )
    if measure.high_intensity is not None:
        high = measure.high_intensity
        parts.append(
            f"a high-intensity user being a person with at least {high.min_contacts} "
            f"{'such ' if measure.where else ''}incidents in one force in the {high.months} "
            "calendar months ending with the month"
        )
    if measure.aggregate == "share":
        denominator = _filter_text(measure.denominator) if measure.denominator else ""
        parts.append(
            f"out of incidents where {denominator}" if denominator else "out of all incidents"
        )
    return ", ".join(parts)


def hypotheses(protocol: Protocol) -> list[str]:
    """One testable hypothesis per outcome, primary first (the page and the OSF form)."""
    scheme = fmt.intervention(protocol.intervention.kind).lower()
    start = fmt.month(protocol.first_start().isoformat())
    its = protocol.design.kind == "its"
    staggered = len({protocol.intervention.start[u] for u in protocol.treated_units}) > 1
    began = "in each force (from its own start)" if staggered else f"in {start}"
    versus = (
        "what its trend and seasonal pattern predicted"
        if its
        else "the change in the comparison forces over the same months"
    )
    out = []
    for i, outcome in enumerate(
        sorted(protocol.outcomes, key=lambda o: o.role != "primary"), start=1
    ):
        good = "fall" if outcome.direction == "decrease" else "rise"
        role = "primary" if outcome.role == "primary" else f"secondary, {outcome.outcome_class}"
        out.append(
            f"H{i} ({role}): after {scheme} began {began}, {lower_first(outcome.label)} "
            f"changed from {versus} (two-sided test; a {good} is beneficial)."
        )
    return out


def _outcome_row(outcome: Outcome, amended: set[str]) -> dict[str, Any]:
    label: Markup | str = outcome.label
    if outcome.id in amended:
        label = join(outcome.label, Markup(" *(amended after registration)*"))
    return {
        "id": code(outcome.id),
        "label": label,
        "role": (
            f"{outcome.role.capitalize()} ({fmt.outcome_class(outcome.outcome_class).lower()}); "
            f"a {fmt.good_direction(outcome.direction)} is good"
        ),
        "definition": measure_text(outcome.measure),
    }


def decision_rules(protocol: Protocol) -> list[str]:
    """The inference criteria and the verdict's rules, one sentence each."""
    d = protocol.decision
    margin = f"{d.minimum_important_change:.0%}"
    correction = fmt.multiplicity(d.multiplicity) or "no correction"
    return [
        f"Tests are two-sided at α = {d.alpha:g}; intervals are "
        f"{format_level(d.interval_level)} confidence intervals.",
        f"Secondary outcomes are corrected for multiple testing by {correction}.",
        "Primary not significant: No detectable change if its interval excludes a change of "
        f"{margin} either way, otherwise Inconclusive; significant in the harmful direction: "
        "Worsens.",
        "Primary beneficial: Displaces if any displacement outcome rose significantly, else "
        "Refers on if any referral outcome did.",
        "Otherwise Resolves only if every displacement and referral outcome is shown not to "
        f"have risen by {margin} or more (one-sided upper bound below 1 + {margin}); where a rise "
        "cannot be ruled out, Inconclusive.",
    ]


def exclusions(protocol: Protocol) -> list[str]:
    """What is left out of the analysis, and how it is counted."""
    window = protocol.window
    out = [
        f"Incidents outside the analysis window ({fmt.month(window.start.isoformat())} to "
        f"{fmt.month(window.end.isoformat())}) or outside the units analysed "
        f"({', '.join(protocol.units)}) are excluded, and every excluded row is counted by "
        "reason (rows read = rows used + rows excluded).",
        "Rows with a missing or unparseable date or unit are excluded and counted the same way.",
        "Months in which a share or mean has no denominator carry no information and are left "
        "out of that outcome's model (named in the results).",
    ]
    if window.washout_months:
        out.append(
            f"The first {window.washout_months} month(s) from the start are a washout: neither "
            "before nor after."
        )
    return out


def sw_power_context(
    report: SWPowerReport, folder: Path, entries: Sequence[LogEntry], figure: Path | None
) -> dict[str, Any]:
    """A stepped-wedge trial's power: the registered randomisation test's, with the mixed
    model's z test and closed form beside it (not the registered inference)."""
    settings = report.settings

    def share(power: float, se: float | None = None) -> str:
        return f"{power:.2f}" + (f" ± {se:.2f}" if se is not None else "")

    rows = [
        {
            "effect": fmt.ratio_change(c.effect) if c.effect != 1 else "no change",
            "cells": [
                share(c.power, c.mc_se),
                share(c.z_test_power, c.z_test_mc_se),
                share(c.closed_form),
            ],
        }
        for c in report.cells
    ]
    mde = []
    for d in report.detectable:
        registered = (
            fmt.ratio_change(d.registered_reduction)
            if d.registered_reduction is not None
            else "larger than any change in the grid"
        )
        mde.append(
            f"{d.clusters} clusters over {d.steps} steps: {registered} by the registered test "
            f"(simulated); {fmt.ratio_change(d.reduction)} by the closed form (z test)"
        )
    return {
        "headers": ["registered test", "z test (for comparison)", "closed form (z)"],
        "rows": rows,
        "mde": mde,
        "target": fmt.share_percent(float(settings.get("target_power", 0.8))),
        "replicates": f"{int(settings.get('replicates', 0)):,}",
        "estimator": report.estimator[:1].upper() + report.estimator[1:],
        "assumptions": " ".join(report.notes[:2]) + f" Seed {settings.get('seed')}.",
        "provenance": _power_provenance(folder / "power" / "power.json", entries),
        "warnings": [],
        "figure": Markup("power.png") if figure is not None else None,
    }


def power_context(
    report: PowerReport | SWPowerReport | None,
    folder: Path,
    entries: Sequence[LogEntry],
    figure: Path | None = None,
) -> dict[str, Any] | None:
    """The power analysis of the analysis in ``folder`` as the page (and the OSF form) show it;
    ``entries`` is the registration log, to say which entry recorded this power analysis."""
    if report is None:
        return None
    if isinstance(report, SWPowerReport):
        return sw_power_context(report, folder, entries, figure)
    settings = report.settings
    table = report.table()
    registered = settings.get("registered_months_after")
    headers = [
        f"{m} months after" + (" (registered)" if m == registered else "")
        if report.design in BY_MONTHS
        else f"{m} forces"
        for m in table.columns
    ]
    rows = [
        {
            "effect": fmt.ratio_change(float(effect)) if effect != 1 else "no change",
            "cells": [str(v) for v in row],
        }
        for effect, row in zip(table.index.to_numpy(dtype=float), table.to_numpy(), strict=True)
    ]
    mde = []
    for item in report.minimum_detectable:
        if item.effect is None:
            text = "larger than any change in the grid"
        else:
            text = ("at most " if item.how == "at_most" else "") + fmt.ratio_change(item.effect)
        where = (
            f"{item.months_after} months after the start"
            if item.treated_units is None
            else f"{item.treated_units} treated and {item.comparison_units} comparison forces"
        )
        mde.append(f"{where}: {text}")
    provenance = _power_provenance(folder / "power" / "power.json", entries)
    return {
        "headers": headers,
        "rows": rows,
        "mde": mde,
        "target": fmt.share_percent(float(settings.get("target_power", 0.8))),
        "replicates": f"{int(settings.get('replicates', 0)):,}",
        "estimator": report.estimator,
        "assumptions": (
            f"Baseline {float(settings.get('baseline', 0)):.1f} events a month "
            f"({settings.get('baseline_source') or 'given'}); trend "
            f"{float(settings.get('trend', 0)):+.0%} a year; seasonal amplitude "
            f"{float(settings.get('seasonal_amplitude', 0)):.0%}; overdispersion (gamma CV) "
            f"{float(settings.get('overdispersion_cv', 0)):g}; AR(1) noise ρ = "
            f"{float(settings.get('ar_rho', 0)):g}, sd {float(settings.get('ar_sd', 0)):g}; "
            f"{settings.get('months_before')} months before the start"
            + (f", {settings.get('months_after')} after" if report.design == "did" else "")
            + "; seed "
            f"{settings.get('seed')}."
        ),
        "provenance": provenance,
        "warnings": list(report.warnings),
        "figure": Markup("power.png") if figure is not None else None,
    }


def _power_provenance(path: Path, entries: Sequence[LogEntry]) -> str:
    """Which registration entry recorded this power analysis (by SHA-256), in words."""
    recorded = [e for e in entries if e.power_sha256 is not None]
    if not recorded:
        return "This power analysis was not recorded with the registration."
    digest = file_sha256(path)
    if recorded[0] is entries[0] and digest == entries[0].power_sha256:
        return "This is the power analysis recorded with the registration (same SHA-256)."
    for entry in reversed(recorded):
        if digest == entry.power_sha256:
            return (
                f"This is the power analysis recorded with amendment {entry.sequence} (same "
                "SHA-256); the registration itself recorded an earlier one (see the amendment "
                "log)."
            )
    return (
        "The power analysis changed after registration: its SHA-256 matches no entry of the "
        "registration log."
    )


def preregistration_context(analysis: LoadedAnalysis) -> dict[str, Any]:
    """Everything ``preregistration.md.j2`` prints."""
    result = analysis.result
    log = analysis.registration
    base: dict[str, Any] = {
        "title": result.title,
        "registered": log is not None,
        "chapter": Markup("index.md"),
        "register_command": code(f"evaltk register {analysis.project_path} --data-access ..."),
    }
    entry = log.original if log is not None else None
    entries = log.entries if log is not None else ()
    base["power"] = power_context(analysis.power, analysis.folder, entries, analysis.power_figure)
    if log is None or entry is None:
        return base
    protocol = Protocol.model_validate(entry.protocol)
    amended = set(result.registration.amended_outcomes)
    access = entry.data_access
    base.update(
        {
            "recorded_at": entry.recorded_at,
            "by": entry.by,
            "protocol_sha256": code(entry.protocol_sha256),
            "entry_sha256": code(entry.entry_sha256),
            # Computed from the hash, not read from the entry: entries sealed before
            # fingerprints existed do not store one.
            "fingerprint": code(fingerprint(entry.entry_sha256)),
            "latest_fingerprint": code(fingerprint(log.head.entry_sha256)),
            "signed": (
                f"by key {code(key_id(entry.public_key))}" if entry.public_key else "not signed"
            ),
            "evaltk_version": entry.evaltk_version,
            "data_access": with_code(access.statement) if access else "not stated",
            "question": protocol.question,
            "hypotheses": hypotheses(protocol),
            "intervention": fmt.intervention(protocol.intervention.kind),
            "intervention_description": protocol.intervention.description,
            "start": fmt.month(protocol.first_start().isoformat()),
            "units": fmt.units(protocol.units),
            "design": fmt.design(protocol.design.kind),
            "estimator": describe_model(protocol).plan,
            "data_source": join(
                f"{'Episode records' if protocol.data.kind == 'episodes' else 'A monthly series'}"
                " from ",
                code(protocol.data.path),
            ),
            "window": (
                f"{fmt.month(protocol.window.start.isoformat())} to "
                f"{fmt.month(protocol.window.end.isoformat())}"
            ),
            "outcomes": [_outcome_row(o, amended) for o in protocol.outcomes],
            "decision_rules": decision_rules(protocol),
            "exclusions": exclusions(protocol),
            "seed": str(protocol.seed),
            "amendments": [
                {
                    "title": f"Amendment {e.sequence}",
                    "recorded_at": e.recorded_at,
                    "by": e.by,
                    "fingerprint": code(fingerprint(e.entry_sha256)),
                    "reason": with_code(e.reason),
                    "changes": [change_words(c, previous.protocol, e.protocol) for c in e.changes],
                }
                for previous, e in zip(log.entries, log.amendments, strict=False)
            ],
            "log_file": code(f"{analysis.project_path}/registration.json"),
            "osf_download": Markup(f"{{download}}`{OSF_FILE} <files/{OSF_FILE}>`"),
            "osf_command": code(f"evaltk register {analysis.project_path} --export osf"),
        }
    )
    return base
