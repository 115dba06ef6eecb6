"""A corpus of bad inputs: each gives a clear one-line error (never a traceback, never a
results/ folder) or a documented exclusion in the row accounting."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import FORCE_DATA, KEY, analysis, force_style, write_sav
from typer.testing import CliRunner

from evaltk.cli import app
from evaltk.measures import build_panel
from evaltk.protocol import load_protocol

CANON = {"kind": "episodes", "population": "data/population.csv"}


def _csv(frame, folder, name="e.csv", **kw):
    frame.to_csv(folder / "data" / name, index=False, **kw)


def _sav(frame, folder, name="e.sav"):
    write_sav(frame, folder / "data" / name)


def _truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


# Each case: (id, data block, writer(base, folder), expected pattern in the error, env key?)
def _cases():
    c = []

    def add(name, data, write, pattern, key=True, args=()):
        c.append(pytest.param(data, write, pattern, key, args, id=name))

    sav = {**FORCE_DATA, "path": "data/e.sav"}
    csv = {**CANON, "path": "data/e.csv"}
    add(
        "sav-truncated",
        sav,
        lambda b, f: (_sav(force_style(b), f), _truncate(f / "data/e.sav")),
        r"cannot read it as SPSS|reading failed",
    )
    add(
        "sav-truncated-header",
        sav,
        lambda b, f: (_sav(force_style(b), f), _truncate(f / "data/e.sav", 0.001)),
        r"cannot read it as SPSS",
    )
    add("sav-empty", sav, lambda b, f: (f / "data/e.sav").write_bytes(b""), r"empty")
    add(
        "sav-not-spss",
        sav,
        lambda b, f: (f / "data/e.sav").write_text("hello"),
        r"cannot read it as SPSS",
    )
    add(
        "sav-missing-column",
        sav,
        lambda b, f: _sav(force_style(b).drop(columns=["S136"]), f),
        r"missing column 'S136'",
    )
    add(
        "sav-unlabelled-flags",
        {**sav, "codes": {}},
        lambda b, f: _sav(force_style(b), f),
        r"expected true/false",
    )
    add(
        "sav-raw-ids-no-key",
        sav,
        lambda b, f: _sav(force_style(b), f),
        r"no linkage key",
        key=False,
    )
    add("sav-short-key", sav, lambda b, f: _sav(force_style(b), f), r"too short", key="short")
    add(
        "key-file-missing",
        sav,
        lambda b, f: _sav(force_style(b), f),
        r"cannot read the linkage key file",
        key=False,
        args=("--key-file", "/nonexistent/k"),
    )
    add(
        "dta-truncated",
        {**sav, "path": "data/e.dta"},
        lambda b, f: (f / "data/e.dta").write_bytes(b"<stata_dta><header>"),
        r"cannot read it as Stata",
    )
    add(
        "sas-garbage",
        {**sav, "path": "data/e.sas7bdat"},
        lambda b, f: (f / "data/e.sas7bdat").write_bytes(bytes(range(256)) * 8),
        r"cannot read it as SAS",
    )
    add(
        "xpt-garbage",
        {**sav, "path": "data/e.xpt"},
        lambda b, f: (f / "data/e.xpt").write_bytes(b"HEADER RECORD" * 50),
        r"cannot read it as SAS transport",
    )
    add(
        "xlsx-corrupt",
        {**sav, "path": "data/e.xlsx"},
        lambda b, f: (f / "data/e.xlsx").write_bytes(b"PK\x03\x04garbage"),
        r"Excel",
    )
    add(
        "xlsx-wrong-sheet",
        {**sav, "path": "data/e.xlsx", "sheet": "Incidents"},
        lambda b, f: force_style(b.head(50)).to_excel(f / "data/e.xlsx", index=False),
        r"Incidents|worksheet",
    )
    add(
        "xlsx-missing-column",
        {**sav, "path": "data/e.xlsx"},
        lambda b, f: (
            force_style(b.head(50))
            .drop(columns=["Logged"])
            .to_excel(f / "data/e.xlsx", index=False)
        ),
        r"missing column 'Logged'",
    )
    add(
        "xls-unknown-extension",
        {**csv, "path": "data/e.xls"},
        lambda b, f: (f / "data/e.xls").write_bytes(b"x"),
        r"data.format",
    )
    add("missing-file", {**csv, "path": "data/nothere.csv"}, lambda b, f: None, r"not found")
    add("path-is-folder", {**csv, "path": "data"}, lambda b, f: None, r"not found")
    add("csv-empty", csv, lambda b, f: (f / "data/e.csv").write_bytes(b""), r"empty")
    add("csv-header-only", csv, lambda b, f: _csv(b.head(0), f), r"no rows for unit")
    add(
        "csv-missing-column",
        csv,
        lambda b, f: _csv(b.drop(columns=["s136"]), f),
        r"missing column 's136'",
    )
    add(
        "csv-latin1-without-encoding",
        csv,
        lambda b, f: _csv(
            b.assign(referral=b["referral"].where(b.index != 5, "crèche")), f, encoding="latin-1"
        ),
        r"e\.csv",
    )
    add(
        "csv-wrong-declared-encoding",
        {**csv, "encoding": "utf-16"},
        lambda b, f: _csv(b, f),
        r"e\.csv",
    )
    add(
        "csv-binary",
        csv,
        lambda b, f: (f / "data/e.csv").write_bytes(
            b"episode_id,force,timestamp\n" + bytes(range(256)) * 40
        ),
        r"e\.csv",
    )
    add(
        "csv-upper-case-headers",
        csv,
        lambda b, f: _csv(b.rename(columns=str.upper), f),
        r"missing column.*case differs",
    )
    add(
        "csv-ragged",
        csv,
        lambda b, f: (f / "data/e.csv").write_text(
            b.head(20).to_csv(index=False)
            + "x,y\n"
            + b.iloc[20:40].to_csv(index=False, header=False)
        ),
        r"e\.csv",
    )
    add(
        "csv-mixed-date-formats",
        {**csv, "date_format": "%d/%m/%Y %H:%M:%S"},
        lambda b, f: _csv(
            b.assign(
                timestamp=b["timestamp"]
                .dt.strftime("%d/%m/%Y %H:%M:%S")
                .where(b.index % 7 != 3, b["timestamp"].astype(str))
            ),
            f,
        ),
        r"row \d+.*'timestamp'.*data.date_format",
    )
    add(
        "csv-us-dates",
        csv,
        lambda b, f: _csv(b.assign(timestamp=b["timestamp"].dt.strftime("%m/%d/%Y %H:%M")), f),
        r"'timestamp'",
    )
    add(
        "csv-excel-serial-dates",
        csv,
        lambda b, f: _csv(b.assign(timestamp=42461.5), f),
        r"'timestamp'",
    )
    add("csv-bool-garbage", csv, lambda b, f: _csv(b.assign(s136="maybe"), f), r"'s136'")
    add(
        "csv-text-minutes",
        csv,
        lambda b, f: _csv(b.assign(officer_minutes="ten"), f),
        r"'officer_minutes'",
    )
    add(
        "csv-negative-minutes-many",
        csv,
        lambda b, f: _csv(b.assign(officer_minutes=-5.0), f),
        r"negative duration",
    )
    add(
        "csv-duplicate-ids-many",
        csv,
        lambda b, f: _csv(b.assign(episode_id=b["episode_id"].str[:-2]), f),
        r"duplicate episode id",
    )
    add(
        "csv-missing-ids-many",
        csv,
        lambda b, f: _csv(b.assign(episode_id=np.nan), f),
        r"episode id missing",
    )
    add(
        "csv-unmapped-codes",
        csv,
        lambda b, f: _csv(b.assign(referral="CMHT"), f),
        r"code not allowed",
    )
    add(
        "csv-other-force-only",
        csv,
        lambda b, f: _csv(b.assign(force="E23000020"), f),
        r"no rows for unit",
    )
    add(
        "csv-all-outside-window",
        csv,
        lambda b, f: _csv(b.assign(timestamp=pd.Timestamp("2030-01-01")), f),
        # Wholly after the window: the window starts before the extract.
        r"window\.start 2014-01-01 is before the first incident in data/e\.csv \(2030-01\)",
    )
    add(
        "csv-no-timestamps",
        csv,
        lambda b, f: _csv(b.assign(timestamp=np.nan), f),
        r"no rows for unit|timestamp missing",
    )
    add(
        "parquet-truncated",
        {**csv, "path": "data/e.parquet"},
        lambda b, f: (b.to_parquet(f / "data/e.parquet"), _truncate(f / "data/e.parquet")),
        r"e\.parquet",
    )
    add("protocol-unknown-format", {**csv, "format": "spss"}, lambda b, f: _csv(b, f), r"format")
    add(
        "protocol-codes-unknown-field",
        {**csv, "codes": {"mh_flag": {"Y": True}}},
        lambda b, f: _csv(b, f),
        r"mh_flag",
    )
    add(
        "protocol-share-above-one",
        {**csv, "max_excluded_share": 2},
        lambda b, f: _csv(b, f),
        r"max_excluded_share",
    )
    add(
        "protocol-bad-identifiers",
        {**csv, "identifiers": "hashed"},
        lambda b, f: _csv(b, f),
        r"identifiers",
    )
    _admission_and_linkage_cases(add, csv)
    return c


def _ambulance(b, f, **changes):
    """An ambulance extract for linkage cases: one record per conveyed incident, 1 h later."""
    conveyed = b[b["ambulance_conveyance"]]
    frame = pd.DataFrame(
        {
            "cad": [f"A{i}" for i in range(len(conveyed))],
            "nhs": conveyed["person_id"].to_numpy(),
            "time": (conveyed["timestamp"] + pd.Timedelta(hours=1)).dt.strftime("%d/%m/%Y %H:%M"),
        }
    )
    frame.assign(**changes).to_csv(f / "data" / "amb.csv", index=False)


def _admission_and_linkage_cases(add, csv):
    add(
        "csv-admission-before-incident-many",
        csv,
        lambda b, f: _csv(b.assign(admission_time=b["timestamp"] - pd.Timedelta(days=1)), f),
        r"admission before incident",
    )
    add(
        "csv-admission-time-garbage",
        csv,
        lambda b, f: _csv(b.assign(admission_time="soon"), f),
        r"row \d+.*'admission_time'",
    )
    amb = {"path": "data/amb.csv", "person": "nhs", "time": "time", "window_hours": [0, 6]}
    linked = {**csv, "linkage": {"agencies": {"ambulance": amb}}}
    add(
        "linked-agency-file-missing",
        linked,
        lambda b, f: _csv(b, f),
        r"ambulance extract not found.*data.linkage.agencies.ambulance.path",
    )
    add(
        "linked-agency-column-missing",
        {**csv, "linkage": {"agencies": {"ambulance": {**amb, "person": "NHS_No"}}}},
        lambda b, f: (_csv(b, f), _ambulance(b, f)),
        r"amb\.csv: no column 'NHS_No' \(data.linkage.agencies.ambulance.person\)",
    )
    add(
        "linked-agency-time-garbage",
        linked,
        lambda b, f: (_csv(b, f), _ambulance(b, f, time="yesterday")),
        r"amb\.csv: row 1: column 'time' \(data.linkage.agencies.ambulance.time\)",
    )
    add(
        "linked-no-key",
        linked,
        lambda b, f: (_csv(b, f), _ambulance(b, f)),
        r"data.linkage links extracts by person: no linkage key",
        key=False,
    )
    add(
        "linked-window-reversed",
        {**csv, "linkage": {"agencies": {"ambulance": {**amb, "window_hours": [6, 0]}}}},
        lambda b, f: (_csv(b, f), _ambulance(b, f)),
        r"'from' must be below 'to'",
    )
    add(
        "linked-flag-also-mapped",
        {**linked, "columns": {"linked_ambulance": "amb_flag"}},
        lambda b, f: (_csv(b, f), _ambulance(b, f)),
        r"maps linked_ambulance, which data.linkage derives",
    )


@pytest.mark.parametrize(("data", "write", "pattern", "key", "args"), _cases())
def test_bad_input_is_one_clear_line(
    tmp_path, simulated, base, monkeypatch, data, write, pattern, key, args
):
    monkeypatch.delenv("EVALTK_LINK_KEY", raising=False)
    monkeypatch.delenv("EVALTK_LINK_KEY_FILE", raising=False)
    if key is True:
        monkeypatch.setenv("EVALTK_LINK_KEY", KEY)
    elif key == "short":
        monkeypatch.setenv("EVALTK_LINK_KEY", "abc")
    folder = analysis(tmp_path / "a", simulated, data)
    write(base, folder)
    result = CliRunner().invoke(app, ["run", str(folder), "--exploratory", *args])
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code != 0
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert errors, output
    import re

    assert re.search(pattern, " ".join(errors)), output
    assert not (folder / "results").exists()
    assert not list(folder.glob(".results*"))
    assert KEY not in output


@pytest.mark.parametrize(
    ("change", "reason", "n"),
    [
        (
            lambda b: b.assign(officer_minutes=b["officer_minutes"].where(b.index % 100 != 1, -3)),
            "negative duration",
            None,
        ),
        (
            lambda b: b.assign(episode_id=b["episode_id"].where(b.index % 200 != 2, "dup")),
            "duplicate episode id",
            None,
        ),
        (
            lambda b: b.assign(referral=b["referral"].where(b.index % 100 != 3, "CMHT")),
            "code not allowed",
            None,
        ),
        (
            lambda b: b.assign(timestamp=b["timestamp"].where(b.index % 100 != 4)),
            "timestamp missing",
            None,
        ),
        (
            lambda b: b.assign(episode_id=b["episode_id"].where(b.index % 100 != 5)),
            "episode id missing",
            None,
        ),
        (
            lambda b: b.assign(
                admission_time=(b["timestamp"] + pd.Timedelta(hours=30)).where(
                    b.index % 100 != 6, b["timestamp"] - pd.Timedelta(hours=2)
                )
            ),
            "admission before incident",
            None,
        ),
    ],
    ids=[
        "negative-minutes",
        "duplicate-ids",
        "unmapped-code",
        "no-timestamp",
        "no-episode-id",
        "admission-before-incident",
    ],
)
def test_a_few_bad_rows_are_documented_exclusions(tmp_path, simulated, base, change, reason, n):
    folder = analysis(tmp_path / "a", simulated, {**CANON, "path": "data/e.csv"})
    changed = change(base.copy())
    _csv(changed, folder)
    loaded = load_protocol(folder)
    account = build_panel(loaded.protocol, loaded.folder).accounting
    assert account.excluded[reason] > 0
    assert account.rows_in == len(base)
    assert account.rows_used + sum(account.excluded.values()) == account.rows_in
    json.dumps(account.to_dict())
