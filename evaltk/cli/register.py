"""``evaltk register ANALYSIS``: fix the protocol before outcomes are seen."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from evaltk.cli.app import app, err_console, user_errors
from evaltk.errors import RegistrationError
from evaltk.registration.access import DATA_ACCESS_WORDS

if TYPE_CHECKING:
    from evaltk.registration.record import Recorded
    from evaltk.registration.signing import Signer


class ExportFormat(StrEnum):
    osf = "osf"


class DataAccessChoice(StrEnum):
    not_collected = "not_collected"
    collected_not_accessed = "collected_not_accessed"
    accessed_outcomes_not_examined = "accessed_outcomes_not_examined"
    outcomes_examined = "outcomes_examined"


ACCESS_HELP = "What the team had seen of the data when registering (OSF's question). " + " ".join(
    f"{code}: {words}" for code, words in DATA_ACCESS_WORDS.items()
)
#: The codes are spelled out in the help; as a metavar their list would be broken mid-word.
ACCESS_METAVAR = "CODE"

HELP = (
    "Register an analysis: canonicalise its protocol (the template merged with analysis.yaml, "
    "validated, defaults filled in; comments, key order and whitespace do not count, every "
    "value does), hash it (SHA-256) and write the first entry of ANALYSIS/registration.json "
    "with the UTC time, the evaltk version, who registered and the data-access statement.\n\n"
    "registration.json is append-only and hash-chained: commit it. From now on `evaltk run` "
    "refuses a protocol that differs from it (use `evaltk amend` to record a change, or "
    "`evaltk run --exploratory`).\n\n"
    "If ANALYSIS/power/power.json exists (from `evaltk power`), its hash is recorded as the "
    "sample-size justification.\n\n"
    "Prints the registration's fingerprint (the head of the hash chain, e.g. "
    "3f2a-9c11-07be-44d0): send it to the commissioner or file it with a public registry "
    "(OSF). Anyone can rewrite the log and recompute its hashes; no one can change the "
    "fingerprint filed elsewhere, and `evaltk verify ANALYSIS --fingerprint FP` checks the "
    "folder against it. Refuses not_collected and collected_not_accessed when "
    "ANALYSIS/results/results.json exists (outcomes have been computed)."
)

SIGN_KEY_HELP = (
    "Sign the entry with this Ed25519 private key (PEM) that only you hold; the public key "
    "is stored in the entry and `evaltk verify --key` checks it. Make one with `evaltk "
    "keygen-signing KEY.pem` or `openssl genpkey -algorithm ed25519 -out KEY.pem`. An "
    "encrypted key's passphrase is read from EVALTK_SIGNING_PASSPHRASE or asked for."
)


def load_sign_key(path: Path | None) -> Signer | None:
    """The signer of ``--sign-key``, asking for the passphrase of an encrypted key."""
    from evaltk.registration.signing import PassphraseNeeded, load_signer

    if path is None:
        return None
    try:
        return load_signer(path)
    except PassphraseNeeded:
        if not sys.stdin.isatty():
            raise
        return load_signer(path, typer.prompt(f"passphrase of {path}", hide_input=True))


def print_seal(done: Recorded, analysis: Path, signer: Signer | None, *, amended: bool) -> None:
    """The fingerprint lines shared by register and amend."""
    console = Console(highlight=False, soft_wrap=True)
    where = (
        " (the chain's new head): send it to the commissioner; the fingerprint filed before "
        "does not cover this amendment"
        if amended
        else ": send it to the commissioner or file it with your registry (OSF)"
    )
    console.print(f"fingerprint {done.fingerprint}{where}")
    console.print(
        f"check the folder against it with `evaltk verify {analysis} --fingerprint "
        f"{done.fingerprint}`"
    )
    if signer is not None:
        console.print(f"signed with key {signer.key_id} ({signer.path})")


@app.command(help=HELP)
@user_errors
def register(
    analysis: Path = typer.Argument(
        ..., help="The analysis folder (holding analysis.yaml), e.g. analyses/my-force."
    ),
    data_access: DataAccessChoice | None = typer.Option(
        None,
        "--data-access",
        help=ACCESS_HELP + " Required to register.",
        case_sensitive=False,
        metavar=ACCESS_METAVAR,
    ),
    explanation: str = typer.Option(
        "",
        "--explanation",
        help="Required with outcomes_examined: which outcomes were seen, by whom, and how the "
        "plan guards against it. Optional otherwise.",
    ),
    by: str | None = typer.Option(
        None,
        "--by",
        help="Who registers, e.g. 'A. Analyst <a.analyst@force.police.uk>'. Default: git "
        "config user.name and user.email; without them, the system user (with a warning).",
    ),
    sign_key: Path | None = typer.Option(None, "--sign-key", help=SIGN_KEY_HELP),
    export: ExportFormat | None = typer.Option(
        None,
        "--export",
        help="Instead of registering, write the registered plan as the fields of a "
        "registry's form: 'osf' fills OSF Prereg's 25 fields (hypotheses, design, sampling "
        "plan, variables, analysis plan, inference criteria, existing data) in "
        "ANALYSIS/osf-preregistration.md and .json, to file the same plan publicly.",
        case_sensitive=False,
    ),
) -> None:
    """Register an analysis (see :data:`HELP`)."""
    from evaltk.registration import register as record

    if export is not None:
        _export_osf(analysis)
        return
    if data_access is None:
        raise RegistrationError(
            f"{analysis}: say what the team had seen of the data with --data-access "
            f"({', '.join(c.value for c in DataAccessChoice)}; see `evaltk register --help`)"
        )
    signer = load_sign_key(sign_key)
    done = record(
        analysis, data_access=data_access.value, explanation=explanation, by=by, signer=signer
    )
    if done.identity.warning:
        err_console.print(f"[bold yellow]note:[/] {done.identity.warning}")
    entry = done.entry
    Console(highlight=False, soft_wrap=True).print(
        f"registered {analysis} at {entry.recorded_at} by {entry.by}\n"
        f"protocol sha256 {entry.protocol_sha256}\n"
        f"wrote {done.path} (entry 0, entry sha256 {entry.entry_sha256[:12]}); commit it"
    )
    print_seal(done, analysis, signer, amended=False)


def _export_osf(analysis: Path) -> None:
    """Write the registered plan as OSF Prereg's fields beside registration.json."""
    from evaltk.protocol import load_protocol
    from evaltk.publish.osf_form import JSON_NAME, osf_answers, osf_json, osf_markdown
    from evaltk.publish.preregistration import OSF_FILE
    from evaltk.registration.log import read_log

    folder = load_protocol(analysis).folder
    path = folder / "registration.json"
    if not path.is_file():
        raise RegistrationError(
            f"{path}: not registered yet; register first (`evaltk register {analysis} "
            "--data-access ...`), then export what was registered"
        )
    log = read_log(path)
    answers = osf_answers(log, folder)
    title = str(log.head.protocol.get("title", folder.name))
    (folder / OSF_FILE).write_text(osf_markdown(answers, title), encoding="utf-8")
    (folder / JSON_NAME).write_text(osf_json(answers), encoding="utf-8")
    Console(highlight=False, soft_wrap=True).print(
        f"wrote {folder / OSF_FILE} and {JSON_NAME}: OSF Prereg's {len(answers)} fields from "
        f"the registered plan (entry {log.head.sequence}); paste each into the field of the "
        "same name at https://osf.io/registries"
    )
