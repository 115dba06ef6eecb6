"""Visible marks on the figures of runs and outcomes that are not the registered analysis.

A figure travels without its page (pasted into slides, a board paper), so the mark is drawn
into the image itself, across the top and faintly across the plot, and is also written into
the PNG's text metadata (``evaltk:registration``) for scripts.
"""

from __future__ import annotations

from typing import Any

EXPLORATORY_RUN = "EXPLORATORY — not the registered analysis"
EXPLORATORY_OUTCOME = "EXPLORATORY OUTCOME — added after registration"
METADATA_KEY = "evaltk:registration"


def stamp_figure(fig: Any, text: str) -> None:
    """Draw ``text`` as a banner above the axes and a faint diagonal watermark.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Drawn in place (before saving).
    text : str
        The mark, e.g. :data:`EXPLORATORY_RUN`.
    """
    fig.text(
        0.5,
        1.02,
        text,
        ha="center",
        va="bottom",
        fontsize=11,
        fontweight="bold",
        color="white",
        bbox={"boxstyle": "square,pad=0.4", "facecolor": "#b00020", "edgecolor": "none"},
    )
    # The watermark keeps the mark when someone crops the banner off.
    fig.text(
        0.5,
        0.5,
        "EXPLORATORY",
        ha="center",
        va="center",
        rotation=25,
        fontsize=48,
        fontweight="bold",
        color="#b00020",
        alpha=0.12,
        zorder=0,
    )


def png_metadata(status: str, text: str | None) -> dict[str, str]:
    """PNG text chunks saying how the figure stands against the registration."""
    metadata = {METADATA_KEY: status}
    if text:
        metadata["Description"] = text
    return metadata
