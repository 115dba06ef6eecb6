"""The committed reference records are current: recomputed from the reference data, same figures.

``book/validation/reference-*.json`` is what the book prints (it fits nothing); the rows in it
are computed by :mod:`evaltk.validation.bernal2017` and :mod:`evaltk.validation.mpdta`, whose
tolerances the reference tests assert. Here the records are recomputed from the reference
folder and compared with the committed files figure by figure, together with each data file's
SHA-256; where the reference folder is absent that check is skipped, saying so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evaltk.errors import ReferenceMissing
from evaltk.validation import reference_dir
from evaltk.validation.record import (
    ReferenceRecord,
    load_records,
    load_reference_records,
)
from evaltk.validation.reference_records import (
    BERNAL2017,
    MPDTA,
    PROP99,
    REFERENCE_RECORDS,
    write_reference_records,
)

RECORDS = Path(__file__).resolve().parents[2] / "book" / "validation"
COMMAND = "OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/validation_checks.py --check reference"
REGENERATE = f"regenerate the records with `{COMMAND}` and commit them"


def _reference_present() -> bool:
    names = ("sicily.csv", "mpdta.csv", "prop99_smoking.csv")
    return all((reference_dir() / name).is_file() for name in names)


needs_reference = pytest.mark.skipif(
    not _reference_present(),
    reason="reference data absent (../shared/reference or $EVALTK_REFERENCE_DIR): the "
    "committed reference records cannot be recomputed here",
)


@pytest.fixture(scope="module")
def committed() -> dict[str, ReferenceRecord]:
    return load_reference_records(RECORDS)


def test_committed_records_are_there_and_within(committed: dict[str, ReferenceRecord]) -> None:
    assert list(committed) == [BERNAL2017, MPDTA, PROP99] == list(REFERENCE_RECORDS)
    bernal, mpdta, prop99 = committed[BERNAL2017], committed[MPDTA], committed[PROP99]
    assert [len(bernal.figures), len(mpdta.figures), len(prop99.figures)] == [19, 248, 12]
    assert [d.name for d in prop99.data] == ["prop99_smoking.csv"]
    assert [d.name for d in bernal.data] == ["sicily.csv"]
    assert [d.name for d in mpdta.data] == [
        "mpdta.csv",
        "mpdta_r_did_attgt.csv",
        "mpdta_r_did_aggte.csv",
    ]
    for record in committed.values():
        assert record.all_within and record.n_within == len(record.figures)
        assert record.command == COMMAND
        assert all(len(d.sha256) == 64 for d in record.data)


def test_simulation_records_leave_the_reference_records_out() -> None:
    names = set(load_records(RECORDS))
    assert {"its_coverage", "few_forces_size"} <= names
    assert not any(name.startswith("reference-") for name in names)


@pytest.fixture(scope="module")
def recomputed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ReferenceRecord]:
    out = tmp_path_factory.mktemp("reference-records")
    records = write_reference_records(out, COMMAND)
    # What was written is what was returned.
    assert load_reference_records(out) == records
    return records


@needs_reference
@pytest.mark.reference
@pytest.mark.parametrize("name", list(REFERENCE_RECORDS))
def test_committed_record_is_current(
    committed: dict[str, ReferenceRecord], recomputed: dict[str, ReferenceRecord], name: str
) -> None:
    old, new = committed[name], recomputed[name]
    assert old.data == new.data, f"{name}: the reference data changed; {REGENERATE}"
    for field in ("title", "source", "reference_label", "tolerance_text", "command"):
        assert getattr(old, field) == getattr(new, field), f"{name}.{field}: {REGENERATE}"
    assert len(old.figures) == len(new.figures), f"{name}: {REGENERATE}"
    for was, now in zip(old.figures, new.figures, strict=True):
        where = f"{name}: {now.section} / {now.group} / {now.quantity}: {REGENERATE}"
        fixed = {"evaltk", "difference"}
        assert was.model_dump(exclude=fixed) == now.model_dump(exclude=fixed), where
        # evaltk's own figures may differ in the last bits on another BLAS; the record keeps
        # them to full precision, far finer than any tolerance (1e-6 at the tightest).
        for field in fixed:
            assert getattr(was, field) == pytest.approx(getattr(now, field), rel=1e-9, abs=1e-12), (
                where
            )


@needs_reference
@pytest.mark.reference
def test_missing_reference_file_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    copy = tmp_path / "ref"
    shutil.copytree(reference_dir(), copy)
    (copy / "mpdta_r_did_aggte.csv").unlink()
    out = tmp_path / "records"
    with pytest.raises(ReferenceMissing, match=r"mpdta_r_did_aggte\.csv"):
        write_reference_records(out, COMMAND, copy)
    assert not out.exists() or not list(out.iterdir())
    # The environment variable points the default folder elsewhere.
    monkeypatch.setenv("EVALTK_REFERENCE_DIR", str(copy))
    assert reference_dir() == copy.resolve()
    with pytest.raises(ReferenceMissing, match=r"mpdta_r_did_aggte\.csv"):
        write_reference_records(out, COMMAND)
