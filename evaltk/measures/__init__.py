"""Outcome measures: episode rows (or a ready series) -> the unit x month :class:`Panel`.

* :func:`build_panel` — the entry point: dispatches on the protocol's data kind;
* :func:`compute_panel` — episode files, aggregated in one streamed DuckDB pass;
* :func:`read_series` — a ready unit x month series (counts, or rates with an exposure).
"""

from evaltk.ingest.engine import EngineSettings
from evaltk.measures.build import build_panel
from evaltk.measures.episodes import compute_panel
from evaltk.measures.panel import Panel, RowAccount
from evaltk.measures.series import read_series

__all__ = ["EngineSettings", "Panel", "RowAccount", "build_panel", "compute_panel", "read_series"]
