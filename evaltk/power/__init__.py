"""Simulation-based power and minimum detectable effect for a registered design.

:func:`its_settings` reads the design from a protocol; :func:`power_analysis` simulates every
(effect, months) cell of the grid with the project simulator's generative model, fits the
registered estimator to all replicates at once (:mod:`~evaltk.power.batch_glm`), and returns a
:class:`PowerReport`; :func:`write_power` writes ``power.json``, ``power.csv`` and
``power.png``. Cells run in this process, on local cores (joblib) or on a Dask cluster.
:mod:`~evaltk.power.did` does the same for difference-in-differences (treated and comparison
units); :func:`design_settings` and :func:`design_power_analysis` power a protocol's own design
(its, cits, staggered_did, did, event_study); :func:`sw_power_analysis` a stepped-wedge trial
from plain parameters (closed form and simulation).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evaltk.errors import PowerError
    from evaltk.power.design_report import design_power_analysis
    from evaltk.power.design_settings import design_settings
    from evaltk.power.did import DiDPowerSettings
    from evaltk.power.did_report import did_power_analysis
    from evaltk.power.from_protocol import did_settings, its_settings
    from evaltk.power.its import power_analysis, write_power
    from evaltk.power.report import PowerCell, PowerReport
    from evaltk.power.settings import ITSPowerSettings
    from evaltk.power.stepped_wedge import SteppedWedgePowerSettings, sw_power_analysis
    from evaltk.power.sw_history import estimate_components

#: The folder of an analysis that holds its power analysis.
POWER_DIR = "power"

# Loaded on first use (PEP 562): reading a power report (the book does) must not import the
# simulator and the model fitting that computing one needs.
_WHERE = {
    "DiDPowerSettings": "evaltk.power.did",
    "ITSPowerSettings": "evaltk.power.settings",
    "PowerCell": "evaltk.power.report",
    "PowerError": "evaltk.errors",
    "PowerReport": "evaltk.power.report",
    "SteppedWedgePowerSettings": "evaltk.power.stepped_wedge",
    "design_power_analysis": "evaltk.power.design_report",
    "design_settings": "evaltk.power.design_settings",
    "estimate_components": "evaltk.power.sw_history",
    "sw_power_analysis": "evaltk.power.stepped_wedge",
    "did_power_analysis": "evaltk.power.did_report",
    "did_settings": "evaltk.power.from_protocol",
    "its_settings": "evaltk.power.from_protocol",
    "power_analysis": "evaltk.power.its",
    "write_power": "evaltk.power.its",
}

__all__ = [
    "POWER_DIR",
    "DiDPowerSettings",
    "ITSPowerSettings",
    "PowerCell",
    "PowerError",
    "PowerReport",
    "SteppedWedgePowerSettings",
    "design_power_analysis",
    "design_settings",
    "did_power_analysis",
    "did_settings",
    "estimate_components",
    "its_settings",
    "power_analysis",
    "sw_power_analysis",
    "write_power",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'evaltk.power' has no attribute {name!r}")
