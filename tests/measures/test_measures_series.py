"""read_series: a ready unit x month series, checked row by row, into the same Panel."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from measures_helpers import UNIT_A, UNIT_B

from evaltk.errors import DataError
from evaltk.measures import build_panel, read_series
from evaltk.protocol.spec import Protocol


def series_protocol(
    data: dict, *, units=(UNIT_A,), start="2016-01-01", end="2016-04-30", outcomes=("events",)
) -> Protocol:
    started = (pd.Timestamp(start).to_period("M") + 1).to_timestamp().date().isoformat()
    return Protocol.model_validate(
        {
            "title": "series test",
            "intervention": {"kind": "other", "start": dict.fromkeys(units, started)},
            "units": list(units),
            "data": {"kind": "series", "path": "series.csv", **data},
            "outcomes": [
                {
                    "id": o,
                    "label": o,
                    "role": "primary" if i == 0 else "secondary",
                    "class": "resolution",
                    "direction": "decrease",
                }
                for i, o in enumerate(outcomes)
            ],
            "design": {"kind": "its"},
            "window": {"start": start, "end": end},
        }
    )


def write_series(folder: Path, text: str) -> None:
    (folder / "series.csv").write_text(text.strip() + "\n")


def _sicily(tmp_path: Path, reference_dir: Path, end: str) -> Protocol:
    shutil.copy(reference_dir / "sicily.csv", tmp_path / "series.csv")
    return series_protocol(
        {"year": "year", "month": "month", "outcomes": {"aces": "aces"}, "exposure": "stdpop"},
        start="2002-01-01",
        end=end,
        outcomes=("aces",),
    )


@pytest.mark.reference
def test_sicily_window_beyond_the_series_is_an_error(tmp_path, reference_dir):
    # The file has 59 months (2002-01..2006-11); a window to December runs past it.
    p = _sicily(tmp_path, reference_dir, "2006-12-31")
    with pytest.raises(
        DataError,
        match=r"^analysis\.yaml: window\.end 2006-12-31 is after the last month in series\.csv "
        r"\(2006-11\); end the window",
    ):
        read_series(p, tmp_path)


@pytest.mark.reference
def test_sicily_reference_series(tmp_path, reference_dir):
    p = _sicily(tmp_path, reference_dir, "2006-11-30")
    panel = read_series(p, tmp_path)
    raw = pd.read_csv(reference_dir / "sicily.csv")
    frame = panel.frame
    assert len(frame) == 59 and (frame["unit"] == UNIT_A).all()
    assert frame["numerator"].tolist() == raw["aces"].astype(float).tolist()
    assert frame["denominator"].tolist() == raw["stdpop"].tolist()
    assert frame["value"].tolist() == pytest.approx((raw["aces"] / raw["stdpop"] * 1e5).tolist())
    assert frame["period"].iloc[36] == pd.Timestamp("2005-01-01")  # time 37, the smoking ban
    assert panel.accounting.rows_in == panel.accounting.rows_used == 59
    pd.testing.assert_frame_equal(build_panel(p, tmp_path).frame, frame)


def test_counts_without_exposure_with_units_and_period_column(tmp_path):
    write_series(
        tmp_path,
        f"""
