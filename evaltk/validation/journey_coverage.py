"""Do journey measures recover the simulator's journeys? Coverage of their true shares.

Each replicate simulates Nottinghamshire alone (``SimulationConfig.preset("small", scale=0.1,
seed=...)``, 2014-2019, triage from April 2016) with journeys on
(:mod:`evaltk.simulate.journeys`): an s136 detention is followed by a missing-person report
of the same person within 1-23 hours with probability 0.15, an admission without detention
by one 24-72 hours later with probability 0.10. The episode file is measured as any analysis's
is (:func:`evaltk.measures.episodes.compute_panel`, the DuckDB SQL), with two ordinary protocol
outcomes, shares with a repeat window:

* ``s136_missing_24h``: s136 detentions followed by a missing-person report within 1 day,
  of all s136 detentions;
* ``admission_missing_72h``: incidents with ``admitted_72h`` and no detention followed by one
  within 3 days, of all such incidents.

Their monthly numerators and denominators are summed over the window, and over the months
before and from the start, and a 95 % Wilson interval is taken of each pooled share. The truth
is the configured probability (truth.json's ``journeys``), before and after alike. Coincidental
reports of the same person in the window add to the measured share; they are rare (none after
6,100 detentions in the demo data), which the coverage shows.

The requirement (issue 18): each share's interval contains its true share in at least 90 %
(and at most 99 %) of 200 datasets.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from evaltk.measures.episodes import compute_panel
from evaltk.protocol.spec import Protocol
from evaltk.simulate import SimulationConfig, write_dataset
from evaltk.validation.record import Requirement, Table
from evaltk.validation.simulation import COVERAGE_BOUNDS, NOTTS, CheckResult, between, mc_se

REPLICATES = 200
#: Seed of replicate i: SEED_BASE + i.
SEED_BASE = 180_000
SCALE = 0.1
LEVEL = 0.95
#: The journeys switched on, and so the true shares.
JOURNEYS = {"journey_missing_after_s136": 0.15, "journey_missing_after_admission": 0.10}
#: Outcome id -> (label, the config field that is its truth).
MEASURES = {
    "s136_missing_24h": (
        "s136 detentions followed by a missing-person report within 24 hours",
        "journey_missing_after_s136",
    ),
    "admission_missing_72h": (
        "admissions (no detention) followed by a missing-person report within 72 hours",
        "journey_missing_after_admission",
    ),
}
PHASES = ("all months", "before the start", "from the start")
START = "2016-04-01"


def _share(where: dict[str, Any], days: int) -> dict[str, Any]:
    return {
        "aggregate": "share",
        "where": where,
        "denominator": where,
        "repeat": {"within_days": days, "among": {"missing_person": True}},
    }


def journey_protocol() -> Protocol:
    """The two journey shares as a protocol's outcomes (an ITS of Nottinghamshire)."""
    measures = {
        "s136_missing_24h": _share({"s136": True}, 1),
        "admission_missing_72h": _share({"admitted_72h": True, "s136": False}, 3),
    }
    return Protocol.model_validate(
        {
            "title": "Journey coverage study",
            "intervention": {"kind": "street_triage", "start": {NOTTS: START}},
            "units": [NOTTS],
            "data": {"kind": "episodes", "path": "episodes.parquet"},
            "outcomes": [
                {
                    "id": oid,
                    "label": MEASURES[oid][0],
                    "role": "primary" if i == 0 else "secondary",
                    "class": "safety",
                    "direction": "decrease",
                    "measure": measure,
                }
                for i, (oid, measure) in enumerate(measures.items())
            ],
            "design": {"kind": "its"},
            "window": {"start": "2014-01-01", "end": "2019-12-31"},
        }
    )


def config(seed: int) -> SimulationConfig:
    return SimulationConfig.preset("small", scale=SCALE, seed=seed, **JOURNEYS)


def replicate(seed: int) -> list[int]:
    """One dataset's pooled counts: per measure, numerator and denominator over all months,
    before the start and from the start (six integers per measure, in MEASURES order)."""
    protocol = journey_protocol()
    with tempfile.TemporaryDirectory(prefix="evaltk-journeys-") as tmp:
        folder = write_dataset(config(seed), Path(tmp) / "data")
        frame = compute_panel(protocol, folder).frame
    after = frame["period"] >= np.datetime64(START)
    counts: list[int] = []
    for oid in MEASURES:
        rows = frame[frame["outcome"] == oid]
        for part in (rows, rows[~after[rows.index]], rows[after[rows.index]]):
            counts += [int(part["numerator"].sum()), int(part["denominator"].sum())]
    return counts


def covered(numerator: int, denominator: int, truth: float) -> bool:
    """Whether the 95 % Wilson interval of numerator / denominator contains ``truth``."""
    low, high = proportion_confint(numerator, denominator, alpha=1 - LEVEL, method="wilson")
    return bool(low <= truth <= high)


def summarise(rows: list[list[int]]) -> tuple[list[Table], list[Requirement]]:
    """The record's table and requirements from every replicate's counts."""
    n = len(rows)
    table_rows: list[list[Any]] = []
    requirements = []
    for m, (oid, (label, key)) in enumerate(MEASURES.items()):
        truth = JOURNEYS[key]
        for p, phase in enumerate(PHASES):
            i = 6 * m + 2 * p
            hits = [covered(r[i], r[i + 1], truth) for r in rows]
            shares = [r[i] / r[i + 1] for r in rows if r[i + 1]]
            rate = float(np.mean(hits))
            table_rows.append(
                [
                    label,
                    phase,
                    truth,
                    round(float(np.mean(shares)), 4),
                    round(float(np.mean([r[i + 1] for r in rows])), 1),
                    round(rate, 3),
                    round(mc_se(rate, n), 3),
                ]
            )
            if phase == "all months" or oid == "s136_missing_24h":
                requirements.append(
                    between(
                        f"{label} ({phase}): {LEVEL:.0%} Wilson interval covers the true "
                        f"share {truth:g}",
                        rate,
                        COVERAGE_BOUNDS,
                    )
                )
    table = Table(
        caption=f"Coverage of the true journey shares over {n} simulated datasets",
        columns=[
            "measure",
            "months",
            "true share",
            "mean measured share",
            "mean denominator",
            "coverage",
            "MC SE",
        ],
        rows=table_rows,
    )
    return [table], requirements


def journey_coverage(replicates: int = REPLICATES) -> CheckResult:
    """The study (``bench/validation_checks.py --check journey_coverage``)."""
    rows = [replicate(SEED_BASE + i) for i in range(replicates)]
    tables, requirements = summarise(rows)
    return CheckResult(
        title="Journey shares: coverage of the simulator's true journeys",
        description=(
            f"{replicates} datasets of Nottinghamshire (simulator preset 'small' at scale "
            f"{SCALE}, seeds {SEED_BASE} to {SEED_BASE + replicates - 1}) with journeys on: a "
            "missing-person report follows an s136 detention within 1-23 hours with "
            "probability 0.15, and an admission without detention within 24-72 hours with "
            "probability 0.10. Each share is measured by the episode SQL as an ordinary "
            "protocol outcome (a share with a repeat window), pooled over the months, and "
            f"given a {LEVEL:.0%} Wilson interval; the requirement is coverage of the true "
            "share between 90 % and 99 %."
        ),
        figures={f"{row[0]} ({row[1]})": float(row[5] or 0.0) for row in tables[0].rows},
        tables=tables,
        requirements=requirements,
        replicates={"counts": [list(r) for r in rows]},
    )
