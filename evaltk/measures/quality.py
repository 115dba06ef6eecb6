"""Whether the rows excluded by the data checks stop the run (``data.max_excluded_share``).

Exclusions come in two families (:mod:`evaltk.measures.accounting`): *scope* (rows of other
forces, or of months outside the window: a national extract is mostly these, and they say
nothing about its quality) and *quality* (no timestamp, no or duplicated episode id, negative
durations, codes outside the schema). The quality share is quality exclusions over the rows in
scope; above the protocol's threshold the run stops before any estimate, with one line naming
the largest reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from evaltk.errors import DataError
from evaltk.measures.accounting import SCOPE_REASONS
from evaltk.measures.panel import RowAccount


@dataclass(frozen=True)
class QualityShare:
    in_scope: int
    excluded: int

    @property
    def share(self) -> float:
        return self.excluded / self.in_scope if self.in_scope else 0.0


def quality_share(account: RowAccount) -> QualityShare:
    """Rows in scope and rows of them excluded for data quality."""
    scope = sum(n for reason, n in account.excluded.items() if reason in SCOPE_REASONS)
    quality = sum(n for reason, n in account.excluded.items() if reason not in SCOPE_REASONS)
    return QualityShare(in_scope=account.rows_in - scope, excluded=quality)


def check_exclusions(account: RowAccount, max_share: float, path: str) -> QualityShare:
    """Raise :class:`DataError` if the quality exclusions exceed ``max_share`` of rows in scope."""
    q = quality_share(account)
    if q.share > max_share:
        reasons = sorted(
            ((n, r) for r, n in account.excluded.items() if r not in SCOPE_REASONS and n),
            reverse=True,
        )
        listed = ", ".join(f"{r} {n:,}" for n, r in reasons)
        raise DataError(
            f"{path}: the data checks exclude {q.excluded:,} of {q.in_scope:,} rows in the "
            f"protocol's units and window ({q.share:.1%}, above data.max_excluded_share "
            f"{max_share:.1%}): {listed}. Correct the extract, map its codes in data.codes, "
            "or (if justified) raise data.max_excluded_share and say why in the protocol"
        )
    return q
