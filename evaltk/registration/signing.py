"""Optional Ed25519 signatures on registration entries, with a key only the evaluator holds.

A fingerprint filed elsewhere shows that a log was rewritten; a signature shows *who* wrote
an entry. ``evaltk register/amend --sign-key KEY.pem`` stores the raw public key in the entry
(inside the hashed content, so it cannot be swapped without changing the hash) and signs the
entry's ``entry_sha256``: the signature is over the 64 ASCII hex characters, so it can be
checked without evaltk::

    printf %s ENTRY_SHA256 > msg
    xxd -r -p <<< SIGNATURE > sig
    openssl pkeyutl -verify -pubin -inkey KEY.pub.pem -rawin -in msg -sigfile sig

Rewriting a signed entry and recomputing the hashes leaves a signature that no longer matches,
and a new one cannot be made without the private key. Stripping the signatures, or signing
with another key, leaves a valid chain signed by nobody or by someone else: that is why
``evaltk verify --key`` checks the signer against the public key the evaluator gave out.

Keys are PEM files, as ``evaltk keygen-signing`` or ``openssl genpkey -algorithm ed25519``
write them; an encrypted key's passphrase comes from ``EVALTK_SIGNING_PASSPHRASE`` or a
prompt.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from evaltk.errors import RegistrationError
from evaltk.registration.fingerprint import fingerprint

PASSPHRASE_ENV = "EVALTK_SIGNING_PASSPHRASE"
_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


class PassphraseNeeded(RegistrationError):
    """The private key is encrypted and no passphrase was given."""


def key_id(public_key_hex: str) -> str:
    """A public key's short name, in the fingerprint's form (of the SHA-256 of its 32 bytes)."""
    return fingerprint(hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest())


@dataclass(frozen=True)
class Signer:
    """A loaded private key: signs entry hashes and names its public half."""

    key: Ed25519PrivateKey
    path: Path

    @property
    def public_key(self) -> str:
        """The public key as 64 hex digits (what an entry stores)."""
        return self.key.public_key().public_bytes(*_RAW).hex()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, entry_sha256: str) -> str:
        """The signature of an entry hash, as 128 hex digits."""
        return self.key.sign(entry_sha256.encode("ascii")).hex()


def load_signer(path: Path, passphrase: str | None = None) -> Signer:
    """Read an Ed25519 private key (PEM).

    Parameters
    ----------
    path : pathlib.Path
        The PEM file.
    passphrase : str, optional
        For an encrypted key; default the ``EVALTK_SIGNING_PASSPHRASE`` environment variable.

    Raises
    ------
    PassphraseNeeded
        If the key is encrypted and there is no passphrase (the CLI then asks for one).
    RegistrationError
        If the file is missing, not a PEM private key, not Ed25519, or the passphrase is wrong.
    """
    where = f"--sign-key {path}"
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RegistrationError(f"{where}: cannot read it ({error.strerror})") from None
    secret = passphrase if passphrase is not None else os.environ.get(PASSPHRASE_ENV)
    try:
        key = serialization.load_pem_private_key(
            data, password=secret.encode("utf-8") if secret else None
        )
    except TypeError:
        # cryptography says "password was not given but private key is encrypted" this way.
        raise PassphraseNeeded(
            f"{where}: the key is encrypted; set {PASSPHRASE_ENV} or type the passphrase"
        ) from None
    except ValueError:
        raise RegistrationError(
            f"{where}: not a readable PEM private key, or the passphrase is wrong; make one "
            "with `evaltk keygen-signing KEY.pem`"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise RegistrationError(
            f"{where}: the key is not Ed25519; make one with `evaltk keygen-signing KEY.pem` "
            "or `openssl genpkey -algorithm ed25519 -out KEY.pem`"
        )
    return Signer(key, path)


def load_public_key(path: Path) -> str:
    """An Ed25519 public key from a PEM file (or the private key's file), as 64 hex digits.

    Raises
    ------
    RegistrationError
        If the file is missing or holds no Ed25519 public key.
    """
    where = f"--key {path}"
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RegistrationError(f"{where}: cannot read it ({error.strerror})") from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise RegistrationError(
            f"{where}: not a PEM public key (the KEY.pub.pem `evaltk keygen-signing` wrote, or "
            "`openssl pkey -in KEY.pem -pubout`)"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise RegistrationError(f"{where}: the key is not Ed25519")
    return key.public_bytes(*_RAW).hex()


def signature_valid(public_key_hex: str, signature_hex: str, entry_sha256: str) -> bool:
    """Whether ``signature_hex`` is the key's signature of ``entry_sha256`` (False if garbled)."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(signature_hex), entry_sha256.encode("ascii"))
    except (ValueError, InvalidSignature):
        return False
    return True


def write_key_pair(out: Path, passphrase: str | None = None) -> tuple[Path, str]:
    """Write a new private key to ``out`` (mode 600) and its public key beside it.

    Parameters
    ----------
    out : pathlib.Path
        The private key's file, e.g. ``~/.evaltk/signing.pem``; the public key goes to the same
        name with ``.pub.pem``.
    passphrase : str, optional
        Encrypts the private key when given.

    Returns
    -------
    (pathlib.Path, str)
        The public key's file and its key id.

    Raises
    ------
    RegistrationError
        If either file exists (a key is never overwritten) or cannot be written.
    """
    public_path = out.with_name(out.name.removesuffix(".pem") + ".pub.pem")
    for path in (out, public_path):
        if path.exists():
            raise RegistrationError(f"{path}: exists; a signing key is never overwritten")
    key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
        if passphrase
        else serialization.NoEncryption()
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        # Created private from the start: never readable by others, not even for a moment.
        handle = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "wb") as stream:
            stream.write(private)
        public_path.write_bytes(public)
    except OSError as error:
        raise RegistrationError(f"{out}: cannot write the key ({error.strerror})") from None
    return public_path, key_id(key.public_key().public_bytes(*_RAW).hex())
