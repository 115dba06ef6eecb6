"""The registered protocol as OSF's standard pre-registration form, ready to file publicly.

OSF Registries' default form, "OSF Prereg" (Bowman, DeHaven, Errington, Hardwicke, Mellor,
Nosek & Soderberg 2016, https://doi.org/10.31222/osf.io/epgjd), asks 25 questions in six
sections; :data:`FORM` names them exactly as the form does, so an evaluator can paste each
answer into the field of the same name. Every answer comes from the registration
(``registration.json``: the protocol as registered and amended, who registered and what they
had seen of the data) and the recorded power analysis, in the same sentences as the book's
pre-registration page (:mod:`evaltk.publish.preregistration`) and the results
(:mod:`evaltk.protocol.model_description`): the plan filed on OSF and the plan in the book
cannot drift apart.

``evaltk register ANALYSIS --export osf`` writes ``ANALYSIS/osf-preregistration.md`` (and a
``.json`` of the same answers by item id); ``evaltk book`` puts the Markdown beside each
pre-registration page as a download.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evaltk.power.report import PowerReport
from evaltk.power.sw_report import SWPowerReport
from evaltk.protocol.model_description import describe_model
from evaltk.protocol.spec import EpisodeSource, Protocol
from evaltk.publish import format as fmt
from evaltk.publish.load import read_power
from evaltk.publish.preregistration import (
    decision_rules,
    exclusions,
    hypotheses,
    measure_text,
    power_context,
)
from evaltk.registration.change_words import change_words
from evaltk.registration.fingerprint import fingerprint
from evaltk.registration.log import LogEntry, RegistrationLog

#: What ``evaltk register --export osf`` writes beside the Markdown (preregistration.OSF_FILE).
JSON_NAME = "osf-preregistration.json"
FORM_NAME = "OSF Prereg (Bowman et al. 2016, https://doi.org/10.31222/osf.io/epgjd)"

#: OSF Prereg's sections and items, by the form's own labels and item ids.
FORM: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Study Information",
        (("item_1", "Title"), ("item_2", "Authors"), ("item_3", "Description"),
         ("item_4", "Hypotheses")),
    ),
    (
        "Design Plan",
        (("item_5", "Study type"), ("item_6", "Blinding"),
         ("item_7", "Is there any additional blinding in this study?"),
         ("item_8", "Study design"), ("item_9", "Randomization")),
    ),
    (
        "Sampling Plan",
        (("item_10", "Existing data"), ("item_11", "Explanation of existing data"),
         ("item_12", "Data collection procedures"), ("item_13", "Sample size"),
         ("item_14", "Sample size rationale"), ("item_15", "Stopping rule")),
    ),
    (
        "Variables",
        (("item_16", "Manipulated variables"), ("item_17", "Measured variables"),
         ("item_18", "Indices")),
    ),
    (
        "Analysis Plan",
        (("item_19", "Statistical models"), ("item_20", "Transformations"),
         ("item_21", "Inference criteria"), ("item_22", "Data exclusion"),
         ("item_23", "Missing data"), ("item_24", "Exploratory analysis")),
    ),
    ("Other", (("item_25", "Other"),)),
)  # fmt: skip

#: evaltk's data-access codes as the option of OSF's "Existing data" question they answer.
EXISTING_DATA = {
    "not_collected": "Registration prior to creation of data",
    "collected_not_accessed": "Registration prior to accessing the data",
    "accessed_outcomes_not_examined": "Registration prior to analysis of the data",
    "outcomes_examined": "Registration following analysis of the data",
}


@dataclass(frozen=True)
class Answer:
    """One field of the form."""

    item: str  # OSF's item id, item_1 ... item_25
    section: str
    label: str  # the field's label on the form
    text: str  # the answer (plain text; lines start with "- " for lists)


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def _months_between(protocol: Protocol) -> tuple[int, int]:
    window = protocol.window
    start = protocol.first_start()
    before = (start.year - window.start.year) * 12 + start.month - window.start.month
    total = (window.end.year - window.start.year) * 12 + window.end.month - window.start.month + 1
    return before, total - before


def _study_design(protocol: Protocol) -> str:
    window = protocol.window
    starts = "; ".join(
        f"{unit} from {fmt.month(protocol.intervention.start[unit].isoformat())}"
        for unit in protocol.treated_units
    )
    comparison = protocol.comparison_units
    parts = [
        f"{fmt.design(protocol.design.kind)} of monthly series, "
        f"{fmt.month(window.start.isoformat())} to {fmt.month(window.end.isoformat())}.",
        f"Treated: {starts} (the start month is the first month counted as after).",
    ]
    if comparison:
        parts.append(f"Comparison (never treated in the window): {', '.join(comparison)}.")
    else:
        parts.append("No comparison units: each series is compared with its own trend.")
    if window.washout_months:
        parts.append(f"The first {window.washout_months} month(s) from a start are a washout.")
    return " ".join(parts)


def _data_collection(protocol: Protocol) -> str:
    source = protocol.data
    if isinstance(source, EpisodeSource):
        text = (
            f"No new data are collected. Every incident recorded by the force(s) "
            f"({', '.join(protocol.units)}) in the window, as an extract of episode records "
            f"({source.path}), one row per incident; its columns are mapped to evaltk's "
            "canonical episode fields and person identifiers are pseudonymised on reading."
        )
        if source.population:
            text += f" Populations for rates: {source.population} (force, year, population)."
        if source.linkage is not None:
            agencies = ", ".join(source.linkage.agencies)
            text += f" Linked by person and time to the extracts of: {agencies}."
        return text
    return (
        f"No new data are collected. A ready monthly series per unit ({source.path}) for "
        f"{', '.join(protocol.units)}."
    )


def _sample_size_rationale(
    report: PowerReport | SWPowerReport | None, folder: Path, entries: Sequence[LogEntry]
) -> str:
    power = power_context(report, folder, entries)
    if power is None:
        return (
            "The sample is fixed by the window and the units: every recorded incident. No "
            "power analysis was recorded with the registration."
        )
    lines = [
        f"Simulated power of the registered test for the primary outcome ({power['estimator']}; "
        f"{power['replicates']} replicates per cell). Minimum detectable change at "
        f"{power['target']} power:",
        *(f"- {line}" for line in power["mde"]),
        f"Assumptions: {power['assumptions']} {power['provenance']}",
    ]
    return "\n".join(lines)


def _missing_data(protocol: Protocol) -> str:
    text = (
        "Rows with a missing or unreadable date or unit are excluded and counted by reason. A "
        "unit-month without a single incident is missing data (not zero): it is left out of "
        "the models and listed in the results. Months in which a share or mean has no "
        "denominator are left out of that outcome's model."
    )
    if isinstance(protocol.data, EpisodeSource):
        text += (
            f" If rows failing the data checks exceed {protocol.data.max_excluded_share:.0%} of "
            "the rows in scope, the analysis stops instead of running on them."
        )
    return text


def _other(log: RegistrationLog) -> str:
    head = log.head
    lines = [
        f"Registered with evaltk {log.original.evaltk_version} on {log.original.recorded_at} "
        f"(UTC); the protocol's SHA-256 is {log.original.protocol_sha256} and the "
        f"registration's fingerprint {fingerprint(log.original.entry_sha256)}.",
    ]
    if log.amendments:
        lines.append(
            f"Amended {len(log.amendments)} time(s) since; this form states the plan as "
            f"amended (fingerprint {fingerprint(head.entry_sha256)}):"
        )
        for previous, entry in zip(log.entries, log.amendments, strict=False):
            changes = "; ".join(
                change_words(c, previous.protocol, entry.protocol) for c in entry.changes
            )
            lines.append(
                f"- Amendment {entry.sequence}, {entry.recorded_at}: {entry.reason} ({changes})"
            )
    lines.append(
        "The hash-chained log (registration.json) holds every value in full; `evaltk verify "
        "ANALYSIS --fingerprint FP` checks a folder against the fingerprint filed here."
    )
    return "\n".join(lines)


def osf_answers(log: RegistrationLog, folder: Path) -> list[Answer]:
    """Every field of OSF Prereg for the registered analysis in ``folder``, in form order.

    The protocol is the latest registered one (the registration and its amendments); the
    power analysis is ``folder/power/power.json`` if there is one.

    Raises
    ------
    PublishError
        If power.json is there but cannot be read.
    """
    entry = log.head
    protocol = Protocol.model_validate(entry.protocol)
    report = read_power(folder)
    before, after = _months_between(protocol)
    access = log.original.data_access
    intervention = fmt.intervention(protocol.intervention.kind)
    blocks = {
        "item_1": protocol.title,
        "item_2": log.original.by,
        "item_3": " ".join(
            part for part in (protocol.question, protocol.intervention.description) if part
        ),
        "item_4": _bullets(hypotheses(protocol)),
        "item_5": (
            "Observational study: a natural experiment on routinely recorded police incidents. "
            f"{intervention} was introduced by the services, not assigned at random."
        ),
        "item_6": "No blinding is involved in this study.",
        "item_7": (
            "The analysis plan (outcomes, model, decision rule) was fixed and hashed before "
            "outcomes were computed; the analysis software refuses to run a protocol that "
            "differs from the registered one unless the run is marked exploratory."
        ),
        "item_8": _study_design(protocol),
        "item_9": "Not applicable: when and where the scheme started was not randomised.",
        "item_10": EXISTING_DATA[access.status] if access else "Not stated.",
        "item_11": access.statement if access else "Not stated.",
        "item_12": _data_collection(protocol),
        "item_13": (
            f"{len(protocol.units)} unit(s) ({', '.join(protocol.units)}) × "
            f"{before + after} months: {before} before and {after} from the (first) start. "
            "Every recorded incident in the window; no sampling."
        ),
        "item_14": _sample_size_rationale(report, folder, log.entries),
        "item_15": ("None: the data are the complete records of a fixed window, analysed once."),
        "item_16": (
            f"None manipulated by the evaluators (observational). The intervention: "
            f"{intervention}: {protocol.intervention.description}".rstrip(": ")
        ),
        "item_17": _bullets(
            [
                f"{o.label} ({o.id}; {o.role}, {fmt.outcome_class(o.outcome_class).lower()}; "
                f"a {fmt.good_direction(o.direction)} is good): {measure_text(o.measure)}"
                for o in protocol.outcomes
            ]
        ),
        "item_18": (
            "No composite index. Each outcome is one monthly measure as defined under Measured "
            "variables: counts, rates per the stated number of residents (the unit's "
            "population in that calendar year), shares of incidents, or means per incident."
        ),
        "item_19": describe_model(protocol).plan,
        "item_20": (
            "Incidents are aggregated by unit and calendar month of their timestamp; the "
            "models' link and offsets are as stated under Statistical models. No other "
            "transformation, centring or recoding."
        ),
        "item_21": _bullets(decision_rules(protocol)),
        "item_22": _bullets(exclusions(protocol)),
        "item_23": _missing_data(protocol),
        "item_24": (
            "Any analysis not in this plan is reported as exploratory and labelled so in the "
            f"results and the report. Anything random uses seed {protocol.seed}."
        ),
        "item_25": _other(log),
    }
    return [
        Answer(item=item, section=section, label=label, text=blocks[item])
        for section, items in FORM
        for item, label in items
    ]


def osf_markdown(answers: list[Answer], title: str) -> str:
    """The answers as one Markdown document: a heading per section, one per field."""
    lines = [
        f"# Pre-registration: {title}",
        "",
        f"The fields of {FORM_NAME}, filled in by evaltk from the registered protocol. Paste "
        "each answer into the field of the same name on OSF Registries "
        "(https://osf.io/registries).",
    ]
    section = ""
    for answer in answers:
        if answer.section != section:
            section = answer.section
            lines += ["", f"## {section}"]
        lines += ["", f"### {answer.label}", "", answer.text]
    return "\n".join(lines) + "\n"


def osf_json(answers: list[Answer]) -> str:
    """The answers by OSF item id, for tools that fill the form."""
    document = {
        "form": FORM_NAME,
        "items": [
            {"id": a.item, "section": a.section, "label": a.label, "value": a.text} for a in answers
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def osf_file_text(log: RegistrationLog, folder: Path, title: str) -> str:
    """The Markdown form of the analysis registered in ``folder`` (for the book's download)."""
    return osf_markdown(osf_answers(log, folder), title)
