"""The ``registration`` block of results.json, from a :class:`RegistrationCheck`.

It carries everything the book prints about registration, so that the book needs only
results.json for the chapter: the original registration (time, who, statement, hash), every
amendment with its changes, which outcomes were added or redefined after registration, and
whether the primary outcome changed.
"""

from __future__ import annotations

from evaltk.registration.diff import changed_outcomes, outcome_ids
from evaltk.registration.log import LogEntry
from evaltk.registration.record import protocol_document
from evaltk.registration.verify import RegistrationCheck
from evaltk.results.schema import Amendment, DataAccessStatement, FieldChange, Registration


def _access(entry: LogEntry) -> DataAccessStatement | None:
    if entry.data_access is None:
        return None
    return DataAccessStatement(
        status=entry.data_access.status,
        statement=entry.data_access.statement,
        explanation=entry.data_access.explanation,
    )


def _changes(changes: object) -> list[FieldChange]:
    return [FieldChange(path=c.path, before=c.before, after=c.after) for c in changes]  # type: ignore[attr-defined]


def _amendment(entry: LogEntry) -> Amendment:
    return Amendment(
        sequence=entry.sequence,
        recorded_at=entry.recorded_at,
        by=entry.by,
        reason=entry.reason,
        protocol_sha256=entry.protocol_sha256,
        entry_sha256=entry.entry_sha256,
        data_access=_access(entry),
        changes=_changes(entry.changes),
    )


def results_registration(check: RegistrationCheck, *, exploratory: bool) -> Registration:
    """The results.json registration block for a run made under ``check``.

    Parameters
    ----------
    check : RegistrationCheck
        From :func:`~evaltk.registration.verify.check_registration`.
    exploratory : bool
        The run was made with ``--exploratory``: the status is ``exploratory`` whatever the
        check found.
    """
    status = "registered" if check.status == "registered" and not exploratory else "exploratory"
    if check.log is None:
        reason = (
            f"The registration log failed verification: {check.problem}"
            if check.problem
            else "The analysis has no registration (registration.json)."
        )
        if exploratory:
            reason += " This run was made with --exploratory; it is not a registered analysis."
        return Registration(
            status="exploratory" if exploratory else "unregistered",
            protocol_sha256=check.protocol_sha256,
            note=reason,
        )
    log = check.log
    original = log.original
    current = protocol_document(check.loaded)
    registered_primary = outcome_ids(original.protocol, "primary")
    primary_now = outcome_ids(current, "primary")
    redefined = changed_outcomes(original.protocol, current)
    primary_changed = registered_primary != primary_now or any(o in redefined for o in primary_now)
    note = ""
    if status == "exploratory":
        note = (
            "Run with --exploratory: the protocol differs from its latest registration in the "
            "fields listed, so this is not the registered analysis."
            if check.changes
            else "Run with --exploratory although the protocol matches its registration; "
            "the analysts chose not to present it as the registered analysis."
        )
    return Registration(
        status=status,
        protocol_sha256=check.protocol_sha256,
        registered_at=original.recorded_at,
        registered_by=original.by,
        registered_sha256=original.protocol_sha256,
        data_access=_access(original),
        log_sha256=log.head.entry_sha256,
        amendments=[_amendment(e) for e in log.amendments],
        exploratory_outcomes=[
            o for o in outcome_ids(current) if o not in outcome_ids(original.protocol)
        ],
        amended_outcomes=redefined,
        primary_changed=primary_changed,
        registered_primary=registered_primary,
        unregistered_changes=_changes(check.changes),
        note=note,
    )
