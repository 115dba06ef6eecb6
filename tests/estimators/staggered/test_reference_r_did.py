"""Reference: R ``did`` (Callaway & Sant'Anna 2021) on the ``mpdta`` county teen-employment panel.

Scenarios, reference files and tolerances live in :mod:`evaltk.validation.mpdta` (every
ATT(g,t) and aggregate within 1e-6 absolute, every standard error within 1e-4 relative; the
pre-trend Wald test W = 7.791, p = 0.168 and the README's headline figures to half a unit in
their last printed decimal). These tests assert on its rows, which are the rows written to
``book/validation/reference-*.json`` for the book's validation chapter to print
(tests/validation/test_reference_records.py checks that the committed records are current), so
the chapter's figure and the tested figure are one computation.
"""

from __future__ import annotations

import pandas as pd
import pytest

from evaltk.errors import ReferenceMissing
from evaltk.validation import mpdta
from evaltk.validation.comparison import Comparison

pytestmark = pytest.mark.reference


def _read(name: str) -> pd.DataFrame:
    try:
        return mpdta.load(name)
    except ReferenceMissing as missing:
        pytest.skip(str(missing))


@pytest.fixture(scope="module")
def fits() -> dict:
    return mpdta.fit_scenarios(_read(mpdta.DATA))


@pytest.fixture(scope="module")
def rows(fits: dict) -> list[Comparison]:
    return mpdta.comparisons(fits=fits)


def _assert_within(rows: list[Comparison]) -> None:
    for row in rows:
        assert row.evaltk is not None, (row.study, row.quantity, "evaltk has no such figure")
        assert row.reference == row.reference, (row.study, row.quantity, "R has no such figure")
        assert row.within, (row.study, row.group, row.quantity, row.evaltk, row.reference)


@pytest.mark.parametrize("scenario", list(mpdta.SCENARIOS))
def test_attgt_match_r(rows: list[Comparison], scenario: str) -> None:
    cells = [r for r in rows if r.study == scenario and r.group == "ATT(g,t)"]
    # 12 (group, time) cells, each an ATT and a standard error; the join is outer, so a cell
    # that only one side has is a row without a value and fails _assert_within.
    assert len(cells) == 24
    atts = [r for r in cells if not r.quantity.startswith("SE")]
    assert {r.tolerance for r in atts} == {mpdta.ATT_TOL}
    for se in cells[1::2]:
        assert se.tolerance == pytest.approx(mpdta.SE_RTOL * abs(se.reference), rel=1e-12)
    _assert_within(cells)


@pytest.mark.parametrize("scenario", list(mpdta.SCENARIOS))
@pytest.mark.parametrize("agg_type", mpdta.AGGREGATIONS)
def test_aggregations_match_r(
    fits: dict, rows: list[Comparison], scenario: str, agg_type: str
) -> None:
    agg_rows = [r for r in rows if r.study == scenario and r.group == f"{agg_type} aggregation"]
    ref = _read(mpdta.AGGTE)
    ref = ref[(ref["scenario"] == scenario) & (ref["type"] == agg_type)]
    levels = 0 if agg_type == "simple" else len(ref)
    assert len(agg_rows) == 2 + 2 * levels
    assert agg_rows[0].quantity == "overall ATT" and agg_rows[0].tolerance == mpdta.ATT_TOL
    _assert_within(agg_rows)
    if agg_type != "simple":
        ours = fits[scenario].aggregate(agg_type).levels[mpdta.LEVEL_COLUMN[agg_type]]
        assert list(ours) == list(ref["egt"].astype(int))


def test_pretest_matches_r(fits: dict, rows: list[Comparison]) -> None:
    assert fits["mpdta_nev_dr"].pretest.df == 5
    pre = [r for r in rows if r.group == "pre-trend Wald test (5 df)"]
    assert [(r.quantity, r.reference, r.tolerance) for r in pre] == [
        ("Wald statistic W", 7.791, 0.0005),
        ("p-value", 0.168, 0.0005),
    ]
    assert pre[0].evaltk == fits["mpdta_nev_dr"].pretest.statistic
    _assert_within(pre)


def test_headline_figures_of_readme(fits: dict, rows: list[Comparison]) -> None:
    res = fits["mpdta_nev_dr"]
    assert round(res.aggregate("simple").estimate, 4) == -0.0400
    assert round(res.aggregate("simple").std_error, 4) == 0.0120
    assert round(res.aggregate("group").estimate, 4) == -0.0310
    assert round(res.aggregate("dynamic").estimate, 4) == -0.0772
    headline = [r for r in rows if r.group == "headline figures (reference README)"]
    assert len(headline) == 6
    assert headline[0].evaltk == res.aggregate("simple").estimate
    _assert_within(headline)