area,month_start,events,other
{UNIT_A},2016-01-01,5,1
{UNIT_A},2016-02-01,6,2
{UNIT_B},2016-01-15,7,3
{UNIT_B},2016-02-01,8,4
X9,2016-01-01,9,5
{UNIT_A},2015-12-01,10,6
{UNIT_A},,11,7
""",
    )
    p = series_protocol(
        {
            "unit": "area",
            "period": "month_start",
            "outcomes": {"events": "events", "other": "other"},
        },
        units=(UNIT_A, UNIT_B),
        end="2016-02-29",
        outcomes=("events", "other"),
    )
    panel = read_series(p, tmp_path)
    assert panel.aggregates == {"events": "count", "other": "count"}
    events = panel.frame[panel.frame["outcome"] == "events"]
    assert events["numerator"].tolist() == [5, 6, 7, 8]
    assert events["value"].tolist() == [5, 6, 7, 8]
    assert events["denominator"].isna().all()
    assert panel.series("other")["value"].tolist() == [4, 6]
    assert panel.accounting.rows_in == 7 and panel.accounting.rows_used == 4
    assert panel.accounting.excluded == {
        "period missing": 1,
        "unit not in protocol": 1,
        "outside analysis window": 1,
    }


def test_measure_per_is_used_for_series_rates(tmp_path):
    write_series(tmp_path, "year,month,events,pop\n2016,1,5,1000\n2016,2,6,2000")
    p = series_protocol(
        {"year": "year", "month": "month", "outcomes": {"events": "events"}, "exposure": "pop"},
        end="2016-02-29",
    )
    assert read_series(p, tmp_path).frame["value"].tolist() == pytest.approx([500, 300])


def fails(tmp_path, p, *patterns):
    with pytest.raises(DataError) as caught:
        read_series(p, tmp_path)
    message = str(caught.value)
    assert "series.csv" in message and "\n" not in message
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"


YM = {"year": "year", "month": "month", "outcomes": {"events": "events"}}


def test_series_errors(tmp_path):
    p = series_protocol(YM, end="2016-02-29")
    fails(tmp_path, p, "series file not found")
    write_series(tmp_path, "year,month,count\n2016,1,5")
    fails(tmp_path, p, "'events' \\(from data.outcomes.events\\) missing")
    write_series(tmp_path, "year,month,events\n2016,1,5\n2016,13,6")
    fails(tmp_path, p, r"data row 2 \(line 3\)", "month 1-12")
    write_series(tmp_path, "year,month,events\n2016,1,5\n2016,2,lots")
    fails(tmp_path, p, r"data row 2", "'lots'")
    write_series(tmp_path, "year,month,events\n2016,1,5\n2016,1,6\n2016,2,6")
    fails(tmp_path, p, r"data row 2", "given twice")
    write_series(tmp_path, "year,month,events\n2016,1,5")
    fails(tmp_path, p, "window.end 2016-02-29 is after the last month", r"\(2016-01\)")
    write_series(tmp_path, "year,month,events\n2016,2,5\n2016,3,5")
    fails(tmp_path, p, "window.start 2016-01-01 is before the first month", r"\(2016-02\)")
    write_series(tmp_path, "period,events\n2016-01-01,5\nlast spring,6")
    fails(
        tmp_path,
        series_protocol({"period": "period", "outcomes": {"events": "events"}}),
        r"data row 2",
        "'last spring'",
    )
    write_series(tmp_path, "year,month,events,pop\n2016,1,5,0\n2016,2,6,10")
    fails(tmp_path, series_protocol({**YM, "exposure": "pop"}, end="2016-02-29"), "positive")
    fails(tmp_path, series_protocol(YM, units=(UNIT_A, UNIT_B)), "no unit column", "data.unit")


def test_a_month_missing_inside_the_series_is_missing_not_zero(tmp_path):
    # UNIT_B has no row for 2016-02: NaN in its panel and in the pooled series, and listed.
    write_series(
        tmp_path,
        f"""
area,year,month,events
{UNIT_A},2016,1,5
{UNIT_A},2016,2,6
{UNIT_A},2016,3,7
{UNIT_B},2016,1,1
{UNIT_B},2016,3,2
""",
    )
    p = series_protocol({**YM, "unit": "area"}, units=(UNIT_A, UNIT_B), end="2016-03-31")
    panel = read_series(p, tmp_path)
    assert panel.empty_months == (f"{UNIT_B} 2016-02",)
    b = panel.frame[panel.frame["unit"] == UNIT_B]
    assert b["numerator"].tolist()[0] == 1 and b["numerator"].tolist()[2] == 2
    assert pd.isna(b["numerator"].tolist()[1]) and pd.isna(b["value"].tolist()[1])
    pooled = panel.series("events")["value"].tolist()
    assert pooled[0] == 6 and pooled[2] == 9 and pd.isna(pooled[1])
    assert panel.series("events", units=[UNIT_A])["value"].tolist() == [5, 6, 7]
