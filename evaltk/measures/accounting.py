"""Why a row is left out: the exclusion rules, in the fixed order in which they are applied.

Every row read is either used or excluded for exactly one reason: the FIRST rule in
:data:`EXCLUSION_RULES` that it meets. The order is part of the contract (it decides which
reason a row with several problems is counted under) and is:

1. ``timestamp missing`` — no (or an empty) timestamp, so the row has no month;
2. ``unit not in protocol`` — ``force`` is missing or is not one of ``protocol.units``;
3. ``outside analysis window`` — its month lies before ``window.start`` or after ``window.end``
   (months, both inclusive);
4. ``episode id missing`` — no ``episode_id``;
5. ``duplicate episode id`` — its ``episode_id`` occurs on more than one row of the file: every
   such row is excluded, because nothing tells which copy is right (a count of repeated id
   hashes, :func:`evaltk.measures.episodes.repeated_id_count`, as a pre-pass; the exact
   grouping only when hashes repeat);
6. ``negative duration`` — ``officer_minutes`` or ``hospital_wait_minutes`` below zero;
7. ``admission before incident`` — ``admission_time`` (read when the file has it) earlier than
   the incident's ``timestamp``: an impossible value, usually a date typed wrongly;
8. ``code not allowed`` — ``place_of_safety`` or ``referral`` holds a value that is not one of
   the schema's codes (after ``data.codes`` is applied); a missing value is allowed.

Rules 4-8 only look at fields the protocol maps; rules 2 and 3 define the scope of the
analysis, the others data quality (``data.max_excluded_share`` limits the latter,
:mod:`evaltk.measures.quality`).

Extension point: a new reason (duplicated ``episode_id``, say) is one more
:class:`ExclusionRule` in the list, whose SQL predicate may use any column of the canonical
rows — including a column computed for it first, e.g. ``count(*) OVER (PARTITION BY
episode_id) > 1`` added in :func:`evaltk.measures.query.episode_query`. The pandas reference
(:mod:`evaltk.measures.reference`) must gain the same rule, and the tests check they agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evaltk.episodes.schema import FIELDS_BY_NAME
from evaltk.ingest.sql import literal, quote_ident
from evaltk.measures.panel import RowAccount


@dataclass(frozen=True)
class ExclusionContext:
    """What the rules need to know: the first and last month of the window."""

    first_month: dt.date
    last_month: dt.date
    fields: frozenset[str] = frozenset()  # canonical fields present in the rows
    duplicates: bool = False  # whether DUPLICATE_IDS_TABLE holds any id


@dataclass(frozen=True)
class ExclusionRule:
    """One reason to exclude a row, and the SQL predicate (on canonical columns) that finds it."""

    reason: str
    predicate: Callable[[ExclusionContext], str]


def _timestamp_missing(_: ExclusionContext) -> str:
    return f"{quote_ident('timestamp')} IS NULL"


def _unit_not_in_protocol(_: ExclusionContext) -> str:
    # unit_code is the position of force in protocol.units, NULL for any other force.
    return "unit_code IS NULL"


def _outside_window(ctx: ExclusionContext) -> str:
    first, last = ctx.first_month.isoformat(), ctx.last_month.isoformat()
    return f"(period < DATE {literal(first)} OR period > DATE {literal(last)})"


DUPLICATE_IDS_TABLE = "__evaltk_duplicate_ids"
DURATION_FIELDS = ("officer_minutes", "hospital_wait_minutes")


def _episode_id_missing(ctx: ExclusionContext) -> str:
    if "episode_id" not in ctx.fields:
        return "FALSE"
    return f"{quote_ident('episode_id')} IS NULL"


def _duplicate_episode_id(ctx: ExclusionContext) -> str:
    if not ctx.duplicates or "episode_id" not in ctx.fields:
        return "FALSE"
    return f"CAST({quote_ident('episode_id')} AS VARCHAR) IN (SELECT id FROM {DUPLICATE_IDS_TABLE})"


def _negative_duration(ctx: ExclusionContext) -> str:
    parts = [f"{quote_ident(f)} < 0" for f in DURATION_FIELDS if f in ctx.fields]
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def _admission_before_incident(ctx: ExclusionContext) -> str:
    if "admission_time" not in ctx.fields:
        return "FALSE"
    return f"{quote_ident('admission_time')} < {quote_ident('timestamp')}"


def _code_not_allowed(ctx: ExclusionContext) -> str:
    parts = []
    for name in CATEGORY_FIELDS:
        if name in ctx.fields:
            codes = ", ".join(literal(c) for c in FIELDS_BY_NAME[name].codes)
            parts.append(f"{quote_ident(name)} NOT IN ({codes})")
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


EXCLUSION_RULES: tuple[ExclusionRule, ...] = (
    ExclusionRule("timestamp missing", _timestamp_missing),
    ExclusionRule("unit not in protocol", _unit_not_in_protocol),
    ExclusionRule("outside analysis window", _outside_window),
    ExclusionRule("episode id missing", _episode_id_missing),
    ExclusionRule("duplicate episode id", _duplicate_episode_id),
    ExclusionRule("negative duration", _negative_duration),
    ExclusionRule("admission before incident", _admission_before_incident),
    ExclusionRule("code not allowed", _code_not_allowed),
)
#: Reasons that define the analysis's scope rather than the data's quality.
SCOPE_REASONS: tuple[str, ...] = (
    "unit not in protocol",
    "outside analysis window",
)
EXCLUSION_REASONS: tuple[str, ...] = tuple(rule.reason for rule in EXCLUSION_RULES)
CATEGORY_FIELDS: tuple[str, ...] = ("place_of_safety", "referral")

# A ready series has no timestamps; its rows are months, so the first reason is named for them.
SERIES_EXCLUSION_REASONS: tuple[str, ...] = (
    "period missing",
    "unit not in protocol",
    "outside analysis window",
)


def exclusion_sql(ctx: ExclusionContext) -> str:
    """SQL giving each row's exclusion code, NULL for a used row.

    The code is the 1-based position in :data:`EXCLUSION_REASONS` of the first rule the row
    meets (a small integer travels through the per-person window more cheaply than text).
    Expects columns ``"timestamp"``, ``unit_code`` (position of the force among the
    protocol's units, NULL for other forces) and ``period`` (first day of the month, DATE).
    """
    whens = " ".join(
        f"WHEN {rule.predicate(ctx)} THEN {code}"
        for code, rule in enumerate(EXCLUSION_RULES, start=1)
    )
    return f"CAST(CASE {whens} END AS UTINYINT)"


def exclusion_reason(code: Any) -> str | None:
    """The reason for a code from :func:`exclusion_sql` (a missing code means a used row)."""
    if code is None or pd.isna(code):
        return None
    return EXCLUSION_REASONS[int(code) - 1]


def row_account(
    source: str,
    rows_in: int,
    counts: Mapping[str | None, int],
    reasons: Sequence[str] = EXCLUSION_REASONS,
) -> RowAccount:
    """The :class:`RowAccount` from the rows read and the row counts by reason (``None`` = used).

    Every known reason is listed, with 0 where no row met it, so readers see what was checked.
    :class:`RowAccount` itself refuses counts that do not add up to ``rows_in``.
    """
    unknown = set(counts) - {None, *reasons}
    if unknown:
        raise ValueError(f"unknown exclusion reasons {sorted(map(str, unknown))}")
    excluded = {reason: int(counts.get(reason, 0)) for reason in reasons}
    used = int(counts.get(None, 0))
    return RowAccount(source=source, rows_in=int(rows_in), rows_used=used, excluded=excluded)
