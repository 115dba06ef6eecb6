"""A randomised stepped-wedge rollout (design.kind: stepped_wedge): the ``design.trial`` block,
the ``design.stepped_wedge`` analysis options, and the drawn schedule.

Every cluster (a force, or a basic command unit or local authority within one) starts the
scheme at one of ``steps`` dates, ``step_months`` apart from ``first_start``; the order is
drawn at random by ``evaltk trial design`` and written to ``trial/schedule.csv`` in the
analysis folder (columns ``cluster, step, start_month``). The loader reads that file
(:func:`with_drawn_schedule`) into ``design.trial.schedule`` and the clusters' start dates
into ``intervention.start``, so the schedule is part of the registered protocol: a schedule
changed by hand no longer matches the registration, and the run is refused.

Conventions a reader could guess wrong:

* ``units`` names the clusters (the same names as ``design.trial.clusters``); a series file's
  unit column holds those names.
* Step 1 starts in ``first_start``'s month (INCLUSIVE); step k ``(k - 1) * step_months``
  months later. Months before ``first_start`` are the baseline period, in which no cluster
  has the scheme.
* Clusters are spread over the steps as evenly as possible, the earlier steps taking one more
  when they do not divide evenly; a group that must start ``together`` takes the step of its
  first cluster in the drawn order, so steps may then hold a cluster or two more or fewer.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evaltk.errors import ProtocolError

if TYPE_CHECKING:
    from evaltk.protocol.spec import Protocol

#: Where ``evaltk trial design`` writes the drawn schedule, relative to the analysis folder.
SCHEDULE_FILE = Path("trial") / "schedule.csv"
SCHEDULE_COLUMNS = ("cluster", "step", "start_month")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class TrialCluster(_Frozen):
    """One cluster of the trial: the unit that is randomised."""

    name: str = Field(description="The cluster's code as in 'units' (no spaces).")
    population: int = Field(gt=0, description="Residents, for balance and the report.")
    baseline: float | None = Field(
        default=None,
        ge=0,
        description="Optional size before the trial (e.g. last year's count of the primary "
        "outcome), for restricted randomisation with balance: [baseline].",
    )


BalanceVariable = Literal["population", "baseline"]


def _population_only() -> list[BalanceVariable]:
    return ["population"]


class Restriction(_Frozen):
    """Restricted randomisation (Moulton 2004): of all schedules (or ``candidates`` random
    ones, when there are more), keep those whose steps are balanced within
    ``max_imbalance``, and draw one of them.

    A schedule's imbalance on a variable is the largest relative difference between one
    step's mean and the mean of all clusters (0.2: no step's clusters average more than 20 %
    above or below the rest); the largest over ``balance`` is compared with ``max_imbalance``.
    Randomisation inference then re-draws from the same kept set.
    """

    balance: list[BalanceVariable] = Field(default_factory=_population_only, min_length=1)
    max_imbalance: float = Field(default=0.25, gt=0, le=5)
    candidates: int = Field(
        default=10_000,
        ge=100,
        le=200_000,
        description="Random schedules screened when there are more distinct schedules than "
        "this; every distinct schedule is screened otherwise.",
    )


class TrialOptions(_Frozen):
    """The rollout to randomise: clusters, steps and constraints (design.trial)."""

    clusters: list[TrialCluster] = Field(min_length=3)
    steps: int = Field(ge=2, le=24, description="Number of steps (start dates).")
    step_months: int = Field(ge=1, le=24, description="Months between two steps.")
    first_start: dt.date = Field(description="First day of the month step 1 starts.")
    together: list[list[str]] = Field(
        default_factory=list,
        description="Groups of clusters that must start at the same step (e.g. two BCUs "
        "sharing a control room).",
    )
    restricted: Restriction | None = Field(
        default=None, description="Balance the steps (restricted randomisation); None: simple."
    )
    schedule: dict[str, int] | None = Field(
        default=None,
        description="Cluster -> step, as drawn by `evaltk trial design` (read from "
        "trial/schedule.csv; never written by hand).",
    )

    @field_validator("first_start")
    @classmethod
    def _first_of_month(cls, value: dt.date) -> dt.date:
        if value.day != 1:
            raise ValueError(f"{value} is not the first day of a month; steps start on the 1st")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TrialOptions:
        names = [c.name for c in self.clusters]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"design.trial.clusters lists {', '.join(twice)} twice")
        for name in names:
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
                raise ValueError(f"design.trial.clusters: '{name}' must be a code without spaces")
        if self.steps > len(names):
            raise ValueError(
                f"design.trial.steps is {self.steps} but there are {len(names)} clusters: "
                "every step needs at least one cluster"
            )
        seen: set[str] = set()
        largest = -(-len(names) // self.steps)
        for i, group in enumerate(self.together):
            unknown = sorted(set(group) - set(names))
            if unknown:
                raise ValueError(
                    f"design.trial.together[{i}] names {', '.join(unknown)}, not in clusters"
                )
            if len(set(group)) < 2:
                raise ValueError(f"design.trial.together[{i}] needs two or more clusters")
            again = sorted(seen & set(group))
            if again:
                raise ValueError(
                    f"design.trial.together[{i}]: {', '.join(again)} already in another group"
                )
            if len(group) > largest:
                raise ValueError(
                    f"design.trial.together[{i}] has {len(group)} clusters, more than a step "
                    f"takes ({largest}): use fewer steps or smaller groups"
                )
            seen |= set(group)
        if self.restricted is not None and "baseline" in self.restricted.balance:
            missing = [c.name for c in self.clusters if c.baseline is None]
            if missing:
                raise ValueError(
                    "design.trial.restricted.balance names baseline, but clusters "
                    f"{', '.join(missing)} have none: give each a baseline"
                )
        if self.schedule is not None:
            self._check_schedule(names)
        return self

    def _check_schedule(self, names: list[str]) -> None:
        assert self.schedule is not None
        where = f"{SCHEDULE_FILE}"
        again = (
            "if the trial was changed, delete the file, record the change (`evaltk amend`) and "
            "draw again (`evaltk trial design`); otherwise restore it from version control"
        )
        if sorted(self.schedule) != sorted(names):
            missing = sorted(set(names) - set(self.schedule))
            extra = sorted(set(self.schedule) - set(names))
            raise ValueError(
                f"{where} does not name the clusters of design.trial (missing: "
                f"{', '.join(missing) or 'none'}; not clusters: {', '.join(extra) or 'none'}); "
                + again
            )
        for name, step in self.schedule.items():
            if not 1 <= step <= self.steps:
                raise ValueError(
                    f"{where}: cluster {name} has step {step}, not 1-{self.steps}; {again}"
                )
        for i, group in enumerate(self.together):
            if len({self.schedule[n] for n in group}) > 1:
                raise ValueError(
                    f"{where}: design.trial.together[{i}] ({', '.join(group)}) do not start "
                    f"at the same step; {again}"
                )

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.clusters]

    def step_start(self, step: int) -> dt.date:
        """First day of the first month of ``step`` (1-based)."""
        return add_months(self.first_start, (step - 1) * self.step_months)

    @property
    def last_start(self) -> dt.date:
        return self.step_start(self.steps)

    def starts(self) -> dict[str, dt.date]:
        """Each cluster's start date from the drawn schedule (empty before it is drawn)."""
        return {n: self.step_start(s) for n, s in (self.schedule or {}).items()}


