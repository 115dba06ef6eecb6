"""What a stepped-wedge power analysis reports (:mod:`evaltk.power.stepped_wedge` computes it):
the cells of the grid, the detectable effects and the report that ``power/power.json`` holds.

Data only, so that the book (``evaltk.publish``) reads a power file without loading the
simulation or the estimators it runs.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field


class SWCell(BaseModel):
    """Power at one effect, number of clusters and steps: of the registered randomisation
    test (``power``, the primary), of the model's Wald z test, and by the closed form."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    effect: float
    clusters: int
    steps: int
    periods: int
    replicates: int
    rejections: int = Field(description="Rejections by the randomisation test.")
    power: float = Field(description="Power of the registered randomisation test.")
    mc_se: float
    z_test_power: float = Field(description="Power of the REML Wald z test (same replicates).")
    z_test_mc_se: float
    closed_form: float = Field(description="Power by the closed form (known components).")
    mean_estimate: float = Field(description="Mean estimated rate ratio, exp(mean log).")


class SWDetectable(BaseModel):
    """The smallest rate ratio detected with the target power (closed form), both ways."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    clusters: int
    steps: int
    periods: int
    target: float
    reduction: float = Field(description="Rate ratio below 1 (a fall) detected at the target.")
    increase: float = Field(description="Rate ratio above 1 (a rise) detected at the target.")
    registered_reduction: float | None = Field(
        default=None,
        description="Rate ratio below 1 at which the simulated power of the registered "
        "randomisation test reaches the target (interpolated on the log ratio between the "
        "two effects of the grid around it); None when the grid does not reach it.",
    )
    registered_increase: float | None = None


class SWPowerReport(BaseModel):
    """A stepped-wedge power analysis: the grid by both routes and the detectable effects."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    design: Literal["stepped_wedge"] = "stepped_wedge"
    estimator: str
    settings: dict[str, Any]
    cells: list[SWCell]
    detectable: list[SWDetectable]
    notes: list[str]

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"

    def curve(self) -> pd.DataFrame:
        """One row per cell: effect, clusters, steps, simulated power ± MC SE, closed form."""
        return pd.DataFrame([c.model_dump() for c in self.cells])

    def detectable_table(self) -> pd.DataFrame:
        """Minimum detectable reduction (rate ratio) by clusters (rows) and steps (columns)."""
        frame = pd.DataFrame([d.model_dump() for d in self.detectable])
        return frame.pivot(index="clusters", columns="steps", values="reduction")
