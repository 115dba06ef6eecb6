"""The interface every estimator's result satisfies, and the tidy table they share.

An ITS, 2 x 2, two-way fixed effects, event study, comparative ITS, Callaway & Sant'Anna
ATT(g,t) or aggregation result each has a headline :class:`~evaltk.estimators.effect.Effect`,
a tidy table with the same columns (:data:`TIDY_COLUMNS`), a text summary, an HTML rendering
for notebooks and a plot, so code above the estimators (estimation per design, the verdict,
the book) can treat them alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from evaltk.estimators.effect import Effect

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Columns of every result's :meth:`EstimatorResult.tidy`, in order. ``std_error`` is on the
#: scale the interval is built on (the log of a ratio); ``df`` is NaN for a normal reference
#: or where the interval does not come from a reference distribution (bootstrap,
#: permutation); ``level`` is the interval's confidence level.
TIDY_COLUMNS = (
    "term",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "p_value",
    "df",
    "level",
    "scale",
)


@runtime_checkable
class EstimatorResult(Protocol):
    """What every estimator's result offers, whatever the design.

    Each result keeps its own richer attributes (``ITSResult.counterfactual``,
    ``EventStudyResult.coefficients``, ``CSResult.aggregate``, ...); this is the part they
    share.
    """

    @property
    def headline(self) -> Effect:
        """The design's headline effect: the level change (ITS), the ATT (DiD, comparative
        ITS, event study average), the overall ATT of the aggregation (staggered)."""
        ...

    def tidy(self) -> pd.DataFrame:
        """One row per reported effect, columns :data:`TIDY_COLUMNS`, the headline first."""
        ...

    def summary(self) -> str:
        """Plain-text summary (through :func:`evaltk.estimators.render.render_text`)."""
        ...

    def _repr_html_(self) -> str:
        """HTML for notebooks (through :func:`evaltk.estimators.render.render_html`)."""
        ...

    def plot(self, ax: Axes | None = None, title: str | None = None) -> tuple[Figure, Axes]:
        """The design's standard figure."""
        ...


def effect_row(effect: Effect) -> dict[str, Any]:
    """One tidy row from an :class:`Effect`."""
    return {c: getattr(effect, c) for c in TIDY_COLUMNS}


def tidy_frame(rows: Iterable[Mapping[Any, Any]]) -> pd.DataFrame:
    """The tidy table of ``rows`` (mappings with the :data:`TIDY_COLUMNS` keys): columns in
    order, numbers as floats (None becomes NaN)."""
    frame = pd.DataFrame([{c: row.get(c) for c in TIDY_COLUMNS} for row in rows])
    frame = frame.reindex(columns=list(TIDY_COLUMNS))
    for column in TIDY_COLUMNS:
        if column not in ("term", "scale"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["term"] = frame["term"].astype(str)
    return frame


def optional_df(df: float | None) -> float | None:
    """Degrees of freedom as an :class:`Effect` holds them: None for a normal reference."""
    if df is None or not np.isfinite(df):
        return None
    return float(df)
