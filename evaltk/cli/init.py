"""``evaltk init PROJECT``: a new project folder; ``evaltk init --template NAME DIR``: a new
analysis in it, from a protocol template.

A project (:mod:`evaltk.project`) holds the templates (``protocols/``), the book's sources
(``book/``) and ``analyses/``, and is found from any folder inside it. For an analysis, init
writes DIR/analysis.yaml that names the template by a path relative to DIR and repeats only the
values an analyst must make their own (title, forces, start dates, window, data paths), each
marked ``CHANGE``; everything else (outcomes, design, decision rules) is inherited from the
template. The values written are the template's own, so the scaffold validates and runs as it
stands on the built-in simulated data. An existing analysis.yaml is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from evaltk.cli.app import app, user_errors
from evaltk.episodes.forces import force_name
from evaltk.errors import EvaltkError
from evaltk.project import find_project, init_project, scaffold_root
from evaltk.protocol.yaml_text import load_mapping
from evaltk.scaffold import MARKER


class TemplateName(StrEnum):
    street_triage_its = "street-triage-its"
    control_room_nurses_staggered = "control-room-nurses-staggered"
    right_care_right_person_cits = "right-care-right-person-cits"
    street_triage_synthetic_control = "street-triage-synthetic-control"
    stepped_wedge_trial = "stepped-wedge-trial"


@dataclass(frozen=True)
class TemplateInfo:
    design: str
    summary: str
    #: The `evaltk simulate --preset` whose forces the template's illustrative values match.
    preset: str = "demo"


TEMPLATES: dict[str, TemplateInfo] = {
    TemplateName.street_triage_its.value: TemplateInfo(
        "its",
        "one force (or forces with one start date), no comparison: interrupted time series; "
        "Maryland level 2",
    ),
    TemplateName.control_room_nurses_staggered.value: TemplateInfo(
        "staggered_did",
        "several forces starting on different dates, some never: Callaway & Sant'Anna; "
        "Maryland level 3 if pre-trends hold",
    ),
    TemplateName.right_care_right_person_cits.value: TemplateInfo(
        "cits",
        "treated forces (one start date) against comparison forces, displacement to "
        "ambulance, A&E and missing-person reports: comparative ITS; Maryland level 3 if the "
        "placebo test holds",
    ),
    TemplateName.street_triage_synthetic_control.value: TemplateInfo(
        "synthetic_control",
        "one force against the forces that never started (20 or more): synthetic control with "
        "placebo inference; Maryland level 3 if the placebo in time holds",
        preset="synthetic",
    ),
    TemplateName.stepped_wedge_trial.value: TemplateInfo(
        "stepped_wedge",
        "a rollout over areas (basic command units, local authorities or forces) in an order "
        "drawn at random and registered before the first start: stepped-wedge cluster-"
        "randomised trial, randomisation inference; Maryland level 5 when done properly",
        # Its data are simulated on the drawn schedule (`evaltk trial simulate`), at the
        # rates of the demo's stepped-wedge example, not by an `evaltk simulate` preset.
        preset="trial",
    ),
}

#: Designs `evaltk power` simulates (the others: justify the numbers in the protocol).
_POWERED = (
    "its",
    "cits",
    "staggered_did",
    "did",
    "event_study",
    "stepped_wedge",
    "synthetic_control",
)

_FORCE_HINT = {
    "its": "every force is summed into one series and needs the same date",
    "staggered_did": "dates may differ; a force in `units` with no date is a comparison",
    "cits": "one date for every treated force; a force in `units` with no date is a comparison",
    "synthetic_control": "one date (several treated forces are summed as one region); every "
    "force in `units` with no date is a donor",
}

HELP = (
    "Make a new project folder, or a new analysis from a protocol template.\n\n"
    "evaltk init PROJECT (no --template) makes the folder PROJECT (or fills an existing one, "
    "never overwriting a file) with analyses/, protocols/ (the templates and the protocol's "
    "JSON Schema), book/ (the results book's sources and evaltk's validation records), "
    f"{MARKER} and a README.md listing the next commands. Every command then works from "
    "any folder inside it.\n\n"
    "evaltk init --template NAME DIR writes DIR/analysis.yaml (DIR is created if needed), "
    "which follows protocols/NAME.yaml of the project DIR is in (outside a project: "
    "evaltk's own copy of the template) through a relative path and repeats only the values "
    "you must make your own: the title, the forces (units), their start dates, the analysis "
    "window and the data paths, each "
    "marked CHANGE. Outcomes, design and decision rules come from the template, whose comments "
    "explain every field; copy a block into analysis.yaml to override it. As written, the "
    "scaffold holds the template's illustrative forces and dates, which match the built-in "
    "simulated data (`evaltk simulate DIR/data`).\n\n"
    "Templates: "
    + "; ".join(f"{name} ({info.design})" for name, info in TEMPLATES.items())
    + ". See protocols/README.md for which to use.\n\n"
    "Prints the next steps: data -> validate -> power -> register -> run -> book. Refuses to "
    "overwrite an existing DIR/analysis.yaml (exit code 2).\n\n"
    "Examples: evaltk init my-evaluation; evaltk init --list; "
    "evaltk init --template right-care-right-person-cits analyses/my-force"
)


@app.command(help=HELP)
@user_errors
def init(
    directory: Path | None = typer.Argument(
        None,
        metavar="DIR",
        help="With --template: the new analysis folder, e.g. analyses/my-force (created if "
        "missing; must not already hold an analysis.yaml). Without: the new project folder.",
        show_default=False,
    ),
    template: TemplateName | None = typer.Option(
        None,
        "--template",
        "-t",
        help="The protocol template a new analysis follows (protocols/NAME.yaml): "
        + ", ".join(member.value for member in TemplateName)
        + " (--list describes them).",
        case_sensitive=False,
        show_default=False,
        metavar="NAME",
    ),
    list_templates: bool = typer.Option(
        False, "--list", help="List the templates with their designs and exit."
    ),
) -> None:
    """A new project, or DIR/analysis.yaml from a template (see :data:`HELP`)."""
    console = Console(highlight=False, soft_wrap=True)
    if list_templates:
        for name, info in TEMPLATES.items():
            path = _template_path(name, Path.cwd())
            title = _read_template(path).get("title", "")
            console.print(f"[bold]{name}[/]  design {info.design}: {escape(str(title))}")
            console.print(f"    {escape(info.summary)}")
            console.print(f"    {path}")
        return
    if directory is None:
        raise EvaltkError(
            "DIR: give the folder of a new project (evaltk init my-evaluation) or, with "
            "--template, of a new analysis (evaltk init --template street-triage-its "
            "analyses/my-force)"
        )
    if template is None:
        _new_project(directory, console)
        return
    target = directory / "analysis.yaml"
    if target.exists():
        raise EvaltkError(
            f"{target} already exists: init never overwrites an analysis; choose a new DIR "
            "or edit the existing file"
        )
    if directory.exists() and not directory.is_dir():
        raise EvaltkError(f"{directory} is a file, not a folder: choose a new DIR")
    name = template.value
    followed_path = _template_path(name, directory)
    document = _read_template(followed_path)
    directory.mkdir(parents=True, exist_ok=True)
    text = scaffold_text(name, document, directory, followed_path)
    try:
        with target.open("x", encoding="utf-8") as handle:  # never overwrite, even in a race
            handle.write(text)
    except FileExistsError:
        raise EvaltkError(f"{target} already exists: init never overwrites an analysis") from None
    followed = _relative(followed_path, directory)
    console.print(
        f"wrote {escape(str(target))}, following {escape(followed)} "
        f"(design {TEMPLATES[name].design})"
    )
    if find_project(directory) is None:
        console.print(
            f"note: {escape(str(directory))} is in no evaltk project, so it follows evaltk's own "
            "template; `evaltk init PROJECT` makes a folder with its own copy of the templates"
        )
    console.print(escape(next_steps(name, document, directory)))


# --------------------------------------------------------------------------- helpers


def _new_project(folder: Path, console: Console) -> None:
    """``evaltk init PROJECT``: refuse a project inside a project, else make or fill one."""
    if folder.exists() and not folder.is_dir():
        raise EvaltkError(f"{folder} is a file, not a folder: choose a new PROJECT")
    if (folder / MARKER).is_file():
        raise EvaltkError(
            f"{folder / MARKER} exists: {folder} is already an evaltk project; add an "
            f"analysis with evaltk init --template NAME {folder / 'analyses' / 'my-force'}"
        )
    outer = find_project(folder.parent) if folder.parent.exists() else None
    if outer is not None:
        raise EvaltkError(
            f"{folder} is inside the evaltk project {outer}: to add an analysis there give a "
            f"template, e.g. evaltk init --template street-triage-its {folder} (--list shows them)"
        )
    copied = init_project(folder)
    console.print(
        f"made the evaltk project {escape(str(folder))}: {len(copied.written)} files written"
        + (f", {len(copied.kept)} already there kept as they were" if copied.kept else "")
    )
    d = shlex.quote(str(folder))
    console.print(
        escape(
            "\n".join(
                [
                    "Next steps (README.md in the folder says more):",
                    f"  cd {d}",
                    "  evaltk demo                          # try it on simulated data",
                    "  evaltk init --template street-triage-its analyses/my-force",
                    "        # your own analysis (evaltk init --list: the templates)",
                ]
            )
        )
    )


def _template_path(name: str, directory: Path) -> Path:
    """``protocols/NAME.yaml`` of the project ``directory`` is in, else evaltk's own copy."""
    project = find_project(directory if directory.exists() else _existing_parent(directory))
    if project is not None and (project / "protocols" / f"{name}.yaml").is_file():
        return project / "protocols" / f"{name}.yaml"
    return scaffold_root() / "protocols" / f"{name}.yaml"


