"""The tidy CSV files of a run: ``series.csv`` (ITS), ``effects.csv`` and ``figure_data.csv``
(comparison designs), each with the outcome id first; and the demand tables of people's
journeys (``pathways.csv``, ``contacts.csv``, ``demand.json``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from evaltk.estimate.fit import OutcomeFit
from evaltk.measures.journeys import DemandTables
from evaltk.measures.panel import Panel
from evaltk.protocol.spec import Protocol
from evaltk.results.figure_files import (
    CONCENTRATION_FILE,
    DEMAND_SETTINGS_FILE,
    HIGH_INTENSITY_FILE,
    PATHWAYS_FILE,
)


def series_table(fits: Sequence[OutcomeFit]) -> pd.DataFrame:
    """Every ITS fit's observed, fitted and counterfactual values by month."""
    frames = _by_outcome(fits, lambda fit: fit.series)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def effects_table(fits: Sequence[OutcomeFit]) -> pd.DataFrame:
    """Every fit's tidy effects (headline, event-time, ATT(g,t)) with the outcome id first."""
    frames = _by_outcome(fits, lambda fit: fit.effects)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    return out.replace([np.inf, -np.inf], np.nan)


def _by_outcome(
    fits: Sequence[OutcomeFit], table: Callable[[OutcomeFit], pd.DataFrame | None]
) -> list[pd.DataFrame]:
    """Each estimated fit's table, copied, with the outcome id as its first column."""
    frames = []
    for fit in fits:
        frame = table(fit)
        if frame is None or not fit.estimated:
            continue
        frame = frame.copy()
        frame.insert(0, "outcome", fit.outcome.id)
        frames.append(frame)
    return frames


def observed_figure_data(
    fits: Sequence[OutcomeFit], panel: Panel, protocol: Protocol
) -> pd.DataFrame:
    """The observed values plotted by the comparison designs' figures that show them (the CITS
    series, the DiD group means), with each group's summed count by month: ``evaltk book``
    reads it to apply disclosure control to those figures (and redraws one that shows a
    suppressed month). Not published."""
    frame = panel.frame
    treated = set(protocol.treated_units)
    rows = frame[frame["unit"].isin(protocol.units)].copy()
    rows["group"] = ["treated" if u in treated else "comparison" for u in rows["unit"]]
    rows["period"] = pd.to_datetime(rows["period"])
    counts = (
        rows.groupby(["outcome", "group", "period"], sort=False)["numerator"].sum().rename("count")
    )
    parts = []
    for fit in fits:
        if not fit.estimated:
            continue
        for kind, data in fit.figure_data.items():
            part = data.copy()
            part.insert(0, "figure", kind)
            part.insert(0, "outcome", fit.outcome.id)
            part["period"] = pd.to_datetime(part["period"], errors="coerce")
            keys = pd.MultiIndex.from_arrays([part["outcome"], part["group"], part["period"]])
            part["count"] = counts.reindex(keys).to_numpy()
            parts.append(part)
    columns = ["outcome", "figure", "period", "group", "observed"]
    columns += ["fitted", "counterfactual", "post", "count"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def write_demand(tables: DemandTables, folder: Path) -> None:
    """The journeys' pathway table, the concentration of demand (Lorenz points, no group of
    fewer people than the disclosure threshold), the high-intensity users of each phase, and
    what they were computed with (the files of evaltk.results.figure_files.DEMAND_FILES)."""
    tables.pathways.to_csv(folder / PATHWAYS_FILE, index=False, float_format="%.10g")
    tables.lorenz.to_csv(folder / CONCENTRATION_FILE, index=False, float_format="%.10g")
    tables.high_intensity.to_csv(folder / HIGH_INTENSITY_FILE, index=False, float_format="%.10g")
    settings = {
        "min_contacts": tables.min_contacts,
        "within_days": tables.within_days,
        "span_months": tables.span_months,
        "phase_months": tables.phase_months,
    }
    (folder / DEMAND_SETTINGS_FILE).write_text(
        json.dumps(settings, indent=2) + "\n", encoding="utf-8"
    )
