"""The DuckDB engine settings, time zones and whole-month windows."""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
from measures_helpers import UNIT_A, episodes, protocol, values, write

from evaltk.ingest.engine import connect
from evaltk.measures import EngineSettings, compute_panel
from evaltk.measures.grid import window_months
from evaltk.protocol.spec import Window


def test_default_settings_use_every_core_and_a_bounded_memory_limit():
    settings = EngineSettings()
    assert settings.resolved_threads() == (os.cpu_count() or 1)
    con = connect(settings)
    assert con.execute("SELECT current_setting('threads')").fetchone() == (
        settings.resolved_threads(),
    )
    number, unit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0].split()
    assert float(number) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[unit] <= 3 * 2**30


def test_settings_are_passed_through(tmp_path):
    con = connect(EngineSettings(threads=1, memory_limit="512MiB"))
    assert con.execute("SELECT current_setting('threads')").fetchone() == (1,)
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0].startswith("512")
    write(tmp_path, episodes({"timestamp": "2016-01-05"}, {"timestamp": "2016-02-05"}))
    p = protocol([{"id": "n", "measure": {"aggregate": "count"}}], end="2016-02-29")
    panel = compute_panel(p, tmp_path, settings=EngineSettings(threads=1, memory_limit="512MiB"))
    assert values(panel, "n") == [1, 1]


def test_window_is_whole_months_inclusive():
    window = Window(start=dt.date(2014, 1, 15), end=dt.date(2014, 3, 2))
    assert list(window_months(window)) == list(pd.date_range("2014-01-01", "2014-03-01", freq="MS"))


def test_time_zone_aware_timestamps_are_uk_local_time(tmp_path):
    # 23:30 UTC on 30 June is 00:30 BST on 1 July: outside a window ending in June.
    table = episodes(
        {"timestamp": "2016-06-30 23:30"},
        {"timestamp": "2016-01-31 23:30"},
        {"timestamp": "2016-02-10 12:00"},
    )
    table["timestamp"] = table["timestamp"].dt.tz_localize("UTC")
    write(tmp_path, table)
    p = protocol([{"id": "n", "measure": {"aggregate": "count"}}], end="2016-02-29")
    panel = compute_panel(p, tmp_path)
    # GMT in winter: 23:30 UTC on 31 January stays in January.
    assert values(panel, "n", unit=UNIT_A) == [1, 1]
    assert panel.accounting.excluded["outside analysis window"] == 1
