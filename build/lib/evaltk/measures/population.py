"""The population table that rates are expressed per: one row per force and calendar year.

A rate's denominator in a month is the population of its unit in that month's calendar year
(mid-year estimates, as ONS publishes them); it is not interpolated between years.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from evaltk.episodes.schema import POPULATION_FIELDS
from evaltk.errors import DataError


def read_population(path: Path) -> dict[tuple[str, int], float]:
    """Read ``force, year, population`` into ``{(force, year): population}``.

    Raises
    ------
    DataError
        If the file is missing or unreadable, lacks a column, has a year or population that is
        not a positive number, or lists a force and year twice.
    """
    if not path.is_file():
        raise DataError(f"{path}: population file not found; check data.population")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise DataError(f"{path}: cannot read the population CSV ({error})") from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in POPULATION_FIELDS if c not in table.columns]
    if missing:
        raise DataError(
            f"{path}: population column(s) {', '.join(missing)} missing; the file needs "
            f"columns {', '.join(POPULATION_FIELDS)} (has: {', '.join(table.columns)})"
        )
    result: dict[tuple[str, int], float] = {}
    for i, row in enumerate(table.itertuples(index=False), start=1):
        force, year_text, pop_text = (str(getattr(row, c)).strip() for c in POPULATION_FIELDS)
        where = f"{path}: row {i} (line {i + 1} of the file)"
        try:
            year = int(float(year_text))
            population = float(pop_text)
        except ValueError:
            raise DataError(
                f"{where}: year '{year_text}' and population '{pop_text}' must be numbers"
            ) from None
        if not population > 0:
            raise DataError(f"{where}: population {pop_text} must be a positive number")
        if (force, year) in result:
            raise DataError(f"{where}: {force} {year} is listed twice; keep one row")
        result[(force, year)] = population
    return result


def population_for(
    table: dict[tuple[str, int], float],
    units: Sequence[str],
    years: Iterable[int],
    path: Path,
    needed_by: Sequence[str],
) -> dict[tuple[str, int], float]:
    """The populations of ``units`` in ``years``, checking that every one is there.

    Raises
    ------
    DataError
        Naming the first unit and year without a population, and the outcomes that need it.
    """
    years = sorted(set(years))
    for unit in units:
        for year in years:
            if (unit, year) not in table:
                raise DataError(
                    f"{path}: no population for unit {unit} in year {year} (needed by rate "
                    f"outcome(s) {', '.join(needed_by)}); add a row '{unit},{year},<population>'"
                )
    return {(u, y): table[(u, y)] for u in units for y in years}
