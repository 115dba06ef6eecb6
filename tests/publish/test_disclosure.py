"""Disclosure control: small observed counts are suppressed in tables, downloads and figures,
modelled numbers are not, and the HTML scan fails on a planted small count."""

from __future__ import annotations

import pandas as pd
import pytest

from evaltk.errors import PublishError
from evaltk.publish.disclosure import (
    protect_result,
    protect_series,
    scan_book,
    small_counts_in_html,
    suppress_cells,
)
from evaltk.results.schema import DisclosureSettings

from .conftest import make_result


def test_primary_and_secondary_suppression():
    cells = {"used": 950, "a": 3, "b": 40, "c": 0, "d": 7}
    hidden, totals = suppress_cells(cells, [list(cells)], 5)
    assert hidden == {"a", "d"}  # 3 is small; 7 is the smallest other non-zero cell
    assert not totals
    hidden, totals = suppress_cells({"x": 2, "y": 0}, [["x", "y"]], 5)
    assert hidden == {"x"} and totals == {0}  # the total (2) would give it away


def test_data_report_is_protected():
    result = make_result()
    data = result.data.model_copy(
        update={
            "rows_in": 10_000,
            "rows_used": 9_840,
            "excluded": {
                "outside window": 150,
                "duplicate episode id": 3,
                "negative duration": 7,
                "code not allowed": 0,
            },
        }
    )
    safe = protect_result(result.model_copy(update={"data": data}))
    assert safe.data.excluded["duplicate episode id"] is None
    assert safe.data.excluded["negative duration"] is None  # secondary
    assert safe.data.excluded["code not allowed"] == 0
    assert safe.data.rows_in == 10_000 and safe.data.suppressed
    # Modelled quantities are left alone.
    assert safe.outcomes[0].estimate == result.outcomes[0].estimate
    rounded = protect_result(
        result.model_copy(update={"data": data, "disclosure": DisclosureSettings(round_to=5)})
    )
    assert rounded.data.excluded["outside window"] == 150 and rounded.data.rows_used == 9_840


def test_series_small_months_suppressed_model_columns_kept():
    result = make_result()
    months = pd.date_range("2016-01-01", periods=6, freq="MS")
    series = pd.DataFrame(
        {
            "outcome": "s136_rate",
            "period": months,
            "observed": [12, 3, 9, 2, 30, 8],
            "fitted": [11.5, 4.1, 9.2, 2.5, 28.0, 8.3],
            "counterfactual": 10.0,
            "cf_low": 8.0,
            "cf_high": 12.0,
            "post": [False, False, False, True, True, True],
            "in_fit": True,
        }
    )
    safe = protect_series(series, result)
    assert safe["observed"].isna().tolist() == [False, True, False, True, False, True]
    pd.testing.assert_series_equal(safe["fitted"], series["fitted"])


def test_html_scan_reads_only_marked_observed_counts(tmp_path):
    page = (
        '<td><span class="evaltk-observed">1,204</span></td>'
        '<td><span class="evaltk-observed">suppressed</span></td><td>3</td>'
    )
    assert small_counts_in_html(page, 5) == []  # an unmarked 3 is a modelled or other number
    (tmp_path / "ok.html").write_text(page)
    scan_book(tmp_path)
    (tmp_path / "bad.html").write_text('<p><span class="evaltk-observed">3</span></p>')
    with pytest.raises(PublishError, match=r"bad\.html.*observed count of 3"):
        scan_book(tmp_path)


def test_scan_catches_small_count_in_published_download(tmp_path):
    result = make_result()
    data = result.data.model_copy(update={"excluded": {"x": 2}})
    (tmp_path / "results.json").write_text(result.model_copy(update={"data": data}).to_json())
    with pytest.raises(PublishError, match=r"excluded\[x\] = 2"):
        scan_book(tmp_path)
