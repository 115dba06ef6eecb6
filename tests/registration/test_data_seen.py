"""data-seen.json: the data of the first registered run, and a warning at every later run whose
data differ from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaltk.registration import LogTampered
from evaltk.registration.data_seen import (
    DATA_SEEN_FILE,
    check_data,
    read_data_seen,
    record_data_seen,
)

A, B, C = "a" * 64, "b" * 64, "c" * 64
FIRST = {"data/episodes.csv": A, "data/population.csv": B}


def test_the_first_registered_run_records_its_files(tmp_path: Path) -> None:
    assert check_data(tmp_path, FIRST) == []  # nothing recorded yet: nothing to compare
    done = record_data_seen(tmp_path, FIRST, log_sha256="f" * 64, now="2024-05-01T10:00:00Z")
    assert done.warnings == () and done.recorded == done.first
    assert done.first.files == FIRST and done.first.log_sha256 == "f" * 64
    assert done.first.recorded_at == "2024-05-01T10:00:00Z"
    again = record_data_seen(tmp_path, dict(reversed(FIRST.items())))
    assert again.recorded is None and again.warnings == ()  # same files: nothing appended
    assert len(read_data_seen(tmp_path)) == 1


def test_later_runs_with_other_data_warn_every_time_and_are_recorded(tmp_path: Path) -> None:
    record_data_seen(tmp_path, FIRST, now="2024-05-01T10:00:00Z")
    swapped = {"data/episodes.csv": C, "data/extra.csv": A}
    done = record_data_seen(tmp_path, swapped, now="2024-06-01T10:00:00Z")
    assert done.recorded is not None and done.recorded.sequence == 1
    assert done.warnings == (
        "data/episodes.csv: changed since the first registered run (2024-05-01T10:00:00Z, "
        f"{DATA_SEEN_FILE}): sha256 cccccccccccc…, was aaaaaaaaaaaa…",
        "data/extra.csv: read now but not by the first registered run (2024-05-01T10:00:00Z, "
        f"{DATA_SEEN_FILE})",
        "data/population.csv: read by the first registered run (2024-05-01T10:00:00Z, "
        f"{DATA_SEEN_FILE}) but not now",
    )
    later = record_data_seen(tmp_path, swapped)
    assert later.recorded is None and later.warnings == done.warnings  # still warned
    assert check_data(tmp_path, swapped) == list(done.warnings)
    back = record_data_seen(tmp_path, FIRST)
    assert back.warnings == () and back.recorded is not None  # the history keeps the detour
    assert [r.sequence for r in read_data_seen(tmp_path)] == [0, 1, 2]


def test_an_edited_record_is_detected_and_never_appended_to(tmp_path: Path) -> None:
    record_data_seen(tmp_path, FIRST)
    record_data_seen(tmp_path, {"data/episodes.csv": C})
    path = tmp_path / DATA_SEEN_FILE
    document = json.loads(path.read_text())
    document["entries"][0]["files"]["data/episodes.csv"] = C  # pretend it was always C
    path.write_text(json.dumps(document))
    with pytest.raises(LogTampered, match="record 0 was edited"):
        record_data_seen(tmp_path, {"data/episodes.csv": C})
    assert json.loads(path.read_text()) == document
    (warning,) = check_data(tmp_path, FIRST)
    assert "record 0 was edited" in warning
