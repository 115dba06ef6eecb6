"""``evaltk trial design``: draw a stepped-wedge trial's rollout order and register it.

The draw's seed is fixed by the registration, so nobody can redraw until they like the result:
it is the fingerprint (:mod:`~evaltk.registration.fingerprint`) of the registration entry that
first recorded the trial as it stands (clusters, steps, constraints, restriction and the
protocol's seed), its 16 hex digits read as one 64-bit integer. Drawing again gives the same
schedule; an amendment of anything else (a title, an outcome) leaves the seed alone; only an
amendment of the trial itself gives a new seed, and the chain shows that amendment.

The schedule is written to ``ANALYSIS/trial/schedule.csv`` and recorded at once as an
amendment (its reason names the fingerprint and the scheme), so the schedule is in the hash
chain before any run can read outcomes: ``evaltk run`` refuses a protocol that differs from
its latest entry, and a schedule edited by hand makes it differ. Drawing is refused once
results exist.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evaltk.errors import RegistrationError
from evaltk.estimators.stepped_wedge.scheme import Scheme, draw_schedule, trial_scheme
from evaltk.protocol import load_protocol
from evaltk.protocol.canonical import canonical_document
from evaltk.protocol.trial import SCHEDULE_FILE, TrialOptions, write_schedule
from evaltk.registration.log import LOG_FILE, LogEntry, read_log
from evaltk.registration.record import RESULTS_FILE, Recorded, amend

#: Fewest schedules a restricted scheme may keep: with fewer, randomisation inference could
#: never give p < 0.05 (its smallest p-value is 1 / kept).
MIN_KEPT = 20


@dataclass(frozen=True)
class Drawn:
    """A drawn schedule and how it was drawn."""

    schedule: dict[str, int]  # cluster -> step, clusters in the trial's order
    trial: TrialOptions
    seed: int
    fingerprint: str  # the registration entry's fingerprint the seed was read from
    sequence: int  # that entry
    pool: int  # schedules drawn from (0: one random order of the clusters)
    recorded: Recorded | None  # None when the schedule was already registered
    path: Path


def draw_seed(fingerprint: str) -> int:
    """The draw's seed: the fingerprint's 16 hex digits as an integer."""
    return int(fingerprint.replace("-", ""), 16)


def _without_schedule(document: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(document)
    trial = out.get("design", {}).get("trial")
    if isinstance(trial, dict):
        trial["schedule"] = None
    if isinstance(out.get("intervention"), dict):
        out["intervention"]["start"] = {}
    return out


def _trial_part(document: dict[str, Any]) -> Any:
    trial = _without_schedule(document).get("design", {}).get("trial")
    return trial, document.get("seed")


def _seed_entry(entries: tuple[LogEntry, ...], document: dict[str, Any]) -> LogEntry:
    """The first entry since which the trial (and the seed) have been as they are now."""
    wanted = _trial_part(document)
    chosen = None
    for entry in entries:
        # A later entry that changed the trial starts the search again.
        chosen = (chosen or entry) if _trial_part(entry.protocol) == wanted else None
    assert chosen is not None  # the head matches (checked by the caller)
    return chosen


def _pool_words(scheme: Scheme, pool: int) -> str:
    if pool == 0:
        return "one random order of the clusters (too many schedules to list)"
    if scheme.restricted:
        return f"one of {pool:,} schedules meeting the balance criterion"
    return f"one of all {pool:,} possible schedules"


def design_trial(analysis: str | Path, *, by: str | None = None, now: str | None = None) -> Drawn:
    """Draw the rollout order of a registered stepped-wedge analysis, write
    ``trial/schedule.csv`` and record it as an amendment.

    Raises
    ------
    RegistrationError
        The analysis is not a stepped-wedge trial, not registered, differs from its
        registration (amend first), already has results, has a schedule that differs from
        the one its registration draws (edited by hand), or a restriction keeps too few
        schedules.
    """
    loaded = load_protocol(analysis)
    protocol, folder = loaded.protocol, loaded.folder
    trial = protocol.design.trial
    if protocol.design.kind != "stepped_wedge" or trial is None:
        raise RegistrationError(
            f"{loaded.path}: design.kind is {protocol.design.kind}; `evaltk trial design` "
            "draws the rollout of a stepped_wedge design"
        )
    log_path = folder / LOG_FILE
    if not log_path.is_file():
        raise RegistrationError(
            f"{log_path}: not registered: register the trial first (`evaltk register "
            f"{folder} --data-access ...`); the draw's seed comes from the registration"
        )
    log = read_log(log_path)
    document = canonical_document(protocol)
    if _without_schedule(document) != _without_schedule(log.head.protocol):
        raise RegistrationError(
            f"{loaded.path}: the protocol differs from its latest registration entry; record "
            f'the change first (`evaltk amend {folder} --reason "..."`), then draw'
        )
    if (folder / RESULTS_FILE).is_file():
        raise RegistrationError(
            f"{folder / RESULTS_FILE} exists: outcomes have been computed, and a schedule "
            "must be drawn before any outcome is seen"
        )
    entry = _seed_entry(log.entries, document)
    assert entry.fingerprint is not None
    seed = draw_seed(entry.fingerprint)
    scheme = trial_scheme(trial)
    try:
        steps, pool = draw_schedule(scheme, protocol.seed, seed)
    except ValueError:
        pool = 0
        steps = np.zeros(0, dtype=int)
    if scheme.restricted and pool < MIN_KEPT:
        assert trial.restricted is not None
        raise RegistrationError(
            f"{loaded.path}: design.trial.restricted keeps {pool} schedule(s) within "
            f"max_imbalance {trial.restricted.max_imbalance}; randomisation inference needs at "
            f"least {MIN_KEPT} (its smallest p-value is 1 / kept): raise max_imbalance"
        )
    schedule = {name: int(step) for name, step in zip(trial.names, steps, strict=True)}
    path = folder / SCHEDULE_FILE
    drawn = Drawn(schedule, trial, seed, entry.fingerprint, entry.sequence, pool, None, path)
    if trial.schedule is not None:
        if dict(trial.schedule) != schedule:
            raise RegistrationError(
                f"{path} is not the schedule the registration draws (seed from fingerprint "
                f"{entry.fingerprint}): restore it from version control, or delete it and "
                "draw again"
            )
        return drawn
    write_schedule(path, trial, schedule)
    reason = (
        f"Rollout order drawn by `evaltk trial design`: seed {seed} (the fingerprint "
        f"{entry.fingerprint} of entry {entry.sequence}, read as hex), "
        f"{_pool_words(scheme, pool)}; written to {SCHEDULE_FILE.as_posix()}."
    )
    try:
        recorded = amend(analysis, reason=reason, by=by, now=now)
    except BaseException:
        path.unlink(missing_ok=True)  # no schedule outside the chain
        raise
    return Drawn(schedule, trial, seed, entry.fingerprint, entry.sequence, pool, recorded, path)
