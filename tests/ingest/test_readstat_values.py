"""SPSS and Stata columns decoded by column equal pyreadstat's own labels and dates.

Staging reads raw codes and date numbers and decodes them in numpy (evaltk.ingest
.readstat_values); the reference is what pyreadstat gives with ``apply_value_formats`` and
its date conversion, converted by the same staging rules. Chunks of 7 rows put chunk
boundaries inside runs of values (and a last, short chunk).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest

from evaltk.errors import DataError
from evaltk.ingest import readers, readstat_values
from evaltk.ingest.readers import _as_kind, _as_text, read_columns, stage

ROWS = 53  # not a multiple of the 7-row chunks


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    n = ROWS
    # Date-times with fractional seconds, before 1970 and after, some missing.
    seconds = rng.integers(-(2 * 10**9), 2 * 10**9, n) + rng.choice([0, 0.25, 0.5, 0.9999996], n)
    stamps = pd.Series(pd.to_datetime(seconds, unit="s").astype("datetime64[us]"))
    stamps[rng.random(n) < 0.15] = pd.NaT
    days = pd.Series(
        [dt.date(1900, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 60_000, n)],
        dtype=object,
    )
    days[rng.random(n) < 0.1] = None
    flag = rng.choice([0.0, 1.0, 2.0, np.nan], n)  # 2 has no label: kept as the value
    code = rng.choice(["A", "B", " c", ""], n)
    return pd.DataFrame(
        {"stamp": stamps, "day": days, "flag": flag, "code": code, "n": rng.normal(size=n)}
    )


LABELS = {"flag": {0.0: "No", 1.0: " Yes"}, "code": {"A": "Alpha", "B": ""}}


def _reference(path, fmt, columns) -> pa.Table:
    """pyreadstat's own labels and dates, through the staging conversion."""
    reader = readers._readstat_reader(fmt)
    labels = {"apply_value_formats": True, "formats_as_category": False} if fmt != "xpt" else {}
    frame, _ = reader(str(path), usecols=columns, dates_as_pandas_datetime=True, **labels)
    kinds = {c.name: c.kind for c in read_columns(path, fmt)}
    arrays = []
    for c in columns:
        try:
            arrays.append(_as_kind(frame[c], kinds[c], path))
        except readers._Retype:  # times of day are not numbers: staged as text
            arrays.append(_as_text(frame[c]))
    # Labels and codes come as dictionary arrays; the staged file reads back as plain text.
    plain = [a.dictionary_decode() if pa.types.is_dictionary(a.type) else a for a in arrays]
    return pa.Table.from_arrays(plain, names=columns)


def _staged(path, fmt, columns, tmp_path, monkeypatch) -> pa.Table:
    monkeypatch.setattr(readers, "CHUNK_ROWS", 7)
    kinds = {c.name: c.kind for c in read_columns(path, fmt)}
    return pq.read_table(stage(path, fmt, columns, tmp_path / "cache", kinds=kinds))


def test_spss_labels_and_dates_by_column_equal_pyreadstat(tmp_path, monkeypatch):
    frame = _frame()
    # Raw SPSS seconds (from 1582-10-14) with fractions that are not whole microseconds,
    # so that pyreadstat's rounding of the microseconds is what is compared.
    rng = np.random.default_rng(9)
    seconds = rng.uniform(1.0e10, 1.4e10, ROWS)
    seconds[::5] = np.round(seconds[::5]) + 0.4999995  # near a half microsecond
    seconds[::11] = np.nan
    frame["raw"] = seconds
    path = tmp_path / "e.sav"
    pyreadstat.write_sav(
        frame,
        str(path),
        variable_value_labels=LABELS,
        variable_format={"day": "ADATE10", "raw": "DATETIME23.2"},
    )
    columns = ["stamp", "day", "raw", "flag", "code", "n"]
    _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    plan = readstat_values.plan("sav", meta, columns)
    assert plan is not None
    assert plan.dates == {"stamp": "datetime", "day": "date", "raw": "datetime"}
    assert set(plan.labels) == {"flag", "code"}
    staged = _staged(path, "sav", columns, tmp_path, monkeypatch)
    assert staged.num_rows == ROWS
    assert staged.equals(_reference(path, "sav", columns))
    # Spot values: a label is trimmed, an unlabelled code is kept, an empty label is missing.
    flags = dict(zip(frame["flag"].tolist(), staged["flag"].to_pylist(), strict=True))
    assert flags[1.0] == "Yes" and flags[2.0] == "2" and flags[0.0] == "No"
    codes = dict(zip(frame["code"].tolist(), staged["code"].to_pylist(), strict=True))
    assert codes == {"A": "Alpha", "B": None, " c": "c", "": None}


def test_stata_dates_and_labels_by_column_equal_pyreadstat(tmp_path, monkeypatch):
    frame = _frame()
    # Stata keeps date-times in milliseconds.
    frame["stamp"] = frame["stamp"].dt.floor("ms")
    path = tmp_path / "e.dta"
    pyreadstat.write_dta(frame, str(path), variable_value_labels={"flag": {0: "No", 1: "Yes"}})
    columns = ["stamp", "day", "flag", "n"]
    _, meta = pyreadstat.read_dta(str(path), metadataonly=True)
    plan = readstat_values.plan("dta", meta, columns)
    assert plan is not None and plan.dates == {"stamp": "datetime", "day": "date"}
    staged = _staged(path, "dta", columns, tmp_path, monkeypatch)
    assert staged.equals(_reference(path, "dta", columns))


def test_a_time_of_day_column_is_left_to_pyreadstat(tmp_path, monkeypatch):
    frame = pd.DataFrame({"t": [3600.0, 45296.0, np.nan] * 5, "x": [1.0, 2.0, 3.0] * 5})
    path = tmp_path / "t.sav"
    pyreadstat.write_sav(frame, str(path), variable_format={"t": "TIME8"})
    _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    assert readstat_values.plan("sav", meta, ["t", "x"]) is None
    assert readstat_values.plan("sav", meta, ["x"]) is not None
    staged = _staged(path, "sav", ["t", "x"], tmp_path, monkeypatch)
    assert staged.equals(_reference(path, "sav", ["t", "x"]))


def test_a_date_beyond_year_9999_names_row_and_column():
    plan = readstat_values.Plan("sav", {}, {"when": "datetime"})
    raw = pd.DataFrame({"when": [0.0, 1e13, np.nan]})  # 1e13 s after 1582: year ~318,000
    with pytest.raises(DataError) as caught:
        readstat_values.decode(raw, plan, "e.sav", first_row=15)
    assert str(caught.value) == (
        "e.sav: row 16, column 'when': a date outside the years 1 to 9999; correct or blank "
        "it in the file"
    )


def test_sas_transport_dates_by_column_equal_pyreadstat(tmp_path, monkeypatch):
    frame = _frame().drop(columns=["code"])
    frame["stamp"] = frame["stamp"].dt.floor("ms")
    path = tmp_path / "e.xpt"
    pyreadstat.write_xport(frame, str(path))
    columns = ["stamp", "day", "flag", "n"]
    _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
    plan = readstat_values.plan("xpt", meta, columns)
    assert plan is not None and plan.dates == {"stamp": "datetime", "day": "date"}
    staged = _staged(path, "xpt", columns, tmp_path, monkeypatch)
    assert staged.num_rows == ROWS
    assert staged.equals(_reference(path, "xpt", columns))
