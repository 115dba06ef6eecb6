"""Check a long unit × period panel and reshape it to the arrays the estimator works on.

Conventions a reader could guess wrong:

- ``group`` is the first period a unit is treated, in the units of ``time`` (a year, a
  quarter index...). Never-treated units are coded 0, NaN or infinity. A unit first treated
  after the last period (plus anticipation) is never treated within the panel and is recoded
  as such, as R ``did`` does.
- Units already treated in the first period (``group <= first period + anticipation``) have
  no pre-treatment period; they are dropped, and the result says how many.
- The panel must be balanced: every unit observed once in every period, with a finite
  outcome. Nothing is imputed or silently dropped for that.
- Covariates may vary over time; the estimator uses each unit's value in the earlier of the
  two periods of each comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimators.staggered.options import CSSpec

# R did's rule: a group smaller than (number of covariates + 5) units is too small to trust.
MIN_GROUP_EXTRA = 5


@dataclass(frozen=True, eq=False)
class StaggeredPanel:
    """A balanced panel as arrays, ready for the 2 × 2 comparisons.

    Attributes
    ----------
    unit_ids : numpy.ndarray
        Unit identifiers, one per row of ``y``; rows are sorted by cohort (never treated
        last), then by id.
    periods : numpy.ndarray
        Sorted distinct values of the time variable (float).
    y : numpy.ndarray
        Outcome, shape ``(n_units, n_periods)``.
    cohort : numpy.ndarray
        First treated period per unit; ``inf`` for never treated (after recoding).
    cohort_values, cohort_sizes : numpy.ndarray
        Distinct cohorts (ascending, ``inf`` last) and their numbers of units.
    groups : numpy.ndarray
        Treated cohorts whose ATT(g,t) are estimated, ascending.
    x : numpy.ndarray or None
        Covariates, shape ``(n_units, n_periods, k)``; None without covariates.
    x_time_invariant : bool
        True when no covariate changes within a unit (lets fits be reused across periods).
    cluster : numpy.ndarray or None
        Integer cluster code per unit; None clusters by unit.
    n_clusters : int
        Number of clusters (``n_units`` when clustering by unit).
    notes : tuple of str
        What was recoded or dropped, in words.
    """

    unit_ids: np.ndarray
    periods: np.ndarray
    y: np.ndarray
    cohort: np.ndarray
    cohort_values: np.ndarray
    cohort_sizes: np.ndarray
    groups: np.ndarray
    x: np.ndarray | None
    x_time_invariant: bool
    cluster: np.ndarray | None
    n_clusters: int
    notes: tuple[str, ...]

    @property
    def n_units(self) -> int:
        return int(self.y.shape[0])

    @property
    def n_periods(self) -> int:
        return int(self.y.shape[1])


@dataclass(frozen=True, eq=False)
class WidePanel:
    """A validated long panel as arrays, before R ``did``'s recoding and dropping rules.

    Units are in ascending id order; ``cohort`` is each unit's group (``inf`` for never
    treated, as coded 0, NaN or inf). :func:`select_panel` turns it into the
    :class:`StaggeredPanel` an estimate uses, for these cohorts or any other assignment of
    them (randomisation inference re-cuts one wide panel instead of rebuilding it).
    """

    unit_ids: np.ndarray
    periods: np.ndarray
    y: np.ndarray
    cohort: np.ndarray
    x: np.ndarray | None
    cluster: np.ndarray | None


def build_panel(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    spec: CSSpec,
    cluster: str | None = None,
) -> StaggeredPanel:
    """Validate a long panel and return its arrays; ``data`` is read, never modified.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit and period.
    outcome, unit, time, group : str
        Column names: the outcome, the unit id, the period (numeric) and the first treated
        period (0, NaN or inf for never treated).
    spec : CSSpec
        Supplies the covariates, anticipation and comparison group.
    cluster : str, optional
        Column of a time-invariant cluster coarser than the unit (e.g. force when units are
        areas within forces); None clusters by unit.

    Returns
    -------
    StaggeredPanel

    Raises
    ------
    EstimationError
        If a column is missing or not numeric, the panel is unbalanced or has duplicate
        unit-periods, an outcome or covariate is missing, a unit's group or cluster changes
        over time, or no cohort can be compared (no never-treated units for
        ``control_group="never_treated"``, too small a comparison group, no treated cohort).
    """
    wide = wide_panel(
        data, outcome=outcome, unit=unit, time=time, group=group, spec=spec, cluster=cluster
    )
    return select_panel(wide, spec)


def wide_panel(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    spec: CSSpec,
    cluster: str | None = None,
) -> WidePanel:
    """The checks and reshaping of :func:`build_panel` (same arguments and errors), without
    the selection of units and periods."""
    if not isinstance(data, pd.DataFrame):
        raise EstimationError(
            f"Callaway-Sant'Anna needs a pandas DataFrame, got {type(data).__name__}."
        )
    names = {"outcome": outcome, "unit": unit, "time": time, "group": group}
    for role, name in names.items():
        if not isinstance(name, str):
            raise EstimationError(f"Callaway-Sant'Anna {role} must be a column name (a string).")
    needed = [outcome, unit, time, group, *spec.covariates]
    if cluster is not None:
        needed.append(cluster)
    missing = [c for c in dict.fromkeys(needed) if c not in data.columns]
    if missing:
        raise EstimationError(
            f"Callaway-Sant'Anna: column(s) {missing} not in the data; it has "
            f"{list(data.columns)[:20]}."
        )
    if len(data) == 0:
        raise EstimationError("Callaway-Sant'Anna: the data has no rows.")

    t_long = _numeric(data, time, "time")
    if not np.all(np.isfinite(t_long)):
        raise EstimationError(
            f"Callaway-Sant'Anna: time column {time!r} has missing or infinite values."
        )
    g_long = _numeric(data, group, "group")
    y_long = _numeric(data, outcome, "outcome")

    unit_codes, unit_ids = pd.factorize(data[unit], sort=True)
    if (unit_codes < 0).any():
        raise EstimationError(f"Callaway-Sant'Anna: unit column {unit!r} has missing ids.")
    t_codes, periods = pd.factorize(t_long, sort=True)
    n, n_t = len(unit_ids), len(periods)
    if n_t < 2:
        raise EstimationError(f"Callaway-Sant'Anna needs at least 2 periods; {time!r} has {n_t}.")
    cell = unit_codes.astype(np.int64) * n_t + t_codes
    counts = np.bincount(cell, minlength=n * n_t)
    if counts.max() > 1:
        dup = int(np.flatnonzero(counts > 1)[0])
        raise EstimationError(
            f"Callaway-Sant'Anna: unit {unit_ids[dup // n_t]!r} appears more than once in "
            f"period {periods[dup % n_t]:g}; the panel needs one row per unit and period."
        )
    if counts.min() == 0:
        per_unit = counts.reshape(n, n_t).sum(axis=1)
        short = np.flatnonzero(per_unit < n_t)
        raise EstimationError(
            f"Callaway-Sant'Anna needs a balanced panel: {len(short)} of {n} units are not "
            f"observed in all {n_t} periods (e.g. unit {unit_ids[short[0]]!r}, "
            f"{per_unit[short[0]]} periods). Drop those units or fill the missing periods."
        )

    y = _wide(y_long, cell, n, n_t)
    if not np.all(np.isfinite(y)):
        bad = np.flatnonzero(~np.isfinite(y).all(axis=1))
        raise EstimationError(
            f"Callaway-Sant'Anna: outcome {outcome!r} is missing or infinite for "
            f"{len(bad)} units (e.g. unit {unit_ids[bad[0]]!r}); the panel must be complete."
        )
    g_wide = _wide(g_long, cell, n, n_t)
    cohort = g_wide[:, 0].copy()
    cohort[np.isnan(cohort) | (cohort == 0)] = np.inf
    g_check = g_wide.copy()
    g_check[np.isnan(g_check) | (g_check == 0)] = np.inf
    varying = np.flatnonzero((g_check != cohort[:, None]).any(axis=1))
    if len(varying):
        raise EstimationError(
            f"Callaway-Sant'Anna: group column {group!r} changes over time for "
            f"{len(varying)} units (e.g. unit {unit_ids[varying[0]]!r}); it must hold the "
            "first treated period on every row of a unit (treatment is irreversible)."
        )
    if (cohort < 0).any():
        raise EstimationError(
            f"Callaway-Sant'Anna: group column {group!r} has negative values; code never "
            "treated units as 0 (or NaN or inf)."
        )

    x = None
    if spec.covariates:
        x = np.empty((n, n_t, len(spec.covariates)))
        for j, name in enumerate(spec.covariates):
            x[:, :, j] = _wide(_numeric(data, name, "covariate"), cell, n, n_t)
        if not np.all(np.isfinite(x)):
            raise EstimationError(
                f"Callaway-Sant'Anna: a covariate in {list(spec.covariates)} is missing or "
                "infinite; covariates must be complete."
            )

    cluster_codes = None
    if cluster is not None:
        c_codes = pd.factorize(data[cluster], sort=True)[0]
        if (c_codes < 0).any():
            raise EstimationError(f"Callaway-Sant'Anna: cluster column {cluster!r} has gaps.")
        c_wide = _wide(c_codes.astype(float), cell, n, n_t).astype(np.int64)
        if (c_wide != c_wide[:, :1]).any():
            raise EstimationError(
                f"Callaway-Sant'Anna: cluster column {cluster!r} changes over time within a "
                "unit; clusters must be time-invariant."
            )
        cluster_codes = c_wide[:, 0]

    return WidePanel(
        unit_ids=np.asarray(unit_ids),
        periods=periods.astype(float),
        y=y,
        cohort=cohort,
        x=x,
        cluster=cluster_codes,
    )


def select_panel(
    wide: WidePanel,
    spec: CSSpec,
    *,
    cohort: np.ndarray | None = None,
    y: np.ndarray | None = None,
) -> StaggeredPanel:
    """Apply R did's recoding and dropping rules, in R's order, and say what was done.

    ``cohort`` (per unit of ``wide``, ``inf`` for never treated) and ``y`` (units x periods)
    replace the wide panel's own: the panel ``build_panel`` gives for the same long data with
    that group or outcome column.
    """
    unit_ids, periods, x, cluster = wide.unit_ids, wide.periods, wide.x, wide.cluster
    cohort = wide.cohort if cohort is None else cohort
    y = wide.y if y is None else y
    notes: list[str] = []
    ant = spec.anticipation
    late = np.isfinite(cohort) & (cohort > periods[-1] + ant)
    if late.any():
        cohort = cohort.copy()
        cohort[late] = np.inf
        notes.append(
            f"{int(late.sum())} units first treated after the last period were treated as "
            "never treated."
        )

    exclude_last = None
    if not np.isinf(cohort).any():
        if spec.control_group == "never_treated":
            raise EstimationError(
                "Callaway-Sant'Anna: no never-treated units, so control_group='never_treated' "
                "has no comparison group; use control_group='not_yet_treated' (the last "
                "cohort to adopt then serves only as a comparison)."
            )
        exclude_last = float(cohort.max())
        keep_t = periods < exclude_last - ant
        if keep_t.sum() < 2:
            raise EstimationError(
                "Callaway-Sant'Anna: with no never-treated units, periods from the last "
                f"cohort's start ({exclude_last:g}) on have no comparison group, which leaves "
                "fewer than 2 periods."
            )
        notes.append(
            f"No never-treated units: periods from {exclude_last - ant:g} on were dropped and "
            f"the last cohort ({exclude_last:g}) serves only as a comparison group."
        )
        periods, y = periods[keep_t], y[:, keep_t]
        x = None if x is None else x[:, keep_t]

    first = periods[0]
    early = np.isfinite(cohort) & (cohort <= first + ant)
    if early.any():
        notes.append(
            f"{int(early.sum())} units already treated in the first period ({first:g}"
            + (f", anticipation {ant}" if ant else "")
            + ") have no pre-treatment period and were dropped."
        )
        keep = ~early
        unit_ids, y, cohort = unit_ids[keep], y[keep], cohort[keep]
        x = None if x is None else x[keep]
        cluster = None if cluster is None else cluster[keep]

    # Units in cohort order (never treated last, ids ascending within a cohort): each cohort,
    # and the units later than any cutoff, are then contiguous blocks of rows.
    order = np.argsort(cohort, kind="stable")
    unit_ids, y, cohort = unit_ids[order], y[order], cohort[order]
    x = None if x is None else x[order]
    cluster = None if cluster is None else cluster[order]
    starts = np.r_[0, np.flatnonzero(cohort[1:] != cohort[:-1]) + 1]
    values, sizes = cohort[starts], np.diff(np.r_[starts, len(cohort)])

    groups = values[np.isfinite(values)]
    if exclude_last is not None:
        groups = groups[groups < exclude_last]
    if len(groups) == 0:
        raise EstimationError(
            "Callaway-Sant'Anna: no treated cohort has both a pre-treatment period and a "
            "comparison group; check the group column (first treated period, 0 = never)."
        )

    k = 0 if x is None else x.shape[2]
    small = values[sizes < k + MIN_GROUP_EXTRA]
    if len(small):
        labels = ", ".join("never treated" if np.isinf(v) else f"{v:g}" for v in small)
        if np.isinf(small).any() and spec.control_group == "never_treated":
            raise EstimationError(
                f"Callaway-Sant'Anna: the never-treated group has fewer than {k + 5} units, "
                "too few to be a reliable comparison; use control_group='not_yet_treated'."
            )
        notes.append(f"Groups with fewer than {k + 5} units (estimates may be unstable): {labels}.")

    x_invariant = True if x is None else bool((x == x[:, :1, :]).all())
    if cluster is not None:
        _, cluster = np.unique(cluster, return_inverse=True)
        n_clusters = int(cluster.max()) + 1
        if n_clusters < 2:
            raise EstimationError("Callaway-Sant'Anna: clustering needs at least 2 clusters.")
    else:
        n_clusters = len(unit_ids)
    return StaggeredPanel(
        unit_ids=unit_ids,
        periods=periods,
        y=np.ascontiguousarray(y),
        cohort=cohort,
        cohort_values=values,
        cohort_sizes=sizes,
        groups=groups,
        x=x,
        x_time_invariant=x_invariant,
        cluster=cluster,
        n_clusters=n_clusters,
        notes=tuple(notes),
    )


def _numeric(data: pd.DataFrame, column: str, role: str) -> np.ndarray:
    series = data[column]
    if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
        raise EstimationError(
            f"Callaway-Sant'Anna: {role} column {column!r} must be numeric, got "
            f"{series.dtype}. Convert dates to a period number (e.g. year, or a quarter index)."
        )
    return series.to_numpy(dtype=float, na_value=np.nan)


def _wide(values: np.ndarray, cell: np.ndarray, n: int, n_t: int) -> np.ndarray:
    out = np.empty(n * n_t)
    out[cell] = values
    return out.reshape(n, n_t)
