"""The power table, the minimum detectable effect, and ``power.json`` that the book reads.

``power.json`` is deterministic (no clock time, no backend or worker count), so the same
settings and seed give the same file on a laptop or a cluster.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field


class CellResult(BaseModel):
    """Rejections of the level-change test among the replicates of one cell."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    effect: float
    months_before: int
    months_after: int
    treated_units: int | None = None
    comparison_units: int | None = None
    replicates: int
    rejections: int
    failed: int
    mean_estimate: float | None
    gls_fits: int | None = None

    @property
    def power(self) -> float:
        # A failed fit cannot detect anything: it counts as a miss, not as a missing replicate.
        return self.rejections / self.replicates

    @property
    def mc_se(self) -> float:
        """Monte Carlo standard error of the power, sqrt(p (1 - p) / R)."""
        p = self.power
        return float(np.sqrt(p * (1 - p) / self.replicates))


POWER_FORMAT = 1

#: Designs whose grid's other axis is the months after the start (the rest: forces).
BY_MONTHS = ("its", "cits", "synthetic_control")


class PowerCell(BaseModel):
    """Power at one effect and post-period length, with its Monte Carlo standard error."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    effect: float = Field(description="True rate ratio.")
    months_before: int
    months_after: int
    treated_units: int | None = None
    comparison_units: int | None = None
    replicates: int
    rejections: int
    failed: int = Field(description="Replicates whose model could not be fitted (misses).")
    power: float
    mc_se: float
    mean_estimate: float | None
    gls_fits: int | None = Field(
        default=None, description="ITS model gls or auto: replicates fitted by GLS."
    )


class MinimumDetectable(BaseModel):
    """The smallest change detected with the target power, for one post-period length (ITS)
    or one number of treated and comparison forces (DiD)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    months_after: int
    treated_units: int | None = None
    comparison_units: int | None = None
    target: float
    effect: float | None = Field(description="Rate ratio; None when beyond the grid.")
    how: Literal["interpolated", "at_most", "beyond_grid"]


class PowerReport(BaseModel):
    """Everything ``evaltk power`` found, as written to ``power.json``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    power_format: int = POWER_FORMAT
    design: Literal["its", "did", "cits", "staggered_did", "event_study", "synthetic_control"]
    evaltk_version: str
    protocol_sha256: str | None
    estimator: str = Field(description="The model and test in words.")
    settings: dict[str, Any]
    cells: list[PowerCell]
    minimum_detectable: list[MinimumDetectable]
    notes: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list,
        description="No-change rows whose rejection rate lies above their Monte Carlo band: "
        "the registered test rejects a true null more often than its alpha.",
    )

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: effect, months (and forces for DiD), power, Monte Carlo SE."""
        frame = pd.DataFrame([c.model_dump() for c in self.cells])
        if self.design in BY_MONTHS:
            frame = frame.drop(columns=["treated_units", "comparison_units"])
        return frame

    def table(self) -> pd.DataFrame:
        """Power as ``"0.81 ± 0.02"`` text, effects down, the grid's other axis across
        (months after for an ITS, ``"T treated + C comparison"`` forces for a DiD)."""
        frame = self.to_frame()
        pairs = zip(frame.power, frame.mc_se, strict=True)
        frame["text"] = [f"{p:.2f} ± {s:.2f}" for p, s in pairs]
        frame["column"] = column_labels(frame, self.design)
        table = frame.pivot(index="effect", columns="column", values="text")
        return table[list(dict.fromkeys(frame["column"]))]


def column_labels(frame: pd.DataFrame, design: str) -> list[Any]:
    """The label of each cell's column: months after (ITS) or forces (DiD)."""
    if design in BY_MONTHS:
        return frame["months_after"].tolist()
    return [
        f"{t} treated + {c} comparison"
        for t, c in zip(frame["treated_units"], frame["comparison_units"], strict=True)
    ]


#: The Monte Carlo band of a no-change cell: alpha + this many standard errors (one-sided
#: 99.5 %, so that four honest columns raise a false warning about 2 % of the time).
SIZE_BAND_Z = 2.576


def size_band(alpha: float, replicates: int) -> float:
    """The highest rejection rate of a true null that Monte Carlo error alone explains."""
    return alpha + SIZE_BAND_Z * float(np.sqrt(alpha * (1 - alpha) / replicates))


#: What an ITS's over-rejecting test can do instead (the default advice of :func:`size_warnings`).
ITS_ADVICE = "consider model: auto or gls"


def size_warnings(cells: list[PowerCell], alpha: float, advice: str = ITS_ADVICE) -> list[str]:
    """One line per no-change cell whose rejection rate is above :func:`size_band`, ending
    with ``advice`` in brackets (what the design can do about it)."""
    out = []
    for c in cells:
        if c.effect != 1.0:
            continue
        band = size_band(alpha, c.replicates)
        if c.power > band:
            where = (
                f"{c.months_after} months after"
                if c.treated_units is None
                else f"{c.treated_units} treated + {c.comparison_units} comparison forces"
            )
            out.append(
                f"no change, {where}: the test rejected a true null in {c.power:.1%} of "
                f"{c.replicates} replicates, above the {band:.1%} that Monte Carlo error "
                f"explains at alpha {alpha:g}; its p-values are too small and its power "
                f"overstated ({advice})"
            )
    return out


def cells_from(results: list[CellResult]) -> list[PowerCell]:
    return [
        PowerCell(**r.model_dump(), power=round(r.power, 6), mc_se=round(r.mc_se, 6))
        for r in results
    ]


def minimum_detectable(cells: list[PowerCell], target: float) -> list[MinimumDetectable]:
    """Per post-period length, interpolate power against the size of the change (log scale).

    Effects on either side of 1 are pooled by their distance from 1 on the log scale, which is
    what the two-sided test sees. Interpolation is linear between grid points; a grid whose
    smallest change already reaches the target gives an upper bound ("at most").
    """
    out = []
    keys = sorted({(c.months_after, c.treated_units or 0, c.comparison_units or 0) for c in cells})
    for key in keys:
        months = key[0]
        units = {
            "treated_units": key[1] or None,
            "comparison_units": key[2] or None,
        }
        column = sorted(
            (abs(np.log(c.effect)), c.power, c.effect)
            for c in cells
            if (c.months_after, c.treated_units or 0, c.comparison_units or 0) == key
            and c.effect != 1.0
        )
        found: MinimumDetectable | None = None
        for i, (size, power, effect) in enumerate(column):
            if power < target:
                continue
            if i == 0:
                found = MinimumDetectable(
                    months_after=months, **units, target=target, effect=effect, how="at_most"
                )
            else:
                size0, power0, _ = column[i - 1]
                share = (target - power0) / (power - power0)
                mde = size0 + share * (size - size0)
                sign = 1.0 if effect > 1 else -1.0
                found = MinimumDetectable(
                    months_after=months,
                    **units,
                    target=target,
                    effect=round(float(np.exp(sign * mde)), 4),
                    how="interpolated",
                )
            break
        beyond = MinimumDetectable(
            months_after=months, **units, target=target, effect=None, how="beyond_grid"
        )
        out.append(found or beyond)
    return out
