"""``evaltk validate`` checks an analysis's data files before any run (issue 20, item 4).

A small hand-written extract (CSV, two incidents a month, 2014-2019) and population table
beside a copy of the street-triage example; each test breaks one thing and asserts the exact
line printed, the exit code, and that nothing was written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from evaltk.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
UNIT = "E23000019"
runner = CliRunner()


@pytest.fixture()
def analysis(tmp_path: Path) -> Path:
    (tmp_path / "protocols").mkdir()
    shutil.copyfile(
        ROOT / "protocols" / "street-triage-its.yaml",
        tmp_path / "protocols" / "street-triage-its.yaml",
    )
    folder = tmp_path / "analyses" / "my-force"
    (folder / "data").mkdir(parents=True)
    text = (ROOT / "analyses" / "example-street-triage" / "analysis.yaml").read_text()
    (folder / "analysis.yaml").write_text(text.replace("data/episodes.parquet", "data/ep.csv"))
    rows = [
        {
            "episode_id": f"e{i}{k}",
            "force": UNIT,
            "timestamp": f"{month + pd.Timedelta(days=3 + k):%Y-%m-%d} 14:30",
            "person_id": f"p{k}",
            "s136": "false",
            "place_of_safety": "",
            "ae_conveyance": "false",
            "ambulance_conveyance": "false",
            "hospital_wait_minutes": "0",
            "referral": "none",
            "missing_person": "false",
            "officer_minutes": "60",
        }
        for i, month in enumerate(pd.date_range("2014-01-01", "2019-12-01", freq="MS"))
        for k in range(2)
    ]
    pd.DataFrame(rows).to_csv(folder / "data" / "ep.csv", index=False)
    population = [{"force": UNIT, "year": y, "population": 1_000_000} for y in range(2014, 2020)]
    pd.DataFrame(population).to_csv(folder / "data" / "population.csv", index=False)
    return folder


def _validate(folder: Path, *options: str) -> tuple[int, str]:
    result = runner.invoke(app, ["validate", str(folder), *options], env={"COLUMNS": "500"})
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _error(folder: Path) -> str:
    before = sorted(p.name for p in folder.rglob("*"))
    code, output = _validate(folder)
    assert code == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert sorted(p.name for p in folder.rglob("*")) == before  # nothing written
    return lines[0]


def _edit(folder: Path, old: str, new: str) -> None:
    path = folder / "analysis.yaml"
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))


def test_a_whole_analysis_passes_and_says_what_was_checked(analysis: Path) -> None:
    code, output = _validate(analysis)
    assert code == 0, output
    data = (analysis / "data").resolve()
    assert output.splitlines()[1:] == [
        f"ok: {data / 'ep.csv'}: 12 mapped columns present; rows of {UNIT} from 2014-01 to "
        "2019-12 cover the window.",
        f"ok: {data / 'population.csv'}: population for every unit, 2014 to 2019.",
    ]
    assert not (analysis / ".cache").exists()


def test_a_data_path_that_does_not_exist(analysis: Path) -> None:
    _edit(analysis, "data/ep.csv", "data/episodes.csv")
    assert _error(analysis) == (
        f"error: {(analysis / 'data' / 'episodes.csv').resolve()}: episode file not found; "
        f"check data.path ('data/episodes.csv', relative to {analysis})"
    )


def test_no_data_skips_the_files(analysis: Path) -> None:
    _edit(analysis, "data/ep.csv", "data/episodes.csv")
    code, output = _validate(analysis, "--no-data")
    assert code == 0 and output.splitlines()[-1] == "Data files not checked (--no-data)."


def test_a_format_it_cannot_recognise(analysis: Path) -> None:
    shutil.copyfile(analysis / "data" / "ep.csv", analysis / "data" / "ep.dat")
    _edit(analysis, "data/ep.csv", "data/ep.dat")
    assert _error(analysis) == (
        f"error: {(analysis / 'data' / 'ep.dat').resolve()}: cannot tell the file format from "
        "its extension; set data.format to one of csv, parquet, sav, dta, sas7bdat, xpt, xlsx"
    )


def test_a_mapped_column_missing_from_the_header(analysis: Path) -> None:
    _edit(analysis, "data:\n", "data:\n  columns: {s136: section_136}\n")
    assert _error(analysis).startswith(
        f"error: {(analysis / 'data' / 'ep.csv').resolve()}: missing column 'section_136' for "
        "canonical field 's136' (mapped in data.columns; needed by s136_rate, s136_custody, "
        "s136_to_ae_share). The file has columns: episode_id, force, timestamp,"
    )


def test_a_window_past_the_extract(analysis: Path) -> None:
    _edit(analysis, "end: 2019-12-31", "end: 2020-03-31")
    assert _error(analysis) == (
        "error: analysis.yaml: window.end 2020-03-31 is after the last incident in data/ep.csv "
        "(2019-12); end the window at the extract's last month or send a longer extract"
    )


def test_an_impossible_date_in_the_extract_names_its_row(analysis: Path) -> None:
    path = analysis / "data" / "ep.csv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace("2014-02-04 14:30", "31/02/2014 14:30")
    path.write_text("\n".join(lines) + "\n")
    assert _error(analysis) == (
        f"error: {path.resolve()}: data row 3 (line 4 of the file, after the header): column "
        "'timestamp' (canonical field 'timestamp') has '31/02/2014 14:30', expected a date-time "
        "(ISO 2016-04-01 14:30:00 or UK 01/04/2016 14:30); correct it, or empty it to mark the "
        "value missing"
    )


def test_a_population_year_missing(analysis: Path) -> None:
    path = analysis / "data" / "population.csv"
    path.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")
    assert _error(analysis) == (
        f"error: {path.resolve()}: no population for unit {UNIT} in year 2019 (needed by rate "
        f"outcome(s) s136_rate); add a row '{UNIT},2019,<population>'"
    )


def test_units_absent_from_the_extract(analysis: Path) -> None:
    _edit(analysis, f"units: [{UNIT}]", "units: [E23000018]")
    _edit(analysis, f"{UNIT}: 2016-04-01", "E23000018: 2016-04-01")
    path = analysis / "data" / "population.csv"
    path.write_text(path.read_text().replace(UNIT, "E23000018"))
    assert _error(analysis) == (
        f"error: {(analysis / 'data' / 'ep.csv').resolve()}: no dated rows for unit(s) E23000018; "
        f"column 'force' holds e.g. {UNIT}. Check the force codes in 'units' and in the file"
    )


def test_an_spss_extract_is_read_for_two_columns_without_writing_to_the_folder(
    analysis: Path,
) -> None:
    import pyreadstat

    table = pd.read_csv(analysis / "data" / "ep.csv", dtype=str, keep_default_na=False)
    table = table.iloc[:-4]  # the extract now ends in 2019-10
    pyreadstat.write_sav(table, str(analysis / "data" / "ep.sav"))
    _edit(analysis, "data/ep.csv", "data/ep.sav")
    assert _error(analysis) == (
        "error: analysis.yaml: window.end 2019-12-31 is after the last incident in data/ep.sav "
        "(2019-10); end the window at the extract's last month or send a longer extract"
    )
    assert not (analysis / ".cache").exists()


def test_a_linked_extract_without_its_named_column(analysis: Path) -> None:
    (analysis / "data" / "ae.csv").write_text("nhs_number,arrived\nx1,2016-05-01 10:00\n")
    _edit(
        analysis,
        "data:\n",
        "data:\n  linkage:\n    agencies:\n      ae: {path: data/ae.csv, person: nhs_number, "
        "time: arrival, window_hours: [0, 6], identifiers: pseudonymised}\n",
    )
    assert _error(analysis) == (
        f"error: {(analysis / 'data' / 'ae.csv').resolve()}: no column 'arrival' "
        "(data.linkage.agencies.ae.time); the file has columns: nhs_number, arrived. Name the "
        "right column in the protocol"
    )
