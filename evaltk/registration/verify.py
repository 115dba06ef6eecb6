"""Check a loaded protocol against its registration log before anything is run.

``evaltk run`` refuses (exit 3) when the analysis is unregistered, its log fails verification,
or its protocol differs from the latest entry (the registration plus amendments); the message
lists every changed field. ``--exploratory`` runs anyway and the outputs say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from evaltk.errors import LogTampered, RunRefused
from evaltk.protocol import LoadedProtocol
from evaltk.protocol.canonical import protocol_sha256
from evaltk.registration.diff import FieldChange, diff_documents
from evaltk.registration.log import LOG_FILE, RegistrationLog, read_log
from evaltk.registration.record import protocol_document

Status = Literal["registered", "unregistered", "changed", "broken"]


@dataclass(frozen=True)
class RegistrationCheck:
    """How a protocol stands against its log.

    Attributes
    ----------
    loaded : LoadedProtocol
        The protocol as it would run.
    log : RegistrationLog or None
        The verified log; None when there is none or it failed verification.
    problem : str or None
        Why the log failed verification (one line naming the entry).
    changes : tuple of FieldChange
        Fields that differ from the latest entry (empty when they match).
    """

    loaded: LoadedProtocol
    log: RegistrationLog | None
    problem: str | None
    changes: tuple[FieldChange, ...]

    @property
    def protocol_sha256(self) -> str:
        return protocol_sha256(self.loaded.protocol)

    @property
    def status(self) -> Status:
        if self.problem is not None:
            return "broken"
        if self.log is None:
            return "unregistered"
        if self.protocol_sha256 != self.log.head.protocol_sha256:
            return "changed"
        return "registered"

    def refusal(self) -> RunRefused:
        """The error ``evaltk run`` raises when the status is not ``registered``."""
        folder = self.loaded.folder
        escape = f"or run it anyway, stamped as exploratory: `evaltk run {folder} --exploratory`"
        if self.status == "broken":
            return RunRefused(f"{self.problem}\nrefusing to run; {escape}")
        if self.status == "unregistered":
            return RunRefused(
                f"{folder}: not registered ({LOG_FILE} not found): refusing to run. Register the "
                f"protocol before you see outcomes: `evaltk register {folder} --data-access "
                f"not_collected`; {escape}"
            )
        assert self.log is not None
        head = self.log.head
        lines = [
            f"{self.loaded.path}: the protocol changed since entry {head.sequence} of "
            f"{LOG_FILE} ({head.kind} recorded {head.recorded_at}, protocol sha256 "
            f"{head.protocol_sha256[:12]}); refusing to run. Changed since registration:"
        ]
        lines += [f"  {change.text()}" for change in self.changes]
        lines.append(f'record the change with `evaltk amend {folder} --reason "..."`, {escape}')
        return RunRefused("\n".join(lines))


def check_registration(loaded: LoadedProtocol) -> RegistrationCheck:
    """Compare ``loaded`` with the latest entry of ``ANALYSIS/registration.json``.

    Never raises for a missing or broken log: the caller decides (refuse, or run as
    exploratory and say why).
    """
    path = loaded.folder / LOG_FILE
    if not path.is_file():
        return RegistrationCheck(loaded, None, None, ())
    try:
        log = read_log(path)
    except LogTampered as error:
        return RegistrationCheck(loaded, None, str(error), ())
    changes: tuple[FieldChange, ...] = ()
    if protocol_sha256(loaded.protocol) != log.head.protocol_sha256:
        changes = tuple(diff_documents(log.head.protocol, protocol_document(loaded)))
    return RegistrationCheck(loaded, log, None, changes)
