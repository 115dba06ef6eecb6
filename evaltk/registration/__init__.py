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
"""

from evaltk.errors import LogTampered, RegistrationError, RunRefused
from evaltk.registration.access import DATA_ACCESS_CODES, DATA_ACCESS_WORDS, DataAccess
from evaltk.registration.audit import Audit, audit_log
from evaltk.registration.data_seen import DataCheck, check_data, record_data_seen
from evaltk.registration.diff import FieldChange, diff_documents
from evaltk.registration.fingerprint import fingerprint
from evaltk.registration.log import LOG_FILE, LogEntry, RegistrationLog, read_log
from evaltk.registration.record import Recorded, amend, register
from evaltk.registration.summary import results_registration
from evaltk.registration.verify import RegistrationCheck, check_registration

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
