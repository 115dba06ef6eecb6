"""``evaltk verify ANALYSIS``: check a registration against a filed fingerprint and key; and
``evaltk keygen-signing OUT``: make the Ed25519 key that signs registrations."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from evaltk.cli.app import app, user_errors

HELP = (
    "Verify ANALYSIS/registration.json: every entry's hash, the chain, and every signature. "
    "With --fingerprint (as printed by `evaltk register` or `evaltk amend` and filed with the "
    "commissioner or a registry), say which entry it matches and whether entries were "
    "recorded after it; a log rewritten and re-hashed since matches no entry. With --key (the "
    "evaluator's public key), require every entry to be signed by it. One line per finding; "
    "exits non-zero when a check fails."
)


@app.command(help=HELP)
@user_errors
def verify(
    analysis: Path = typer.Argument(..., help="The registered analysis folder."),
    fingerprint: str | None = typer.Option(
        None, "--fingerprint", help="The fingerprint filed elsewhere, e.g. 3f2a-9c11-07be-44d0."
    ),
    key: Path | None = typer.Option(
        None,
        "--key",
        help="The evaluator's Ed25519 public key (PEM, e.g. the KEY.pub.pem of `evaltk "
        "keygen-signing`): every entry must be signed by it.",
    ),
) -> None:
    """Verify a registration (see :data:`HELP`)."""
    from evaltk.errors import RegistrationError
    from evaltk.registration.audit import audit_log
    from evaltk.registration.signing import load_public_key

    public_key = None if key is None else load_public_key(key)
    audit = audit_log(
        analysis, expected_fingerprint=fingerprint, public_key=public_key, key_file=str(key)
    )
    console = Console(highlight=False, soft_wrap=True)
    for line in audit.lines:
        console.print(escape(line))
    if audit.failures:
        raise RegistrationError("\n".join(audit.failures))


KEYGEN_HELP = (
    "Make an Ed25519 signing key: the private key OUT (mode 600; keep it to yourself, outside "
    "the repository) and its public key beside it (OUT with .pub.pem), which you give to the "
    "commissioner with the fingerprint. Sign with `evaltk register/amend --sign-key OUT`. "
    "Encrypted with the passphrase in EVALTK_SIGNING_PASSPHRASE when it is set. The same "
    "with openssl: `openssl genpkey -algorithm ed25519 -out OUT` and `openssl pkey -in OUT "
    "-pubout -out OUT.pub.pem`."
)


@app.command(name="keygen-signing", help=KEYGEN_HELP)
@user_errors
def keygen_signing(
    out: Path = typer.Argument(..., help="The private key file to write, e.g. signing.pem."),
) -> None:
    """Write a new signing key pair (see :data:`KEYGEN_HELP`)."""
    import os

    from evaltk.registration.signing import PASSPHRASE_ENV, write_key_pair

    passphrase = os.environ.get(PASSPHRASE_ENV) or None
    public, key_id = write_key_pair(out, passphrase)
    state = "encrypted" if passphrase else f"not encrypted (set {PASSPHRASE_ENV} to encrypt)"
    Console(highlight=False, soft_wrap=True).print(
        f"wrote {out} (private, {state}; keep it out of the repository) and {public} "
        f"(public: give it to the commissioner)\nkey {key_id}"
    )
