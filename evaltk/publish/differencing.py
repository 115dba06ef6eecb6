"""Proof that no suppressed count can be recovered by adding or subtracting published ones.

Suppressing a count is not enough when a total and its other parts are published: rows read
minus rows used minus the other exclusion reasons gives a suppressed reason back. Every
additive table the book publishes (totals = sums of parts) is therefore written down here as a
:class:`Table`: its quantities (published or not, such as the rows neither linked nor
unlinkable), what a reader knows of each (:func:`evaltk.publish.count_rule.known_range`: a
rounded 10 is 8 to 12, a suppressed count 1 to 4, a 0 exactly 0) and its relations
``total = sum(parts)``.

A reader who knows the rule can combine every relation at once, not only one difference at a
time. :func:`feasible_range` finds, for one quantity, the smallest and largest whole value
consistent with everything published (an integer linear programme, solved by HiGHS through
:func:`scipy.optimize.milp`: exact, not an interval approximation). A quantity is *disclosed*
when that range is a single value from 1 to ``threshold - 1`` (:func:`disclosed`).

At publication (:func:`secure`), with the true values in hand, a disclosed quantity is
protected by secondary suppression: the smallest rounded count that shares a relation with it
is withheld too, and the check repeats. A withheld count is modelled as at least the threshold
(it was rounded, not small), which tells the model reader more than a real one knows (a real
reader cannot tell a withheld count from a small one), so a table that passes for the model
reader passes for a real one. With rounding to 5 this is rarely needed: each rounded count
leaves 5 possible values, and a difference of two leaves 9.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from evaltk.errors import PublishError
from evaltk.publish.count_rule import Range, known_range, publish_count, rule_of
from evaltk.results.schema import AnalysisResult, DisclosureSettings

#: A relation ``total = sum(parts)`` between named quantities of a table.
Relation = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class Table:
    """One additive table as a reader sees it.

    Attributes
    ----------
    name : str
        Where it is published, for error messages (``"analysis: rows read"``).
    known : Mapping[str, Range]
        Each quantity's range from its published value alone (``(0, None)``: not published).
    relations : tuple of Relation
        ``(total, parts)``: the total equals the sum of the parts.
    threshold : int
        Counts from 1 to ``threshold - 1`` must not be recoverable.
    """

    name: str
    known: Mapping[str, Range]
    relations: tuple[Relation, ...]
    threshold: int

    def withhold(self, name: str) -> Table:
        """The table with ``name`` no longer published (modelled as at least the threshold)."""
        known = dict(self.known)
        known[name] = (self.threshold, None)
        return replace(self, known=known)


def _solve(table: Table, names: Sequence[str], target: int, sign: float) -> float | None:
    """min (sign 1) or max (sign -1) of quantity ``target``; None when infeasible, inf when
    unbounded."""
    index = {name: i for i, name in enumerate(names)}
    rows = []
    for total, parts in table.relations:
        row = np.zeros(len(names))
        row[index[total]] += 1.0
        for part in parts:
            row[index[part]] -= 1.0
        rows.append(row)
    low = np.array([table.known[n][0] for n in names], dtype=float)
    high = np.array(
        [np.inf if table.known[n][1] is None else table.known[n][1] for n in names], dtype=float
    )
    cost = np.zeros(len(names))
    cost[target] = sign
    constraints = [LinearConstraint(np.array(rows), 0.0, 0.0)] if rows else []
    integrality = np.ones(len(names))
    result = milp(cost, integrality=integrality, bounds=Bounds(low, high), constraints=constraints)
    if result.status == 4 and "infeasible or unbounded" in str(result.message):
        # HiGHS's presolve can stop at "infeasible or unbounded" (model status 9) without
        # saying which; a search for any feasible point (zero objective) tells them apart.
        feasible = milp(
            np.zeros(len(names)),
            integrality=integrality,
            bounds=Bounds(low, high),
            constraints=constraints,
        )
        if feasible.status == 2:
            return None
        if feasible.status == 0:
            return -np.inf if sign > 0 else np.inf
    if result.status == 2:  # infeasible
        return None
    if result.status == 3:  # unbounded
        return -np.inf if sign > 0 else np.inf
    if result.status != 0 or result.x is None:
        raise PublishError(f"{table.name}: the disclosure check could not solve ({result.message})")
    return float(round(result.x[target]))


def feasible_range(table: Table, name: str) -> Range | None:
    """The smallest and largest whole value of ``name`` consistent with everything published.

    Returns None when the published numbers cannot all hold together (then no relation of
    the table can be used against it).
    """
    names = sorted(table.known)
    target = names.index(name)
    low = _solve(table, names, target, 1.0)
    if low is None:
        return None
    high = _solve(table, names, target, -1.0)
    assert high is not None  # feasible for the minimum, so for the maximum
    return int(low), None if np.isinf(high) else int(high)


def _could_be_small(known: Range, threshold: int) -> bool:
    low, high = known
    return low < threshold and (high is None or high >= 1)


def disclosed(table: Table) -> list[tuple[str, int]]:
    """Quantities whose value from 1 to ``threshold - 1`` can be worked out exactly.

    A published small count counts too. When the whole table cannot hold together (a
    withheld count read as small, say), each relation is checked on its own.
    """
    t = table.threshold
    found: list[tuple[str, int]] = []
    candidates = [n for n in sorted(table.known) if _could_be_small(table.known[n], t)]
    if not candidates:
        return found
    for name in candidates:
        low, high = table.known[name]
        if low == high:
            found.append((name, low))
            continue
        span = feasible_range(table, name)
        if span is None:
            return _disclosed_by_relation(table)
        if span[0] == span[1] and 1 <= span[0] < t:
            found.append((name, span[0]))
    return found


def _disclosed_by_relation(table: Table) -> list[tuple[str, int]]:
    found: dict[str, int] = {}
    for total, parts in table.relations:
        names = {total, *parts}
        part = replace(
            table,
            known={n: table.known[n] for n in names},
            relations=((total, parts),),
        )
        if feasible_range(part, total) is None:
            continue  # this relation does not hold for what is published: nobody can use it
        found.update(disclosed(part))
    return sorted(found.items())


def secure(table: Table, truth: Mapping[str, int]) -> tuple[Table, set[str]]:
    """Withhold rounded counts until no small count of ``table`` can be worked out.

    Parameters
    ----------
    table : Table
        As published by the rule.
    truth : Mapping[str, int]
        The true values, to pick the smallest count to withhold.

    Returns
    -------
    (Table, set of str)
        The table as finally published, and the quantities withheld.

    Raises
    ------
    PublishError
        If a small count can be worked out and no rounded count is left to withhold (a small
        total derivable exactly from a published model quantity), naming the table.
    """
    withheld: set[str] = set()
    while True:
        found = disclosed(table)
        if not found:
            return table, withheld
        name, value = found[0]
        near = {
            n
            for total, parts in table.relations
            if name in (total, *parts)
            for n in (total, *parts)
        }
        choices = sorted(
            (truth.get(n, 0), n)
            for n in near
            if n not in withheld and _withholdable(table.known[n], table.threshold)
        )
        if not choices:
            raise PublishError(
                f"{table.name}: disclosure check failed: {name} = {value} can be worked out from "
                "the published numbers and no other count can be withheld to prevent it; "
                "do not publish this build"
            )
        withheld.add(choices[0][1])
        table = table.withhold(choices[0][1])


def _withholdable(known: Range, threshold: int) -> bool:
    """A rounded count (not 0, not suppressed, not an exact figure derivable elsewhere)."""
    low, high = known
    return low >= threshold and high is not None and low < high


def _nulls_unbounded(table: Table) -> Table:
    small = (1, table.threshold - 1)
    known = {n: (1, None) if r == small else r for n, r in table.known.items()}
    return replace(table, known=known)


def check_tables(tables: Iterable[Table]) -> None:
    """Fail (one line naming the table) if any small count of ``tables`` can be worked out
    from their published values alone (the check of a built book; at publication
    :func:`secure` has already proved more, knowing which nulls were withheld).

    Raises
    ------
    PublishError
    """
    for table in tables:
        found = disclosed(table)
        if found:
            # A null is a small count or one withheld by secondary suppression, and a reader
            # cannot tell which: read every null as "at least 1" before calling it disclosed.
            found = disclosed(_nulls_unbounded(table))
        if found:
            name, value = found[0]
            raise PublishError(
                f"{table.name}: disclosure check failed: {name} = {value} can be worked out "
                f"from the published totals (counts from 1 to {table.threshold - 1} must not "
                "be recoverable); do not publish this build"
            )


def publish_shape(
    name: str,
    shape: Shape,
    settings: DisclosureSettings,
    *,
    exact: Mapping[str, int] | None = None,
) -> dict[str, int | None]:
    """The rule applied to every count of one additive table of true values, then secondary
    suppression until no small count can be worked out (:func:`evaltk.publish.differencing.secure`).

    ``exact`` names quantities a reader can work out exactly from other published numbers
    (the post-period total from the counterfactual minus the events averted).
    """
    threshold, _ = rule_of(settings)
    published = {
        n: None if n in shape.unpublished else publish_count(v, settings)
        for n, v in shape.values.items()
    }
    known: dict[str, Range] = {
        n: (0, None) if n in shape.unpublished else known_range(published[n], settings)
        for n in shape.values
    }
    known.update({n: (v, v) for n, v in (exact or {}).items()})
    truth = {n: int(v) for n, v in shape.values.items() if v is not None}
    holds = tuple(
        (total, parts)
        for total, parts in shape.relations
        if all(n in truth for n in (total, *parts)) and truth[total] == sum(truth[p] for p in parts)
    )
    _, withheld = secure(Table(name, known, holds, threshold), truth)
    return {n: None if n in withheld else v for n, v in published.items()}


# --------------------------------------------------------------------------- the book's tables
# Each builder returns the quantities of one published table (their values as stored: true
# values before publication, published ones after) and its relations. Unpublished
# quantities (the rows neither linked nor unlinkable) carry no value.

#: Exclusion reasons that define the scope (``in_scope = rows_in - these``); the others are
#: the data-quality checks whose share the protocol limits.
SCOPE_REASONS = ("unit not in protocol", "outside analysis window")
ROWS_IN, ROWS_USED, IN_SCOPE, QUALITY = (
    "rows read",
    "rows used",
    "rows in scope",
    "rows excluded by the quality checks",
)


def excluded_name(reason: str) -> str:
    return f"rows excluded ({reason})"


@dataclass(frozen=True)
class Shape:
    """A table's quantities (None: suppressed, or not published) and relations."""

    values: Mapping[str, int | None]
    relations: tuple[Relation, ...]
    unpublished: frozenset[str] = frozenset()


