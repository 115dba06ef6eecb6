"""Pre-registration: register a protocol, verify every run against it, record amendments.

``registration.json`` in each analysis folder is an append-only, hash-chained log
(:mod:`~evaltk.registration.log`). :func:`register` writes its first entry and :func:`amend`
each later one; :func:`check_registration` compares the protocol about to run with the latest
entry, and :func:`results_registration` turns that check into results.json's registration
block. :mod:`~evaltk.registration.stamp` marks figures of exploratory runs.

What the folder alone cannot prove comes from outside it: each entry's fingerprint (the chain's
head, filed with the commissioner) and optional Ed25519 signatures, checked by
:func:`audit_log` (``evaltk verify``); :func:`record_data_seen` keeps the data files of the
first registered run in ``data-seen.json`` and warns when later runs read others.

The names below load their module on first use (:mod:`evaltk.lazy_exports`), so that the
command line's ``--help`` does not import pandas and DuckDB with them.
"""

from typing import TYPE_CHECKING

from evaltk.errors import LogTampered, RegistrationError, RunRefused
from evaltk.lazy_exports import lazy_exports

# Named as its module: bound here, before any submodule import could bind the module instead.
from evaltk.registration.fingerprint import fingerprint

if TYPE_CHECKING:
    from evaltk.registration.access import DATA_ACCESS_CODES, DATA_ACCESS_WORDS, DataAccess
    from evaltk.registration.audit import Audit, audit_log
    from evaltk.registration.data_seen import DataCheck, check_data, record_data_seen
    from evaltk.registration.diff import FieldChange, diff_documents
    from evaltk.registration.log import LOG_FILE, LogEntry, RegistrationLog, read_log
    from evaltk.registration.record import Recorded, amend, register
    from evaltk.registration.summary import results_registration
    from evaltk.registration.verify import RegistrationCheck, check_registration

#: Public name -> the module that defines it (imported on first use: evaltk.lazy_exports).
_WHERE = {
    "DATA_ACCESS_CODES": "evaltk.registration.access",
    "DATA_ACCESS_WORDS": "evaltk.registration.access",
    "DataAccess": "evaltk.registration.access",
    "Audit": "evaltk.registration.audit",
    "audit_log": "evaltk.registration.audit",
    "DataCheck": "evaltk.registration.data_seen",
    "check_data": "evaltk.registration.data_seen",
    "record_data_seen": "evaltk.registration.data_seen",
    "FieldChange": "evaltk.registration.diff",
    "diff_documents": "evaltk.registration.diff",
    "LOG_FILE": "evaltk.registration.log",
    "LogEntry": "evaltk.registration.log",
    "RegistrationLog": "evaltk.registration.log",
    "read_log": "evaltk.registration.log",
    "Recorded": "evaltk.registration.record",
    "amend": "evaltk.registration.record",
    "register": "evaltk.registration.record",
    "results_registration": "evaltk.registration.summary",
    "RegistrationCheck": "evaltk.registration.verify",
    "check_registration": "evaltk.registration.verify",
}

__all__ = [
    "DATA_ACCESS_CODES",
    "DATA_ACCESS_WORDS",
    "LOG_FILE",
    "Audit",
    "DataAccess",
    "DataCheck",
    "FieldChange",
    "LogEntry",
    "LogTampered",
    "Recorded",
    "RegistrationCheck",
    "RegistrationError",
    "RegistrationLog",
    "RunRefused",
    "amend",
    "audit_log",
    "check_data",
    "check_registration",
    "diff_documents",
    "fingerprint",
    "read_log",
    "record_data_seen",
    "register",
    "results_registration",
]

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
