"""Small rendering helpers shared by the staggered results: numbers for text, HTML and JSON."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def json_value(value: Any) -> Any:
    """A JSON-safe scalar: plain int/float/bool/str, None for NaN, inf or missing."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    return value


def json_label(value: Any) -> Any:
    """A period or cohort label: an int when it is whole, else a float; None if missing."""
    f = json_value(value)
    if isinstance(f, float) and f.is_integer():
        return int(f)
    return f


def records(frame: pd.DataFrame, labels: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON-safe dictionaries (``labels`` columns as period labels)."""
    out = []
    for row in frame.itertuples(index=False):
        rec = {}
        for name, value in zip(frame.columns, row, strict=True):
            rec[name] = json_label(value) if name in labels else json_value(value)
        out.append(rec)
    return out


def fmt(value: Any) -> str:
    """Four significant digits for tables; blank for missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.6g}"


def label(value: float) -> str:
    """A period or cohort as text: ``2004`` rather than ``2004.0``."""
    return f"{value:g}" if math.isfinite(value) else "never"


def whole_labels(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Cast label columns to int64 where every value is whole (years, quarter indices)."""
    out = frame.copy()
    for c in columns:
        if c in out and len(out) and np.all(np.isfinite(out[c])) and np.all(out[c] % 1 == 0):
            out[c] = out[c].astype(np.int64)
    return out