def _existing_parent(path: Path) -> Path:
    for parent in path.absolute().parents:
        if parent.exists():
            return parent
    return Path.cwd()


def _read_template(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise EvaltkError(
            f"{path}: template not found; restore it from evaltk's own copy "
            f"({scaffold_root() / 'protocols'}) or reinstall evaltk"
        )
    return load_mapping(path)


def _relative(path: Path, start: Path) -> str:
    """``path`` relative to the folder ``start``, with forward slashes (absolute if none)."""
    try:
        return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return path.resolve().as_posix()


def _date(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scaffold_text(name: str, document: dict[str, Any], directory: Path, template: Path) -> str:
    """The text of DIR/analysis.yaml for template ``name`` (its parsed YAML ``document``, read
    from the file ``template``)."""
    design = TEMPLATES[name].design
    template_ref = _relative(template, directory)
    schema_ref = _relative(template.parent / "protocol.schema.json", directory)
    if design == "stepped_wedge":
        return trial_scaffold_text(name, document, template_ref, schema_ref)
    starts: dict[str, Any] = document["intervention"]["start"]
    units: list[str] = list(document["units"])
    data: dict[str, Any] = document["data"]
    window: dict[str, Any] = document["window"]
    start_lines = [
        f"    {unit}: {_date(date)}    # {force_name(unit)}" for unit, date in starts.items()
    ]
    compared = ", ".join(f"{u} {force_name(u)}" for u in units if u not in starts)
    pad = 34  # the column at which the CHANGE notes of the data block start

    def note(text: str, comment: str) -> str:
        return f"{text}{' ' * max(1, pad - len(text))}# {comment}"

    lines = [
        f"# yaml-language-server: $schema={schema_ref}",
        "#",
        f"# A new analysis, scaffolded by `evaltk init --template {name}`.",
        "# It follows the template named by `protocol:` and sets only what is specific to this",
        "# analysis; everything else (outcomes, design, decision rules) comes from the template,",
        "# whose comments explain every field. To change one of those, copy its block here:",
        "# mappings merge key by key, and a list (outcomes, units) replaces the template's whole.",
        "#",
        "# Every value marked CHANGE is the template's ILLUSTRATIVE value (the forces and dates of",
        "# the built-in simulated data): replace each with yours, then `evaltk validate` this",
        "# folder, and `evaltk register` it BEFORE you look at any outcome. A change after",
        "# registration is recorded as an amendment (`evaltk amend`).",
        f"protocol: {template_ref}",
        "",
        "# CHANGE: the title readers see: name your force(s) and scheme.",
        f"title: {_quote(str(document['title']))}",
        "",
        "# CHANGE: the date your scheme began in each treated force (ONS force code: date).",
        f"# {_FORCE_HINT[design].capitalize()}.",
        "# The month containing the date is the first month after the start (inclusive).",
        "intervention:",
        "  start:",
        *start_lines,
        "",
        "# CHANGE: every force analysed, by ONS code (E23000001-E23000039 England,",
        "# W15000001-W15000004 Wales): the treated forces and any comparison forces.",
        *([f"# Comparison here: {compared}."] if compared else []),
        "units: [" + ", ".join(units) + "]",
        "",
        "# CHANGE: your data. Paths are relative to this folder. To try the analysis first on",
        "# simulated data, this command writes these files:",
        f"#   evaltk simulate {shlex.quote(directory.as_posix() + '/data')} "
        f"--preset {TEMPLATES[name].preset}",
        "data:",
        f"  kind: {data.get('kind', 'episodes')}",
        note(f"  path: {data['path']}", "CHANGE: your extract (.parquet, .csv, .sav, .dta, ...)"),
    ]
    if data.get("population") is not None:
        lines.append(
            note(f"  population: {data['population']}", "CHANGE: CSV of force, year, population")
        )
    lines += [
        note("  columns: {}", "CHANGE where your column names differ:"),
        note("", "canonical field -> your column, e.g. {s136: S136_FLAG}"),
        "",
        "# CHANGE: the months analysed (both ends inclusive), with enough months before the start.",
        "window:",
        f"  start: {_date(window['start'])}",
        f"  end: {_date(window['end'])}",
        "",
    ]
    return "\n".join(lines)


def trial_scaffold_text(
    name: str, document: dict[str, Any], template_ref: str, schema_ref: str
) -> str:
    """DIR/analysis.yaml of a stepped-wedge trial: the areas, their populations and the
    steps replace the forces and start dates (drawn later, by `evaltk trial design`)."""
    trial: dict[str, Any] = document["design"]["trial"]
    data: dict[str, Any] = document["data"]
    window: dict[str, Any] = document["window"]
    clusters = [
        f"      - {{name: {c['name']}, population: {c['population']}}}" for c in trial["clusters"]
    ]
    together = [f"      - [{', '.join(group)}]" for group in trial.get("together") or []]
    return "\n".join(
        [
            f"# yaml-language-server: $schema={schema_ref}",
            "#",
            f"# A new stepped-wedge trial, scaffolded by `evaltk init --template {name}`.",
            "# It follows the template named by `protocol:` and sets only what is specific to",
            "# this trial; everything else (outcomes, randomisation restrictions, the analysis,",
            "# decision rules) comes from the template, whose comments explain every field. To",
            "# change one of those, copy its block here: mappings merge key by key, and a list",
            "# (outcomes, units, clusters) replaces the template's whole.",
            "#",
            "# Every value marked CHANGE is the template's ILLUSTRATIVE value (the areas of the",
            "# demo's example trial): replace each with yours, `evaltk validate` this folder,",
            "# `evaltk register` it and draw the order with `evaltk trial design`, all BEFORE the",
            "# first area starts. A change after registration is recorded as an amendment.",
            f"protocol: {template_ref}",
            "",
            "# CHANGE: the title readers see: name your force, its areas and the scheme.",
            f"title: {_quote(str(document['title']))}",
            "",
            "# CHANGE: every area (cluster) by a short code without spaces: the codes of",
            "# design.trial.clusters and of the data's unit column.",
            "units: [" + ", ".join(document["units"]) + "]",
            "",
            "# CHANGE: your monthly series (one row per area and month: counts per outcome and",
            "# the population). To try the analysis first on simulated data, once the order is",
            "# drawn: evaltk trial simulate DIR (writes this file).",
            "data:",
            f"  kind: {data['kind']}",
            f"  path: {data['path']}              # CHANGE: your series (.csv, .parquet, ...)",
            f"  unit: {data['unit']}",
            f"  period: {data['period']}",
            f"  exposure: {data['exposure']}",
            "",
            "# CHANGE: the months analysed (both ends inclusive): the baseline before",
            "# design.trial.first_start, and the months after the last step's start.",
            "window:",
            f"  start: {_date(window['start'])}",
            f"  end: {_date(window['end'])}",
            "",
            "design:",
            "  trial:",
            "    clusters:                 # CHANGE: your areas and their residents",
            *clusters,
            f"    steps: {trial['steps']}                   # CHANGE: steps of the rollout",
            f"    step_months: {trial['step_months']}             # CHANGE: months between steps",
            f"    first_start: {_date(trial['first_start'])}   # CHANGE: step 1 (a month's 1st)",
            *(
                ["    together:                 # CHANGE: areas that must start together, or []"]
                if together
                else ["    together: []              # CHANGE: areas that must start together"]
            ),
            *together,
            "",
        ]
    )


def trial_next_steps(directory: Path) -> str:
    """A stepped-wedge trial's steps: its order is drawn after registration, and its data
    (real or simulated) come after the draw."""
    d = shlex.quote(str(directory))
    return "\n".join(
        [
            "Next steps (before the first area starts):",
            f"  1. Edit {shlex.quote(str(directory / 'analysis.yaml'))}: change every value "
            "marked CHANGE.",
            f"  2. evaltk validate {d} --no-data   (the data come after the trial)",
            f"  3. evaltk power {d} --baseline 10 --icc 0.05",
            "       (events per area a month before the trial and the intra-cluster correlation;"
            "\n       with the pre-trial months in data.path they are estimated from them)",
            f"  4. evaltk register {d} --data-access not_collected",
            f"  5. evaltk trial design {d}",
            "       (draws the order from the registration; roll the scheme out in that order)",
            "After the last step has run its course:",
            f"  6. Data: your monthly series at data.path, or to try it: evaltk trial simulate {d}",
            f"  7. evaltk run {d}",
            f"  8. evaltk book --analyses {shlex.quote(str(directory.parent))}",
        ]
    )


def next_steps(name: str, document: dict[str, Any], directory: Path) -> str:
    """What to do after scaffolding, as numbered commands for DIR."""
    design = TEMPLATES[name].design
    d = shlex.quote(str(directory))
    if design == "stepped_wedge":
        return trial_next_steps(directory)
    data = document["data"]
    if design in _POWERED:
        power = f"evaltk power {d}   (simulated power and minimum detectable effect)"
    else:
        power = (
            f"Power: `evaltk power` does not simulate {design} yet; skip it (the\n"
            "       registration then records no power analysis) or justify the numbers of\n"
            "       forces and months in intervention.description."
        )
    parent = shlex.quote(str(directory.parent))
    return "\n".join(
        [
            "Next steps:",
            f"  1. Edit {shlex.quote(str(directory / 'analysis.yaml'))}: change every value "
            "marked CHANGE.",
            "  2. Data: point data.path (and data.population) at your force's extract, or try "
            "it on simulated data first:",
            f"       evaltk simulate {shlex.quote(str(directory / 'data'))} "
            f"--preset {TEMPLATES[name].preset}"
            f"   (writes {data['path']} and {data.get('population') or 'population.csv'})",
            f"  3. evaltk validate {d}",
            f"  4. {power}",
            f"  5. evaltk register {d} --data-access not_collected",
            "       (before anyone looks at an outcome; then commit registration.json)",
            f"  6. evaltk run {d}",
            f"  7. evaltk book --analyses {parent}",
        ]
    )
