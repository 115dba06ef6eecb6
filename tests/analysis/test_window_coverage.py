"""The window and the data must agree: a window beyond the extract is refused, and a unit-month
without a single incident is missing (flagged, NaN), never a month of zero events."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd
import pytest

from evaltk.analysis.run import run_analysis
from evaltk.cli.progress import without_steps
from tests.analysis.test_run import cli

EVALTK = Path(sys.executable).parent / "evaltk"


def _keep(analysis_dir: Path, keep) -> None:  # type: ignore[no-untyped-def]
    path = analysis_dir / "data" / "episodes.parquet"
    episodes = pd.read_parquet(path)
    episodes[keep(episodes["timestamp"])].to_parquet(path)


@pytest.mark.parametrize(
    ("keep", "expected"),
    [
        (
            lambda t: t < pd.Timestamp("2019-07-01"),
            "analysis.yaml: window.end 2019-12-31 is after the last incident in "
            "data/episodes.parquet (2019-06); end the window at the extract's last month or "
            "send a longer extract",
        ),
        (
            lambda t: t >= pd.Timestamp("2014-03-01"),
            "analysis.yaml: window.start 2014-01-01 is before the first incident in "
            "data/episodes.parquet (2014-03); start the window at the extract's first month or "
            "send a longer extract",
        ),
    ],
    ids=["ends-after-the-extract", "starts-before-the-extract"],
)
def test_window_beyond_the_extract_is_refused_and_writes_nothing(
    analysis_dir: Path,
    keep,  # type: ignore[no-untyped-def]
    expected: str,
) -> None:
    _keep(analysis_dir, keep)
    done = cli("run", analysis_dir)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert without_steps(done.stderr) == [f"error: {expected}"]
    assert not (analysis_dir / "results").exists()


def test_a_unit_month_without_incidents_is_flagged_and_missing(analysis_dir: Path) -> None:
    # The force's August 2016 is lost from the extract: every outcome that month is missing.
    _keep(
        analysis_dir, lambda t: (t < pd.Timestamp("2016-08-01")) | (t >= pd.Timestamp("2016-09-01"))
    )
    result = run_analysis(analysis_dir)
    assert result.data.empty_months == ["E23000019 2016-08"]
    written = (analysis_dir / "results" / "results.json").read_text()
    assert '"empty_months": [\n      "E23000019 2016-08"\n    ]' in written
    panel = pd.read_csv(analysis_dir / "results" / "panel.csv", parse_dates=["period"])
    august = panel[panel["period"] == "2016-08-01"]
    assert len(august) == len(result.outcomes)
    assert august["numerator"].isna().all() and august["value"].isna().all()
    july = panel[panel["period"] == "2016-07-01"]
    assert july["numerator"].notna().all()
    # The estimates leave the month out rather than reading it as a fall to zero.
    for outcome in result.outcomes:
        assert outcome.n_periods == 71, outcome.outcome
        assert outcome.estimate is not None and math.isfinite(outcome.estimate)
