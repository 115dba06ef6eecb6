"""Check a monthly series and build the segmented-regression design matrix for it.

Conventions a reader could guess wrong:

- ``time`` counts months from the first row, starting at 1 (washout months keep their number).
- ``level`` is 1 from the intervention month **INCLUSIVE**: the row whose period equals
  ``start`` is the first post-intervention month.
- ``slope`` is ``(time - time_start + 1) * level``, so it is 1 in the intervention month, 2 in
  the next, and so on (Bernal et al.'s ``I(time - 36):smokban`` with the ban at ``time`` 37).
- Fourier terms use the calendar month ``m`` (1-12): ``sin_k = sin(2 pi k m / 12)``,
  ``cos_k = cos(2 pi k m / 12)``, as R ``tsModel::harmonic(month, K, 12)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimators.its.options import COUNT_FAMILIES, ITSSpec

MIN_PRE = 3
MIN_POST = 3
EFFECT_TERMS = ("level", "slope")


@dataclass(frozen=True, eq=False)
class ITSDesign:
    """Everything the fit needs, derived from the caller's frame without touching it.

    Attributes
    ----------
    periods : pandas.DatetimeIndex
        Month-start timestamps, consecutive.
    y : numpy.ndarray
        Outcome, one value per period.
    exposure : numpy.ndarray or None
        Positive exposure (e.g. population), entered as ``log(exposure)`` offset.
    exog : pandas.DataFrame
        Design matrix for every period (washout months included), indexed by period.
    exog_counterfactual : pandas.DataFrame
        ``exog`` with the level and slope columns set to 0.
    in_fit : numpy.ndarray of bool
        Rows used in the fit (all but the washout months).
    post : numpy.ndarray of bool
        Rows from the intervention month on, washout included.
    start : pandas.Timestamp
        First month of the intervention.
    """

    periods: pd.DatetimeIndex
    y: np.ndarray
    exposure: np.ndarray | None
    exog: pd.DataFrame
    exog_counterfactual: pd.DataFrame
    in_fit: np.ndarray
    post: np.ndarray
    start: pd.Timestamp

    @property
    def offset(self) -> np.ndarray | None:
        """``log(exposure)``, or None without exposure."""
        return None if self.exposure is None else np.log(self.exposure)

    @property
    def post_sum(self) -> np.ndarray:
        """Rows that count towards post-period sums: post and fitted (washout excluded)."""
        return self.post & self.in_fit

    @property
    def n_pre(self) -> int:
        return int((~self.post).sum())

    @property
    def n_post(self) -> int:
        return int(self.post_sum.sum())

    @property
    def n_washout(self) -> int:
        return int((self.post & ~self.in_fit).sum())


def build_design(
    series: pd.DataFrame, start: object, spec: ITSSpec, *, allow_gaps: bool = False
) -> ITSDesign:
    """Validate ``series`` and build the design for an ITS fit.

    Parameters
    ----------
    series : pandas.DataFrame
        Columns ``period`` (month-start timestamps, one row per consecutive month), ``y`` and
        optionally ``exposure``. Row order does not matter; the frame is not modified.
    start : timestamp-like
        First month of the intervention (a month start). It counts as post-intervention.
    spec : ITSSpec
        The model options.
    allow_gaps : bool
        Accept missing months (e.g. a share with no denominator that month). ``time`` still
        counts calendar months, so trend and slope are unaffected; the autocorrelation
        diagnostics and HAC treat the months either side of a gap as adjacent.

    Returns
    -------
    ITSDesign

    Raises
    ------
    EstimationError
        On a missing column, a period that is not a month start, a duplicated or missing month,
        a missing or negative outcome, a non-positive exposure, exposure with the gaussian
        family, fewer than 3 months before or after the intervention, or a rank-deficient
        design.
    """
    if not isinstance(series, pd.DataFrame):
        raise EstimationError(
            f"ITS needs a DataFrame with columns 'period' and 'y', got {type(series).__name__}."
        )
    missing = [c for c in ("period", "y") if c not in series.columns]
    if missing:
        raise EstimationError(
            f"ITS series lacks column(s) {', '.join(map(repr, missing))}; it needs 'period' "
            f"(month start), 'y' and optionally 'exposure'. Columns given: "
            f"{', '.join(map(str, series.columns))}."
        )
    frame = pd.DataFrame(
        {"period": _as_month_starts(series["period"], "period"), "y": series["y"].to_numpy()}
    )
    has_exposure = "exposure" in series.columns
    if has_exposure:
        frame["exposure"] = series["exposure"].to_numpy()
    frame = frame.sort_values("period", kind="stable").reset_index(drop=True)
    periods = pd.DatetimeIndex(frame["period"], name="period")
    if not allow_gaps:
        _check_consecutive(periods)
    elif periods.has_duplicates:
        _check_consecutive(periods)  # names the duplicated month

    y = _outcome(frame, spec)
    exposure = None
    if has_exposure:
        if spec.family == "gaussian":
            raise EstimationError(
                "ITS family 'gaussian' models y on the identity scale and takes no exposure "
                "offset; drop the 'exposure' column (model a rate as y) or use a count family."
            )
        exposure = _exposure(frame)

    start_ts = _as_month_starts(pd.Series([start]), "start").iloc[0]
    post = np.asarray(periods >= start_ts)
    washout_end = start_ts + pd.DateOffset(months=spec.washout_months)
    in_fit = ~(post & np.asarray(periods < washout_end))
    exog = design_matrix(periods, start_ts, spec)
    exog_cf = exog.copy()
    for term in EFFECT_TERMS:
        if term in exog_cf:
            exog_cf[term] = 0.0
    design = ITSDesign(
        periods=periods,
        y=y,
        exposure=exposure,
        exog=exog,
        exog_counterfactual=exog_cf,
        in_fit=in_fit,
        post=post,
        start=start_ts,
    )
    _check_enough(design, spec)
    _check_rank(design, spec)
    if spec.family in COUNT_FAMILIES and y[in_fit].sum() == 0:
        raise EstimationError(
            "ITS outcome 'y' is zero in every fitted month; a count model cannot be fitted."
        )
    return design


def design_matrix(periods: pd.DatetimeIndex, start: pd.Timestamp, spec: ITSSpec) -> pd.DataFrame:
    """Segmented-regression design matrix for consecutive monthly ``periods``.

    Parameters
    ----------
    periods : pandas.DatetimeIndex
        Consecutive month starts.
    start : pandas.Timestamp
        First intervention month (INCLUSIVE: ``level`` is 1 there).
    spec : ITSSpec
        Which terms to include.

    Returns
    -------
    pandas.DataFrame
        Columns ``intercept``, ``time``, ``level``, ``slope`` (with ``slope_change``), then
        ``sin1, cos1, ...`` (Fourier) or ``month_02 ... month_12`` (indicators), indexed by
        period.

    Notes
    -----
    ``time_t = 1..n``; ``level_t = 1[period_t >= start]``;
    ``slope_t = (time_t - time_start + 1) * level_t``; for Fourier seasonality with calendar
    month ``m_t``: ``sin_k = sin(2 pi k m_t / 12)`` and ``cos_k = cos(2 pi k m_t / 12)``.
    """
    n = len(periods)
    # Calendar months since the first period, so a gap (allowed on request) keeps the clock.
    first = periods[0]
    time = np.asarray((periods.year - first.year) * 12 + (periods.month - first.month), float) + 1
    level = np.asarray(periods >= start, dtype=float)
    months_since_start = (periods.year - start.year) * 12 + (periods.month - start.month)
    cols: dict[str, np.ndarray] = {
        "intercept": np.ones(n),
        "time": time,
        "level": level,
    }
    if spec.slope_change:
        cols["slope"] = (np.asarray(months_since_start, dtype=float) + 1.0) * level
    month = np.asarray(periods.month, dtype=float)
    if spec.seasonality == "fourier":
        for k in range(1, spec.harmonics + 1):
            angle = 2.0 * np.pi * k * month / 12.0
            cols[f"sin{k}"] = np.sin(angle)
            cols[f"cos{k}"] = np.cos(angle)
    elif spec.seasonality == "month":
        for m in range(2, 13):
            cols[f"month_{m:02d}"] = (month == m).astype(float)
    return pd.DataFrame(cols, index=periods)


def _as_month_starts(values: pd.Series, what: str) -> pd.Series:
    if isinstance(values.dtype, pd.PeriodDtype):
        values = values.dt.to_timestamp()
    try:
        stamps = pd.to_datetime(values)
    except (ValueError, TypeError) as exc:
        raise EstimationError(
            f"ITS {what} must be dates (month starts such as 2005-01-01): {exc}"
        ) from exc
    if getattr(stamps.dt, "tz", None) is not None:
        raise EstimationError(f"ITS {what} must be time-zone naive month starts.")
    if stamps.isna().any():
        row = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        raise EstimationError(f"ITS {what} is missing in row {row}; every row needs a month.")
    month_start = stamps.dt.to_period("M").dt.to_timestamp()
    bad = stamps.to_numpy() != month_start.to_numpy()
    if bad.any():
        first = stamps[bad].iloc[0]
        raise EstimationError(
            f"ITS {what} {first} is not the start of a month; give each month as its first day "
            f"(e.g. {first.strftime('%Y-%m')}-01)."
        )
    return stamps.astype("datetime64[ns]")


def _check_consecutive(periods: pd.DatetimeIndex) -> None:
    index = np.asarray(periods.year * 12 + periods.month - 1)
    steps = np.diff(index)
    dup = np.flatnonzero(steps == 0)
    if dup.size:
        month = periods[dup[0]].strftime("%Y-%m")
        raise EstimationError(
            f"ITS series has more than one row for {month}; aggregate to one row per month."
        )
    gaps = np.flatnonzero(steps > 1)
    if gaps.size:
        i = gaps[0]
        first_missing = periods[i] + pd.DateOffset(months=1)
        last_missing = periods[i + 1] - pd.DateOffset(months=1)
        span = first_missing.strftime("%Y-%m")
        if last_missing != first_missing:
            span += f" to {last_missing.strftime('%Y-%m')}"
        raise EstimationError(
            f"ITS series has a gap: no row for {span} (between "
            f"{periods[i].strftime('%Y-%m')} and {periods[i + 1].strftime('%Y-%m')}"
            f"{f'; {gaps.size} gaps in all' if gaps.size > 1 else ''}). ITS needs one row per "
            "consecutive month: add the missing months (y = 0 if there were no events)."
        )


def _outcome(frame: pd.DataFrame, spec: ITSSpec) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(frame["y"]) or pd.api.types.is_bool_dtype(frame["y"]):
        raise EstimationError(f"ITS outcome 'y' must be numeric, got dtype {frame['y'].dtype}.")
    y = frame["y"].to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(y)
    if bad.any():
        raise EstimationError(
            f"ITS outcome 'y' is missing or infinite for {_months(frame, bad)}; fill it (0 if "
            "there were no events) or shorten the series."
        )
    if spec.family in COUNT_FAMILIES and (y < 0).any():
        raise EstimationError(
            f"ITS outcome 'y' is negative for {_months(frame, y < 0)}; family "
            f"{spec.family!r} needs counts (>= 0)."
        )
    return y


def _exposure(frame: pd.DataFrame) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(frame["exposure"]):
        raise EstimationError(
            f"ITS 'exposure' must be numeric, got dtype {frame['exposure'].dtype}."
        )
    exposure = frame["exposure"].to_numpy(dtype=float, na_value=np.nan)
    bad = ~(np.isfinite(exposure) & (exposure > 0))
    if bad.any():
        raise EstimationError(
            f"ITS 'exposure' must be positive and finite; it is not for {_months(frame, bad)}. "
            "Fix the population (or other exposure) for those months."
        )
    return exposure


def _months(frame: pd.DataFrame, mask: np.ndarray, limit: int = 5) -> str:
    months = frame["period"][mask].dt.strftime("%Y-%m").tolist()
    more = f" and {len(months) - limit} more" if len(months) > limit else ""
    return ", ".join(months[:limit]) + more


def _check_enough(design: ITSDesign, spec: ITSSpec) -> None:
    if design.n_pre >= MIN_PRE and design.n_post >= MIN_POST:
        return
    washout = (
        f" (not counting the {spec.washout_months}-month washout)" if spec.washout_months else ""
    )
    raise EstimationError(
        f"ITS needs at least {MIN_PRE} months before and {MIN_POST} after the intervention "
        f"(Cochrane EPOC criterion); with start {design.start.strftime('%Y-%m')} the series "
        f"{design.periods[0].strftime('%Y-%m')} to {design.periods[-1].strftime('%Y-%m')} has "
        f"{design.n_pre} before and {design.n_post} after{washout}."
    )


def _check_rank(design: ITSDesign, spec: ITSSpec) -> None:
    x = design.exog.to_numpy()[design.in_fit]
    rank = np.linalg.matrix_rank(x)
    if rank == x.shape[1] and x.shape[0] > x.shape[1]:
        return
    hint = (
        " Month indicators need every calendar month in the fit; use seasonality='fourier' "
        "with fewer harmonics, or 'none'."
        if spec.seasonality == "month"
        else " Use fewer seasonal terms or a longer series."
    )
    raise EstimationError(
        f"ITS design has {x.shape[1]} terms ({', '.join(design.exog.columns)}) but only "
        f"{x.shape[0]} fitted months and rank {rank}: the model is not identified.{hint}"
    )
