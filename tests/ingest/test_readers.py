"""SPSS, Stata, Excel and CSV extracts give the same panel as the canonical parquet file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import FORCE_DATA, KEY, analysis, force_style, write_sav

from evaltk.ingest.describe import describe, render
from evaltk.measures import build_panel
from evaltk.protocol import load_protocol


def _panel(folder):
    loaded = load_protocol(folder)
    return build_panel(loaded.protocol, loaded.folder)


@pytest.fixture()
def reference(tmp_path, simulated, base):
    folder = analysis(
        tmp_path / "ref",
        simulated,
        {"kind": "episodes", "path": "data/e.parquet", "population": "data/population.csv"},
    )
    base.to_parquet(folder / "data" / "e.parquet")
    return _panel(folder)


def _same(panel, reference):
    a, b = panel.frame, reference.frame
    assert list(a["outcome"]) == list(b["outcome"])
    np.testing.assert_allclose(a["numerator"], b["numerator"])
    assert panel.accounting.rows_in == reference.accounting.rows_in
    assert panel.accounting.rows_used == reference.accounting.rows_used


def test_spss_with_labels_codes_and_raw_ids_matches_parquet(
    tmp_path, simulated, base, reference, monkeypatch
):
    monkeypatch.setenv("EVALTK_LINK_KEY", KEY)
    folder = analysis(tmp_path / "sav", simulated, {**FORCE_DATA, "path": "data/e.sav"})
    write_sav(force_style(base), folder / "data" / "e.sav")
    _same(_panel(folder), reference)
    staged = list((folder / ".cache").glob("*.parquet"))
    assert len(staged) == 1
    # The staged copy holds pseudonyms only: no NHS number survives.
    assert not set(pd.read_parquet(staged[0])["NHS_Number"]) & set(base["person_id"])
    _same(_panel(folder), reference)  # second run reuses the cache
    assert len(list((folder / ".cache").glob("*.parquet"))) == 1


def test_stata_and_excel(tmp_path, simulated, base, reference, monkeypatch):
    import pyreadstat

    monkeypatch.setenv("EVALTK_LINK_KEY", KEY)
    styled = force_style(base)
    for name in FORCE_DATA["codes"]:
        if name != "referral":
            styled[name.upper()] = styled[name.upper()].map({1.0: "Yes", 0.0: "No"})
    folder = analysis(tmp_path / "dta", simulated, {**FORCE_DATA, "path": "data/e.dta"})
    pyreadstat.write_dta(styled, str(folder / "data" / "e.dta"))
    _same(_panel(folder), reference)
    small = base[base["timestamp"] < "2016-12-31"].reset_index(drop=True)
    folder = analysis(
        tmp_path / "xlsx",
        simulated,
        {**FORCE_DATA, "path": "data/e.xlsx"},
        window={"start": "2014-01-01", "end": "2016-12-31"},
    )
    force_style(small).assign(
        **{
            n.upper(): force_style(small)[n.upper()].map({1.0: "Yes", 0.0: "No"})
            for n in FORCE_DATA["codes"]
            if n != "referral"
        }
    ).to_excel(folder / "data" / "e.xlsx", index=False)
    panel = _panel(folder)
    assert panel.accounting.rows_in == len(small)


def test_uk_date_format_csv(tmp_path, simulated, base, reference):
    frame = base.copy()
    frame["timestamp"] = frame["timestamp"].dt.strftime("%d/%m/%Y %H:%M:%S")
    folder = analysis(
        tmp_path / "csv",
        simulated,
        {
            "kind": "episodes",
            "path": "data/e.csv",
            "population": "data/population.csv",
            "date_format": "%d/%m/%Y %H:%M:%S",
        },
    )
    frame.to_csv(folder / "data" / "e.csv", index=False)
    _same(_panel(folder), reference)


def test_describe_withholds_identifiers(tmp_path, base):
    path = tmp_path / "e.sav"
    write_sav(force_style(base.head(500)), path)
    fmt, reports = describe(path)
    text = render(path, fmt, reports)
    assert "NHS_Number" in text and "withheld (person identifier)" in text
    assert not any(pid in text for pid in base.head(500)["person_id"])
    assert "1 = Yes" in text
