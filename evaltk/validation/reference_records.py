"""The reference comparisons written as records, for the book to print without fitting anything.

:mod:`evaltk.validation.bernal2017`, :mod:`evaltk.validation.mpdta` and
:mod:`evaltk.validation.prop99` compute the rows the reference tests assert on; here those rows
become ``book/validation/reference-bernal2017.json``, ``reference-mpdta.json`` and
``reference-prop99.json`` (:class:`evaltk.validation.record.ReferenceRecord`), each with
the citation, the name and SHA-256 of every data file it was computed from, and every checked
figure. ``bench/validation_checks.py --check reference`` writes them; a test recomputes them
from the reference folder and checks that the committed files hold the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from evaltk import __version__
from evaltk.digest import file_sha256
from evaltk.validation import bernal2017, mpdta, prop99
from evaltk.validation.comparison import Comparison
from evaltk.validation.record import (
    REFERENCE_PREFIX,
    DataFile,
    Figure,
    ReferenceRecord,
    utc_now,
    write_record,
)
from evaltk.validation.reference import reference_file

BERNAL2017 = f"{REFERENCE_PREFIX}bernal2017"
MPDTA = f"{REFERENCE_PREFIX}mpdta"
PROP99 = f"{REFERENCE_PREFIX}prop99"


def _finite(value: float | None) -> float | None:
    # JSON has no NaN: a figure one side lacks is stored as null.
    return value if value is not None and math.isfinite(value) else None


def figure(row: Comparison, section: str = "") -> Figure:
    """One comparison row as a record's figure, under the heading ``section``."""
    return Figure(
        section=section,
        group=row.group,
        quantity=row.quantity,
        evaltk=_finite(row.evaltk),
        reference=_finite(row.reference),
        difference=row.difference,
        tolerance=row.tolerance,
        tolerance_rule=row.tolerance_rule,
        decimals=row.decimals,
        within=row.within,
    )


def data_files(names: list[str], folder: Path | None = None) -> list[DataFile]:
    """Each reference file by name (never its local path) with the SHA-256 of its bytes.

    Raises
    ------
    ReferenceMissing
        If a file is not in the reference folder.
    """
    paths = [reference_file(name, folder) for name in names]
    return [
        DataFile(name=name, sha256=file_sha256(path))
        for name, path in zip(names, paths, strict=True)
    ]


def _record(
    study: ModuleType, command: str, figures: list[Figure], files: list[DataFile]
) -> ReferenceRecord:
    # The study module words itself: TITLE, SOURCE, REFERENCE_LABEL, TOLERANCE_TEXT.
    return ReferenceRecord(
        title=study.TITLE,
        command=command,
        generated=utc_now(),
        evaltk_version=__version__,
        source=study.SOURCE,
        reference_label=study.REFERENCE_LABEL,
        tolerance_text=study.TOLERANCE_TEXT,
        data=files,
        figures=figures,
    )


def bernal2017_record(command: str, folder: Path | None = None) -> ReferenceRecord:
    """Bernal 2017 models 1-4 beside the published figures, as a record.

    Parameters
    ----------
    command : str
        The command that regenerates the record, stored in it for the reader.
    folder : pathlib.Path, optional
        The reference folder (default :func:`evaltk.validation.reference.reference_dir`).

    Raises
    ------
    ReferenceMissing
        If ``sicily.csv`` is not in the reference folder.
    """
    rows = bernal2017.comparisons(folder)
    files = data_files([bernal2017.FILE], folder)
    return _record(bernal2017, command, [figure(row) for row in rows], files)


def mpdta_section(scenario: str) -> str:
    """The heading of one mpdta scenario: its name and what it compares, in words."""
    return f"{scenario}: {mpdta.SCENARIO_WORDS[scenario]}"


def mpdta_record(
    command: str, folder: Path | None = None, fits: dict[str, Any] | None = None
) -> ReferenceRecord:
    """The four mpdta scenarios beside R ``did``, as a record.

    Parameters
    ----------
    command : str
        The command that regenerates the record, stored in it for the reader.
    folder : pathlib.Path, optional
        The reference folder (default :func:`evaltk.validation.reference.reference_dir`).
    fits : dict, optional
        Fitted scenarios from :func:`evaltk.validation.mpdta.fit_scenarios`, to save refitting.

    Raises
    ------
    ReferenceMissing
        If a file of the mpdta reference is not in the reference folder.
    """
    rows = mpdta.comparisons(folder, fits)
    files = data_files([mpdta.DATA, mpdta.ATTGT, mpdta.AGGTE], folder)
    figures = [figure(row, mpdta_section(row.study)) for row in rows]
    return _record(mpdta, command, figures, files)


def prop99_record(command: str, folder: Path | None = None) -> ReferenceRecord:
    """Proposition 99: SDID, SC and DID (Arkhangelsky et al. 2021) and the ADH donor weights
    (Abadie et al. 2010) beside the published figures, as a record.

    Raises
    ------
    ReferenceMissing
        If ``prop99_smoking.csv`` is not in the reference folder.
    """
    rows = prop99.comparisons(folder)
    files = data_files([prop99.FILE], folder)
    return _record(prop99, command, [figure(row) for row in rows], files)


#: Record name (its file stem in ``book/validation``) -> the function that computes it.
REFERENCE_RECORDS: dict[str, Callable[[str, Path | None], ReferenceRecord]] = {
    BERNAL2017: bernal2017_record,
    MPDTA: mpdta_record,
    PROP99: prop99_record,
}


def write_reference_records(
    out: Path, command: str, folder: Path | None = None
) -> dict[str, ReferenceRecord]:
    """Compute every reference record and write it to ``out/NAME.json``, each whole or not at all.

    Parameters
    ----------
    out : pathlib.Path
        The records folder, normally ``book/validation``.
    command : str
        The command that regenerates the records, stored in each.
    folder : pathlib.Path, optional
        The reference folder (default :func:`evaltk.validation.reference.reference_dir`).

    Returns
    -------
    dict
        The records written, by name.

    Raises
    ------
    ReferenceMissing
        If a reference file is absent; nothing is written then.
    """
    records = {name: compute(command, folder) for name, compute in REFERENCE_RECORDS.items()}
    for name, record in records.items():
        write_record(record, out / f"{name}.json")
    return records
