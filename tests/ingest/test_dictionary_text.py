"""Text handed to the parquet writer as a dictionary reads back as the same plain text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaltk.ingest import readers
from evaltk.ingest.dictionary_text import dictionary_text
from evaltk.ingest.readers import stage


def test_codes_index_the_values_and_nulls_leave_the_dictionary():
    values = pa.array(["Yes", None, "No", None, "Yes"])
    codes = np.array([0, 1, 2, -1, 3, 4, 2, 0])
    column = dictionary_text(values, codes)
    assert column.to_pylist() == ["Yes", None, "No", None, None, "Yes", "No", "Yes"]
    # The parquet writer refuses a dictionary holding a null; none is left.
    assert column.dictionary.null_count == 0
    assert column.type == pa.dictionary(pa.int32(), pa.string())
    assert dictionary_text(pa.array([], pa.string()), np.array([-1, -1])).to_pylist() == [
        None,
        None,
    ]
    assert dictionary_text(pa.array([None], pa.string()), np.array([0, -1])).to_pylist() == [
        None,
        None,
    ]


def test_random_codes_equal_take():
    rng = np.random.default_rng(11)
    values = pa.array([None if v < 0.2 else f"v{v:.3f}" for v in rng.random(300)])
    codes = rng.integers(-1, 300, 5000)
    expected = [None if c < 0 else values[int(c)].as_py() for c in codes]
    assert dictionary_text(values, codes).to_pylist() == expected


@pytest.mark.parametrize("few_first", [True, False])
def test_chunks_dictionary_then_plain_stage_as_one_text_column(tmp_path, monkeypatch, few_first):
    # A text column with few distinct values in one chunk (a dictionary) and many in the
    # next (plain text): the staged file has one text column with every value.
    monkeypatch.setattr(readers, "CHUNK_ROWS", 100)
    few = [" a", "b", None, "a "] * 25
    many = [f" id{i} " if i % 9 else "" for i in range(100)]
    values = few + many if few_first else many + few
    path = tmp_path / "e.csv"
    pd.DataFrame({"c": values}).to_csv(path, index=False)
    staged = pq.read_table(stage(path, "csv", ["c"], tmp_path / "cache", kinds={"c": "text"}))
    assert staged.schema.field("c").type == pa.string()
    expected = [v.strip() or None if isinstance(v, str) else None for v in values]
    assert staged["c"].to_pylist() == expected


def test_staged_file_has_min_max_of_dates_and_numbers_only(tmp_path):
    # Dates and numbers keep row-group statistics (a scan may skip row groups outside the
    # window by them); text columns have none (their cost buys nothing in an unsorted file).
    path = tmp_path / "e.csv"
    pd.DataFrame(
        {"t": ["2020-03-01 10:00", "2019-01-02 00:00", ""], "n": ["5", "-2.5", "7"],
         "c": ["b", "a", "b"]}
    ).to_csv(path, index=False)  # fmt: skip
    kinds = {"t": "timestamp", "n": "number", "c": "text"}
    staged = stage(path, "csv", ["t", "n", "c"], tmp_path / "cache", kinds=kinds)
    group = pq.ParquetFile(staged).metadata.row_group(0)
    stats = {group.column(i).path_in_schema: group.column(i).statistics for i in range(3)}
    assert (stats["t"].min, stats["t"].max) == (
        pd.Timestamp("2019-01-02").to_pydatetime(),
        pd.Timestamp("2020-03-01 10:00").to_pydatetime(),
    )
    assert stats["t"].null_count == 1
    assert (stats["n"].min, stats["n"].max) == (-2.5, 7.0)
    assert stats["c"] is None


def test_only_a_dictionary_past_the_page_limit_is_written_plain():
    small = dictionary_text(pa.array(["No", "Yes"]), np.array([0, 1, 1, -1]))
    assert readers._for_parquet(small) is small
    # 20,000 pseudonym-like values of 64 characters: 1.28 MB of dictionary.
    values = pa.array([f"{i:064d}" for i in range(20_000)])
    large = dictionary_text(values, np.arange(20_000)[::-1])
    plain = readers._for_parquet(large)
    assert plain.type == pa.string()
    assert plain.to_pylist() == large.to_pylist()