class SteppedWedgeOptions(_Frozen):
    """How a stepped-wedge trial is analysed (design.stepped_wedge).

    ``model``: ``log_rate`` — the linear mixed model of the log rate per cluster and period
    (cluster random intercept, period fixed effects, the treatment indicator; statsmodels
    MixedLM by REML), for large counts; ``poisson`` — a Poisson GLM with cluster and period
    fixed effects and errors clustered by cluster (counts of any size, zeros included);
    ``auto`` — log_rate when every cluster-period has at least :data:`LOG_RATE_MIN_COUNT`
    events, otherwise poisson. The effect is a rate ratio. Periods are the design's steps:
    blocks of ``step_months`` months from ``first_start`` (earlier blocks are baseline).

    Primary inference is randomisation inference over the registered randomisation scheme:
    the schedules the draw could have given (every one when there are at most
    ``permutations``, otherwise ``permutations`` random ones) are re-applied to the data.
    ``sensitivity``: also fit the staggered DiD of Callaway & Sant'Anna (not-yet-treated
    comparisons) by the same periods.
    """

    model: Literal["auto", "log_rate", "poisson"] = "auto"
    permutations: int = Field(default=999, ge=99, le=100_000)
    sensitivity: bool = True


#: Events a cluster-period needs, in every cluster-period, for ``model: auto`` to take the
#: log-rate model: at 20 the log of a Poisson count has bias and variance close to its
#: delta-method values (1/mu), which the Gaussian model assumes.
LOG_RATE_MIN_COUNT = 20


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


# --------------------------------------------------------------------------- cross-checks


