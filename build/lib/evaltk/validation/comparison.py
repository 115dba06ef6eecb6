"""One checked figure: evaltk's value beside the published (or R's) value, and whether they agree.

The reference tests assert on these rows and the book's validation chapter prints them, so the
number a reader sees is the number the test checked (one computation, not two).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Comparison:
    """A figure of a reference study reproduced by evaltk.

    Attributes
    ----------
    study : str
        Which reference, e.g. ``"Bernal 2017"`` or ``"mpdta_nev_dr"``.
    group : str
        A heading within the study (a model, an aggregation), for tables.
    quantity : str
        What the figure is, in words (``"rate ratio of the ban"``).
    evaltk : float or None
        evaltk's value; None when evaltk produced no such figure (then ``within`` is False).
    reference : float
        The published figure (as printed) or R's value.
    tolerance : float
        The largest absolute difference allowed.
    tolerance_rule : str
        How ``tolerance`` was set, in words (``"half a unit in the 3rd decimal"``).
    decimals : int or None
        Decimals the reference was published with (None: full precision, e.g. R's output).
    """

    study: str
    group: str
    quantity: str
    evaltk: float | None
    reference: float
    tolerance: float
    tolerance_rule: str
    decimals: int | None = None

    @property
    def difference(self) -> float | None:
        """evaltk minus reference; None when evaltk has no value."""
        if self.evaltk is None or not math.isfinite(self.evaltk):
            return None
        return self.evaltk - self.reference

    @property
    def within(self) -> bool:
        """True when ``|evaltk - reference| <= tolerance`` (inclusive, as the tests assert)."""
        diff = self.difference
        return diff is not None and abs(diff) <= self.tolerance


def rounding_tolerance(decimals: int) -> tuple[float, str]:
    """Half a unit in the last published decimal: a rounded figure must be ours, rounded."""
    return 0.5 * 10.0**-decimals, f"half a unit in decimal {decimals} (published rounded)"


def failures(rows: list[Comparison]) -> list[Comparison]:
    """The rows outside their tolerance."""
    return [row for row in rows if not row.within]