def data_shape(
    rows_in: int | None,
    rows_used: int | None,
    excluded: Mapping[str, int | None],
    in_scope: int | None,
    quality: int | None,
    *,
    has_scope: bool,
) -> Shape:
    """The data report: rows read = used + every exclusion; rows in scope = used + the
    quality exclusions, whose total the excluded share publishes."""
    values: dict[str, int | None] = {ROWS_IN: rows_in, ROWS_USED: rows_used}
    values.update({excluded_name(r): n for r, n in excluded.items()})
    relations: list[Relation] = [
        (ROWS_IN, (ROWS_USED, *(excluded_name(r) for r in excluded))),
    ]
    if has_scope:
        checks = tuple(excluded_name(r) for r in excluded if r not in SCOPE_REASONS)
        values[IN_SCOPE] = in_scope
        values[QUALITY] = quality
        relations += [(IN_SCOPE, (ROWS_USED, *checks)), (QUALITY, checks)]
    return Shape(values, tuple(relations))


def linkage_shape(
    side: str, total: int | None, linked: int | None, unlinkable: int | None, *, true: bool
) -> Shape:
    """One side (incidents or records) of one agency's linkage rates: total = linked +
    unlinkable + the rest, and the rows not linked = unlinkable + the rest. With ``true``
    values, the unpublished quantities get theirs (so that secondary suppression can tell
    whether the relations hold)."""
    rest, not_linked = f"{side} neither linked nor unlinkable", f"{side} not linked"
    known = true and total is not None and linked is not None and unlinkable is not None
    return Shape(
        {
            side: total,
            f"{side} linked": linked,
            f"{side} unlinkable": unlinkable,
            rest: total - linked - unlinkable if known else None,  # type: ignore[operator]
            not_linked: total - linked if known else None,  # type: ignore[operator]
        },
        (
            (side, (f"{side} linked", f"{side} unlinkable", rest)),
            (not_linked, (f"{side} unlinkable", rest)),
        ),
        frozenset({rest, not_linked}),
    )


