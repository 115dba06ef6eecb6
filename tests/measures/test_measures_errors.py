"""Bad input: one DataError line naming the file and the field or row, and what to do."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from measures_helpers import OTHER, UNIT_A, UNIT_B, episodes, protocol, write, write_population

from evaltk.errors import DataError
from evaltk.measures import compute_panel

S136 = [{"id": "n", "measure": {"aggregate": "count", "where": {"s136": True}}}]
RATE = [{"id": "r", "measure": {"aggregate": "rate", "where": {"s136": True}}}]
GOOD_END = "2016-02-29"  # GOOD's last month: a window must not run beyond the extract
GOOD = episodes({"timestamp": "2016-01-05", "s136": True}, {"timestamp": "2016-02-05"})


def fails(tmp_path, p, *patterns: str) -> str:
    """Run and check the one-line DataError names the file and matches every pattern."""
    with pytest.raises(DataError) as caught:
        compute_panel(p, tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(tmp_path) in message
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    return message


def test_file_missing(tmp_path):
    fails(tmp_path, protocol(S136), r"episodes\.parquet: episode file not found", "data.path")


def test_corrupt_parquet(tmp_path):
    (tmp_path / "episodes.parquet").write_bytes(b"PAR1 this is not parquet at all")
    fails(tmp_path, protocol(S136), r"episodes\.parquet: cannot read it as parquet")


def test_truncated_parquet(tmp_path):
    path = write(tmp_path, GOOD)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    fails(tmp_path, protocol(S136), r"episodes\.parquet: cannot read", "complete")


def test_unknown_extension(tmp_path):
    write(tmp_path, GOOD, "episodes.xls")
    fails(tmp_path, protocol(S136, data={"path": "episodes.xls"}), "data.format")


def test_csv_that_is_not_text(tmp_path):
    (tmp_path / "e.csv").write_bytes(b"episode_id,force,timestamp\n" + bytes(range(256)) * 40)
    fails(tmp_path, protocol(S136, data={"path": "e.csv"}), r"e\.csv")


def test_required_column_missing_names_field_and_column(tmp_path):
    write(tmp_path, GOOD.drop(columns="s136"))
    fails(
        tmp_path,
        protocol(S136),
        r"column 's136' for canonical field 's136'",
        "needed by n",
        "data.columns",
    )


def test_mapped_column_missing_names_both_names(tmp_path):
    write(tmp_path, GOOD.rename(columns={"s136": "s136_flag"}))
    p = protocol(S136, data={"columns": {"s136": "S136_FLAG"}})
    fails(
        tmp_path,
        p,
        "column 'S136_FLAG' for canonical field 's136'",
        "mapped in data.columns",
        "did you mean 's136_flag'",
    )


def test_episode_id_is_required(tmp_path):
    write(tmp_path, GOOD.drop(columns="episode_id"))
    fails(tmp_path, protocol(S136), "canonical field 'episode_id'")


def test_unparseable_timestamp_in_csv_names_row_column_and_value(tmp_path):
    table = GOOD.copy()
    table["timestamp"] = ["2016-01-05 10:00", "the 5th of Feb"]
    write(tmp_path, table, "e.csv")
    fails(
        tmp_path,
        protocol(S136, data={"path": "e.csv"}),
        r"data row 2 \(line 3 of the file",
        "column 'timestamp'",
        "'the 5th of Feb'",
        "expected a date-time",
    )


def test_first_bad_row_of_many_is_named(tmp_path):
    rows = [{"timestamp": "2016-01-05"}] * 50
    table = episodes(*rows)
    table["timestamp"] = table["timestamp"].astype(str)
    table.loc[37, "timestamp"] = "2016-02-30"  # not a date
    table.loc[41, "timestamp"] = "yesterday"
    write(tmp_path, table, "e.csv")
    message = fails(
        tmp_path, protocol(S136, data={"path": "e.csv"}), "data row 38 ", "'2016-02-30'"
    )
    assert "2 such values" in message


def test_bad_boolean_in_csv_names_row_and_value(tmp_path):
    table = GOOD.copy()
    table["s136"] = ["Y", "maybe"]
    write(tmp_path, table, "e.csv")
    fails(
        tmp_path,
        protocol(S136, data={"path": "e.csv"}),
        "data row 2",
        "column 's136'",
        "'maybe'",
        "true/false, 1/0 or Y/N",
    )


def test_bad_boolean_in_parquet_text_and_integer_columns(tmp_path):
    table = GOOD.copy()
    table["s136"] = ["yes", "n"]
    write(tmp_path, table)
    fails(tmp_path, protocol(S136), r"row 1:", "'yes'")
    table["s136"] = [1, 2]
    write(tmp_path, table)
    fails(tmp_path, protocol(S136), r"row 2:", "'2'")


def test_bad_number_in_csv(tmp_path):
    table = GOOD.copy()
    table["officer_minutes"] = ["12", "twelve"]
    write(tmp_path, table, "e.csv")
    mean = [{"id": "m", "measure": {"aggregate": "mean", "field": "officer_minutes"}}]
    fails(tmp_path, protocol(mean, data={"path": "e.csv"}), "data row 2", "'twelve'")


def test_column_of_the_wrong_type(tmp_path):
    table = GOOD.copy()
    table["timestamp"] = [20160105, 20160205]
    write(tmp_path, table)
    fails(tmp_path, protocol(S136), "column 'timestamp'", "BIGINT", "expected a date-time")


def test_population_missing_for_a_unit_year(tmp_path):
    write(tmp_path, GOOD)
    write_population(tmp_path, [(UNIT_A, 2015, 1000)])
    fails(
        tmp_path,
        protocol(RATE, end=GOOD_END),
        r"population\.csv: no population for unit E23000019 in year 2016",
        "needed by rate outcome",
    )


def test_population_file_problems(tmp_path):
    write(tmp_path, GOOD)
    fails(tmp_path, protocol(RATE, end=GOOD_END), r"population\.csv: population file not found")
    (tmp_path / "population.csv").write_text("force,year,pop\nE23000019,2016,5\n")
    fails(tmp_path, protocol(RATE, end=GOOD_END), "population column", "population")
    (tmp_path / "population.csv").write_text("force,year,population\nE23000019,2016,-5\n")
    fails(tmp_path, protocol(RATE, end=GOOD_END), r"row 1 \(line 2", "positive")
    (tmp_path / "population.csv").write_text(
        "force,year,population\nE23000019,2016,5\nE23000019,2016,6\n"
    )
    fails(tmp_path, protocol(RATE, end=GOOD_END), "listed twice")


def test_no_rows_for_a_unit(tmp_path):
    write(
        tmp_path,
        episodes(
            {"timestamp": "2016-01-05"},
            {"timestamp": "2016-02-05"},
            {"timestamp": "2014-01-05", "force": UNIT_B},
            {"timestamp": "2016-01-05", "force": OTHER},
        ),
    )
    fails(
        tmp_path,
        protocol(S136, units=(UNIT_A, UNIT_B), end="2016-02-29"),
        "no rows for unit",
        UNIT_B,
        r"\(1 rows for them outside",
        f"holds e.g. .*{OTHER}",
    )


def test_empty_file(tmp_path):
    write(tmp_path, GOOD.iloc[:0])
    fails(tmp_path, protocol(S136), "no rows for unit")


@pytest.mark.parametrize("rows", [3_000, 60_000])
def test_ragged_csv_is_a_data_error(tmp_path, rows):
    # A line with too many fields: found by the sniffer in a small file, mid-scan in a big one
    # (beyond the sniffer's sample). Either way a one-line DataError, not a DuckDB error.
    lines = ["episode_id,force,timestamp,s136"] + [
        f"e{i},{UNIT_A},2016-01-05,1" for i in range(rows)
    ]
    lines.append(f"bad,{UNIT_A},2016-01-05,1,extra,fields")
    (tmp_path / "e.csv").write_text("\n".join(lines) + "\n")
    expected = f"Line: {rows + 2}" if rows > 20_000 else "as many fields as the header"
    fails(tmp_path, protocol(S136, data={"path": "e.csv"}), r"e\.csv", expected)


def test_format_override(tmp_path):
    GOOD.to_csv(tmp_path / "episodes.dat", index=False)
    panel = compute_panel(
        protocol(S136, end=GOOD_END, data={"path": "episodes.dat", "format": "csv"}), tmp_path
    )
    assert panel.frame["numerator"].sum() == 1
    assert isinstance(panel.frame, pd.DataFrame)
