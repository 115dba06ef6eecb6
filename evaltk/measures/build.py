"""The one entry point from a protocol's data to its panel, whatever kind the data are."""

from __future__ import annotations

from pathlib import Path

from evaltk.ingest.engine import EngineSettings
from evaltk.measures.episodes import compute_panel
from evaltk.measures.panel import Panel
from evaltk.measures.series import read_series
from evaltk.protocol.spec import EpisodeSource, Protocol


def build_panel(
    protocol: Protocol,
    folder: Path,
    *,
    settings: EngineSettings | None = None,
    linked_file: Path | None = None,
) -> Panel:
    """The unit x month :class:`Panel` of ``protocol``'s outcomes from the data in ``folder``.

    Episode files go through :func:`compute_panel` (DuckDB, with ``settings``); a ready series
    through :func:`read_series`. ``linked_file`` is the episode file with its linkage flags
    (:func:`evaltk.linkage.pipeline.link_episodes`), scanned instead of ``data.path``.
    """
    if isinstance(protocol.data, EpisodeSource):
        return compute_panel(
            protocol, Path(folder), settings=settings, check_quality=True, linked_file=linked_file
        )
    return read_series(protocol, Path(folder))
