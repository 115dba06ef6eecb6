"""The one renderer: headline numbers in text and HTML, every text escaped, levels as the book
writes them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.estimators.effect import Effect
from evaltk.estimators.render import format_level, format_number, render_html, render_text
from evaltk.estimators.result import TIDY_COLUMNS, effect_row, tidy_frame

EFFECT = Effect("level_change", 0.7712, 0.7011, 0.8483, 0.0001234, "ratio", 0.0486, 0.975, 21.5)


@pytest.mark.parametrize(
    ("level", "text"),
    [(0.95, "95 %"), (0.975, "97.5 %"), (1 - 0.025, "97.5 %"), (0.9, "90 %"), (0.995, "99.5 %")],
)
def test_format_level(level: float, text: str) -> None:
    assert format_level(level) == text


def test_format_number() -> None:
    assert format_number(0.123456) == "0.1235"
    assert format_number(123456.7) == "123457"
    assert format_number(np.nan) == "" and format_number(None) == ""
    assert format_number(np.inf) == "inf" and format_number(-np.inf) == "-inf"


def test_text_has_the_headline_facts_and_table() -> None:
    text = render_text(
        "Model", EFFECT, tidy_frame([effect_row(EFFECT)]), [("months", 48)], [("Notes", "n")]
    )
    assert "0.7712" in text and "0.7011" in text and "0.8483" in text
    assert "97.5 % CI" in text and "t(21.5)" in text
    assert "  months: 48" in text and "Notes\nn" in text


def test_html_escapes_every_text() -> None:
    evil = "<script>alert('x')</script>"
    table = tidy_frame([{**effect_row(EFFECT), "term": evil}])
    html = render_html(
        evil, EFFECT, table, [(evil, evil)], [(evil, evil), (evil, pd.DataFrame({evil: [evil]}))]
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "0.7712" in html and "97.5 % CI" in html


def test_tidy_frame_columns_and_types() -> None:
    frame = tidy_frame([effect_row(EFFECT), {"term": "x", "estimate": 1, "df": None}])
    assert list(frame.columns) == list(TIDY_COLUMNS)
    assert frame["df"].dtype == float and np.isnan(frame["df"].iloc[1])
    assert frame.loc[0, "estimate"] == EFFECT.estimate