def check_stepped_wedge(protocol: Protocol) -> None:
    """Raise ValueError (one sentence, led by the field) unless the protocol's units, window
    and start dates fit its trial."""
    trial = protocol.design.trial
    if trial is None:
        raise ValueError("design.trial is missing: a stepped_wedge design needs its trial block")
    units, names = set(protocol.units), set(trial.names)
    if units != names:
        raise ValueError(
            "design.trial.clusters must name exactly the units (missing from clusters: "
            f"{', '.join(sorted(units - names)) or 'none'}; not in units: "
            f"{', '.join(sorted(names - units)) or 'none'})"
        )
    window = protocol.window
    if not window.start < trial.first_start:
        raise ValueError(
            f"design.trial.first_start {trial.first_start} must come after window.start "
            f"({window.start}): the months before it are the baseline"
        )
    if trial.last_start > window.end:
        raise ValueError(
            f"design.trial: the last step starts {trial.last_start}, after window.end "
            f"({window.end}); use fewer or shorter steps, or a later window end"
        )
    if window.washout_months:
        raise ValueError("window.washout_months must be 0 for a stepped_wedge design")
    if trial.schedule is None:
        if protocol.intervention.start:
            raise ValueError(
                "intervention.start: a stepped-wedge trial's start dates are drawn by "
                "`evaltk trial design` (trial/schedule.csv); leave intervention.start empty ({})"
            )
        return
    if dict(protocol.intervention.start) != trial.starts():
        raise ValueError(
            "intervention.start must be left to the drawn schedule (trial/schedule.csv): "
            "remove the dates written in the protocol"
        )


# --------------------------------------------------------------------------- the schedule file


def with_drawn_schedule(document: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The merged document with the drawn schedule (``folder/trial/schedule.csv``) filled in,
    for a stepped-wedge design whose schedule has been drawn; otherwise unchanged.

    Raises ProtocolError naming the file and row when the file cannot be read, and when the
    document itself writes a schedule or start dates.
    """
    design = document.get("design")
    if not isinstance(design, dict) or design.get("kind") != "stepped_wedge":
        return document
    trial = design.get("trial")
    if isinstance(trial, dict) and "schedule" in trial:
        raise ProtocolError(
            "design.trial.schedule is written by `evaltk trial design` "
            f"({SCHEDULE_FILE}), not in the protocol: remove it"
        )
    path = folder / SCHEDULE_FILE
    if not isinstance(trial, dict) or not path.is_file():
        return document
    intervention = document.get("intervention")
    if isinstance(intervention, dict) and intervention.get("start"):
        raise ProtocolError(
            f"intervention.start: the start dates of a stepped-wedge trial come from {path}; "
            "leave intervention.start empty ({})"
        )
    steps, starts = read_schedule(path)
    return {
        **document,
        "design": {**design, "trial": {**trial, "schedule": steps}},
        "intervention": {**(intervention or {}), "start": starts},
    }


def read_schedule(path: Path) -> tuple[dict[str, int], dict[str, dt.date]]:
    """``cluster -> step`` and ``cluster -> start month`` from a schedule file."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
            header = tuple(rows[0].keys()) if rows else ()
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ProtocolError(f"{path}: cannot read the schedule ({error})") from None
    if header != SCHEDULE_COLUMNS:
        raise ProtocolError(
            f"{path}: expected the columns {', '.join(SCHEDULE_COLUMNS)}; draw it again with "
            "`evaltk trial design`"
        )
    steps: dict[str, int] = {}
    starts: dict[str, dt.date] = {}
    for i, row in enumerate(rows):
        where = f"{path}: row {i + 1} (line {i + 2})"
        name = row["cluster"]
        if name in steps:
            raise ProtocolError(f"{where}: cluster {name} appears twice")
        try:
            steps[name] = int(row["step"])
            starts[name] = dt.date.fromisoformat(row["start_month"])
        except (TypeError, ValueError):
            raise ProtocolError(
                f"{where}: step must be a whole number and start_month a date (YYYY-MM-01)"
            ) from None
    return steps, starts


def write_schedule(path: Path, trial: TrialOptions, steps: dict[str, int]) -> None:
    """Write ``cluster, step, start_month`` in step order, then cluster order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    order = sorted(trial.names, key=lambda n: (steps[n], trial.names.index(n)))
    lines = [",".join(SCHEDULE_COLUMNS)]
    lines += [f"{n},{steps[n]},{trial.step_start(steps[n]).isoformat()}" for n in order]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


__all__ = [
    "LOG_RATE_MIN_COUNT",
    "SCHEDULE_FILE",
    "Restriction",
    "SteppedWedgeOptions",
    "TrialCluster",
    "TrialOptions",
    "add_months",
    "check_stepped_wedge",
    "read_schedule",
    "with_drawn_schedule",
    "write_schedule",
]