POST_TOTAL = "post-period total"


def series_shape(months: Mapping[str, int | None], total: int | None) -> Shape:
    """One outcome's post-period months and their total."""
    return Shape({**months, POST_TOTAL: total}, ((POST_TOTAL, tuple(months)),))


# --------------------------------------------------------------------------- the published files


def _known(shape: Shape, settings: DisclosureSettings | None) -> dict[str, Range]:
    return {
        n: (0, None) if n in shape.unpublished else known_range(v, settings)
        for n, v in shape.values.items()
    }


def published_tables(
    result: AnalysisResult, series: pd.DataFrame | None, where: str
) -> list[Table]:
    """Every additive table of one published results.json (and its series.csv), as a reader
    who knows the rule sees it."""
    settings = result.disclosure
    threshold, _ = rule_of(settings)
    data = result.data
    tables = []
    has_scope = data.in_scope is not None or data.excluded_share is not None
    quality: int | None = None
    if data.in_scope and data.excluded_share is not None:
        quality = round(data.excluded_share * data.in_scope)
    shape = data_shape(
        data.rows_in, data.rows_used, data.excluded, data.in_scope, quality, has_scope=has_scope
    )
    known = _known(shape, settings)
    if has_scope and data.in_scope is None and data.excluded_share is None:
        known[QUALITY] = (0, None)  # neither published: nothing is known of it
    tables.append(Table(f"{where}: data report", known, shape.relations, threshold))
    for rate in data.linkage or []:
        for side in ("incidents", "records"):
            shape = linkage_shape(
                f"{rate.agency} {side}",
                getattr(rate, side),
                getattr(rate, f"{side}_linked"),
                getattr(rate, f"{side}_unlinkable"),
                true=False,
            )
            name = f"{where}: linkage of {rate.agency} ({side})"
            tables.append(Table(name, _known(shape, settings), shape.relations, threshold))
    if series is not None and not series.empty and "observed" in series:
        tables += _series_tables(result, series, where, settings)
    return tables


