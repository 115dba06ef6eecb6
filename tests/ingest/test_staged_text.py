"""Columns staged as text: the column-wise conversion equals the value-by-value rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaltk.ingest.readers import _as_text, _text_of


def _expected(series: pd.Series) -> list[str | None]:
    if pd.api.types.is_numeric_dtype(series.dtype):
        return [_text_of(float(v)) if pd.notna(v) else None for v in series.tolist()]
    return [_text_of(v) for v in series.astype(object).tolist()]


def test_text_columns_convert_as_value_by_value():
    rng = np.random.default_rng(3)
    pieces = ["INC", "12", " ", "\t", "\x1c", "\xa0", "é", "x", "", "  Yes ", "No"]
    values: list[object] = [
        "".join(rng.choice(pieces, int(rng.integers(0, 5)))) for _ in range(4000)
    ]
    values[::37] = [None] * len(values[::37])
    values[::41] = [float("nan")] * len(values[::41])
    text = pd.Series(values, dtype=object)
    assert _as_text(text).to_pylist() == _expected(text)
    assert _as_text(text.astype("category")).to_pylist() == _expected(text.astype("category"))
    # Few distinct values (codes, labels) are trimmed once each: the same result.
    labels = pd.Series(rng.choice(np.array(["Yes", " No ", "", "\xa0Yes", None]), 3000))
    assert _as_text(labels).to_pylist() == _expected(labels)
    # pandas' own string dtype (pandas 3 reads text columns as it).
    strings = text.astype(pd.StringDtype())
    assert _as_text(strings).to_pylist() == _expected(strings)


def test_number_and_other_columns_convert_as_value_by_value():
    rng = np.random.default_rng(4)
    floats = rng.integers(0, 10**10, 3000).astype(float)
    floats[rng.random(3000) < 0.1] = np.nan
    odd = [1.5, -2.0, np.inf, 1e20, 2.0**63, -0.0, 0.1]
    for series in (
        pd.Series(np.concatenate([floats, odd])),
        pd.Series(rng.integers(-(10**9), 10**9, 500)),
        pd.Series([True, False, True]),
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series(["a", 2, 3.0, None, pd.Timestamp("2020-01-02 03:04:05"), " b "]),
        pd.Series(pd.to_datetime(["2020-01-02 03:04", None])),
    ):
        assert _as_text(series).to_pylist() == _expected(series), series.dtype
