"""Verdict calibration by simulation: the project's simulator → panel → models → verdict.

Shared by the calibration test and the book's methods chapter. The monthly totals come from
``evaltk.simulate.simulate_series`` (the same generative model as the episode rows), so
hundreds of datasets take seconds.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pandas as pd

from evaltk.analysis.estimate import fit_all
from evaltk.analysis.run import _adjusted_p_values, _outcome_result
from evaltk.measures.panel import Panel, RowAccount
from evaltk.protocol.spec import Protocol
from evaltk.simulate import SimulationConfig, simulate_series
from evaltk.verdict.rules import decide

# The five East Midlands forces start together in January 2019, half-way through ten years
# of data, and are analysed as one regional series: a well-powered single-series design.
FORCES = ("E23000018", "E23000019", "E23000020", "E23000021", "E23000022")
UNIT = "east_midlands"
START = "2019-01"

# Outcome id -> (series column, aggregate, class, role).
OUTCOMES = {
    "s136": ("s136", "rate", "resolution", "primary"),
    "ae_conveyances": ("ae_conveyance", "count", "displacement", "secondary"),
    "ambulance_conveyances": ("ambulance_conveyance", "count", "displacement", "secondary"),
    "hospital_wait_minutes": ("hospital_wait_minutes", "mean", "displacement", "secondary"),
    "missing_person_reports": ("missing_person", "count", "displacement", "secondary"),
    "onward_referrals": ("referral", "count", "referral", "secondary"),
}

SCENARIOS: dict[str, tuple[dict[str, float], set[str]]] = {
    "resolves": ({"s136": 0.7}, {"Resolves"}),
    "displaces": (
        {"s136": 0.7, "ae_conveyance": 1.25, "hospital_wait_minutes": 1.25},
        {"Displaces"},
    ),
    "refers on": ({"s136": 0.7, "referral": 1.25}, {"Refers on"}),
    "no effect": ({}, {"No detectable change", "Inconclusive"}),
}


def protocol() -> Protocol:
    outcomes = [
        {
            "id": key,
            "label": key.replace("_", " "),
            "role": role,
            "class": outcome_class,
            "direction": "decrease",
        }
        for key, (_, _, outcome_class, role) in OUTCOMES.items()
    ]
    return Protocol.model_validate(
        {
            "title": "calibration",
            "intervention": {"kind": "street_triage", "start": {UNIT: dt.date(2019, 1, 1)}},
            "units": [UNIT],
            "data": {
                "kind": "series",
                "path": "simulated",
                "period": "period",
                "outcomes": {key: key for key in OUTCOMES},
            },
            "outcomes": outcomes,
            "design": {"kind": "its", "its": {"ar1": True}},
            "window": {"start": dt.date(2014, 1, 1), "end": dt.date(2023, 12, 1)},
        }
    )


def config(effects: dict[str, float], seed: int) -> SimulationConfig:
    """The region at full scale over ten years (2014-2023), triage from January 2019."""
    return SimulationConfig.preset(
        "region",
        forces=FORCES,
        starts=dict.fromkeys(FORCES, START),
        effects=effects,
        seed=seed,
    )


def regional(series: pd.DataFrame) -> pd.DataFrame:
    """Add the forces' monthly totals into one regional series."""
    return series.groupby("period", as_index=False).sum(numeric_only=True)


def panel(series: pd.DataFrame) -> Panel:
    series = regional(series)
    rows = []
    for key, (column, aggregate, _, _) in OUTCOMES.items():
        denominator = {
            "rate": series["population"],
            "mean": series["incidents"],
            "count": float("nan"),
        }[aggregate]
        frame = pd.DataFrame(
            {
                "unit": UNIT,
                "period": series["period"],
                "outcome": key,
                "numerator": series[column].astype(float),
                "denominator": denominator,
            }
        )
        frame["value"] = frame["numerator"]
        rows.append(frame)
    aggregates = {key: spec[1] for key, spec in OUTCOMES.items()}
    return Panel(
        frame=pd.concat(rows, ignore_index=True),
        accounting=RowAccount(source="simulated", rows_in=0, rows_used=0),
        aggregates=aggregates,
        per={key: 100_000 for key in OUTCOMES},
    )


def verdict(spec: Protocol, effects: dict[str, float], seed: int) -> str:
    series = simulate_series(config(effects, seed)).sort_values("period")
    fits = fit_all(panel(series), spec)
    adjusted = _adjusted_p_values(fits, spec.decision.multiplicity)
    results = [_outcome_result(f, spec, 1, adjusted[f.outcome.id]) for f in fits]
    return decide(results, spec.decision).label


def confusion(seeds: range) -> pd.DataFrame:
    """Rows: true scenario; columns: verdict; cells: share of datasets."""
    spec = protocol()
    table = {}
    for name, (effects, _) in SCENARIOS.items():
        counts = Counter(verdict(spec, effects, seed) for seed in seeds)
        table[name] = {label: n / len(seeds) for label, n in counts.items()}
    return pd.DataFrame(table).T.fillna(0.0)