def _series_tables(
    result: AnalysisResult, series: pd.DataFrame, where: str, settings: DisclosureSettings | None
) -> list[Table]:
    threshold, _ = rule_of(settings)
    lines = {line.outcome: line for line in (result.ledger.lines if result.ledger else [])}
    tables = []
    for outcome in result.outcomes:
        cumulative = outcome.cumulative
        if cumulative is None or cumulative.unit == "not additive":
            continue
        part = series[series["outcome"].astype(str) == outcome.outcome]
        post = part["post"].astype(str).str.lower().isin(("true", "1"))
        if "in_fit" in part:
            post &= part["in_fit"].astype(str).str.lower().isin(("true", "1"))
        if not post.any():
            continue
        values = pd.to_numeric(part.loc[post, "observed"], errors="coerce")
        months = {
            str(p): None if pd.isna(v) else int(v)
            for p, v in zip(part.loc[post, "period"], values, strict=True)
        }
        known = {m: known_range(v, settings) for m, v in months.items()}
        # The counterfactual minus the events averted (here or in the ledger) is the observed
        # total, exactly.
        averted = cumulative.averted
        if averted is None and outcome.outcome in lines:
            averted = lines[outcome.outcome].averted.estimate
        if averted is not None and cumulative.counterfactual is not None:
            exact = round(cumulative.counterfactual - averted)
            known[POST_TOTAL] = (exact, exact)
        else:
            observed = cumulative.observed
            known[POST_TOTAL] = known_range(None if observed is None else int(observed), settings)
        name = f"{where}: series.csv, post-period months of {outcome.outcome}"
        tables.append(Table(name, known, ((POST_TOTAL, tuple(months)),), threshold))
    return tables


def check_published(folder: Path) -> None:
    """Fail if a small count can be worked out from what the book publishes under ``folder``.

    Reads every published ``results.json`` (with the ``series.csv`` beside it, where there is
    one), builds each additive table a reader can see (:func:`published_tables`) and proves,
    with the protocol's threshold and rounding, that no count from 1 to ``threshold - 1`` can
    be worked out from them (:func:`disclosed`).

    Raises
    ------
    PublishError
        One line naming the file, the table and the count.
    """
    for path in sorted(folder.rglob("results.json")):
        try:
            result = AnalysisResult.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        series_path = path.parent / "series.csv"
        series = pd.read_csv(series_path) if series_path.is_file() else None
        check_tables(published_tables(result, series, str(path)))
