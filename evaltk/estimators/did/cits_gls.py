r"""Comparative ITS model ``gls``: the difference of the two log rates by GLS with AR(1) errors.

Why this exists: the joint GLM of :class:`~evaltk.estimators.did.cits.CITSModel` takes its
errors as independent from month to month (model-based) or corrects them with a Newey-West
covariance whose few lags and short series cannot see slow variation. Measured on 300 null
datasets of two 72-month series with AR(1) month-to-month log noise (rho 0.5), a 5 % test of
the difference in level change rejected 15.3 % of the time (model-based quasi-Poisson) and
16.7-22.7 % (HAC); the placebo pre-trend test of a no-effect outcome then says "not parallel"
far too often. The same size problem in a single series is what
:mod:`evaltk.estimators.its.gls` solves, and this module reuses its REML fit.

The model. With the comparison series added up into one (counts and exposures of each month;
the mean of the series for ``gaussian``, whose values are not additive) and the months every
series has, the difference of the log rates

.. math::

    z_t = \log(y_{Tt}/E_{Tt}) - \log(y_{Ct}/E_{Ct})
        = (\alpha_T - \alpha_C) + \gamma_1 t + \gamma_2 L_t [+ \gamma_3 S_t] + e_t

(``y_T - y_C`` for ``gaussian``) has the comparison series' trend, level change and the
shared seasonality of the joint model cancelled: what is left are the treated series' own
terms of :class:`CITSModel`, and :math:`e^{\gamma_2}` is the same ratio of rate ratios. The
error :math:`e_t` is fitted by :func:`~evaltk.estimators.its.gls.fit_gls_ar1` with known
Poisson sampling variance :math:`1/\hat\mu_{Tt} + 1/\hat\mu_{Ct}` (delta method, :math:`\hat\mu`
from the joint Poisson GLM; zero for ``gaussian``) plus white and AR(1) variation of the
difference, variance parameters by REML; intervals and p-values use Student's t with the
Satterthwaite degrees of freedom of each coefficient.

The comparison series' own level change and trend (the ``comparison_level`` and
``comparison_time`` rows) come from a GLS ITS of the comparison log rate alone (intercept,
trend, level change [, slope change] and the seasonal terms), so that every row of the table
has the same kind of inference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimators.did.options import CITSSpec
from evaltk.estimators.did.panel import DiDPanel
from evaltk.estimators.did.results import tidy_row
from evaltk.estimators.effect import critical_value, p_value
from evaltk.estimators.its.gls import GLSFit, fit_gls_ar1

#: Columns of the joint design that are seasonal terms (shared by the two series).
_SEASONAL_PREFIXES = ("sin", "cos", "month")


@dataclass(frozen=True)
class CITSGLSFit:
    """The GLS inference of a comparative ITS.

    Attributes
    ----------
    rows : list of dict
        Tidy rows (:func:`tidy_row`): ``treated_level`` first, then ``treated_slope`` (with a
        slope change), ``comparison_level`` and ``comparison_time``.
    df : float
        Satterthwaite degrees of freedom of the headline (``treated_level``).
    effect : dict
        GLS coefficients of the treated series' own change, by joint-design column name
        (``treated_level``, ``treated_slope``): what the counterfactual takes away.
    text : str
        The inference in words.
    details : dict
        Degrees of freedom of every row and the variance parameters of both fits.
    difference : GLSFit
        The GLS fit of the difference series (the whole-system ledger's delta method and
        month influence read its covariances).
    x, z, clock : numpy.ndarray
        Its design (intercept, ``time``, ``level`` [, ``slope``]), response and month clocks.
    """

    rows: list[dict[str, Any]]
    df: float
    effect: dict[str, float]
    text: str
    details: dict[str, Any]
    difference: GLSFit | None = field(default=None, repr=False)
    x: np.ndarray | None = field(default=None, repr=False)
    z: np.ndarray | None = field(default=None, repr=False)
    clock: np.ndarray | None = field(default=None, repr=False)


def fit_cits_gls(
    panel: DiDPanel,
    treated_code: int,
    design: pd.DataFrame,
    mu: np.ndarray | None,
    spec: CITSSpec,
) -> CITSGLSFit:
    """Fit the difference series and the comparison series by GLS (see the module notes).

    Parameters
    ----------
    panel : DiDPanel
        The CITS panel (one row per series × month).
    treated_code : int
        Code of the treated series in ``panel.unit``.
    design : pandas.DataFrame
        The joint design of :meth:`CITSModel.design`, row for row with ``panel``: ``time``,
        ``level``, ``slope`` and the seasonal columns are read from it.
    mu : numpy.ndarray or None
        Fitted means of the joint Poisson GLM, row for row (None for ``gaussian``).
    spec : CITSSpec

    Raises
    ------
    EstimationError
        If a fitted month has no count in the treated or comparison series (log of zero), or
        the series are too short for the REML fit.
    """
    months = _monthly(panel, treated_code, design, mu, spec)
    log = spec.family != "gaussian"
    column = {name: months[name].to_numpy(dtype=float) for name in ("y_t", "e_t", "y_c", "e_c")}
    if log:
        _no_zero_months(months, panel)
        treated_z = np.log(column["y_t"] / column["e_t"])
        comparison_z = np.log(column["y_c"] / column["e_c"])
        known_c = 1.0 / months["mu_c"].to_numpy(dtype=float)
        known = 1.0 / months["mu_t"].to_numpy(dtype=float) + known_c
    else:
        treated_z, comparison_z = column["y_t"], column["y_c"]
        known_c = known = np.zeros(len(months))
    own = ["time", "level", *(["slope"] if spec.slope_change else [])]
    seasonal = [c for c in design.columns if c.startswith(_SEASONAL_PREFIXES)]
    clock = months["clock"].to_numpy(dtype=float)
    intercept = np.ones((len(months), 1))

    x_diff = np.hstack([intercept, months[own].to_numpy(dtype=float)])
    diff = fit_gls_ar1(treated_z - comparison_z, x_diff, clock, known)
    x_comp = np.hstack([intercept, months[own + seasonal].to_numpy(dtype=float)])
    comp = fit_gls_ar1(comparison_z, x_comp, clock, known_c)

    rows, dfs = [], {}
    effect: dict[str, float] = {}
    treated_terms = {"treated_level": 2, **({"treated_slope": 3} if spec.slope_change else {})}
    for term, j in treated_terms.items():
        row, dfs[term] = _row(term, diff, j, spec)
        rows.append(row)
        effect[term] = float(diff.params[j])
    for term, j in (("comparison_level", 2), ("comparison_time", 1)):
        row, dfs[term] = _row(term, comp, j, spec)
        rows.append(row)
    df = dfs["treated_level"]
    difference = "log rates" if log else "series"
    several = (panel.n_units - 1) > 1
    summed = " (comparison series added up)" if several and log else ""
    summed = " (mean of the comparison series)" if several and not log else summed
    text = (
        f"GLS of the difference of the two {difference}{summed} with "
        + ("Poisson sampling, " if log else "")
        + "white and AR(1) errors, variance parameters by REML "
        f"(month-to-month correlation {diff.rho:.2f}); Student t with {_df_words(df)} "
        "Satterthwaite degrees of freedom; the comparison rows from a GLS interrupted time "
        f"series of the comparison series alone; {panel.n_units} series (too few to cluster)."
    )
    details = {
        "df": {term: (value if math.isfinite(value) else None) for term, value in dfs.items()},
        "months": len(months),
        "difference": _variance_parts(diff),
        "comparison": _variance_parts(comp),
    }
    return CITSGLSFit(
        rows=rows,
        df=df,
        effect=effect,
        text=text,
        details=details,
        difference=diff,
        x=x_diff,
        z=treated_z - comparison_z,
        clock=clock,
    )


def _monthly(
    panel: DiDPanel,
    treated_code: int,
    design: pd.DataFrame,
    mu: np.ndarray | None,
    spec: CITSSpec,
) -> pd.DataFrame:
    """One row per month that every series has: treated and (added-up) comparison outcome,
    exposure and fitted mean, with the treated series' columns of the joint design."""
    p = panel
    frame = pd.DataFrame(
        {
            "clock": p.clock,
            "y": p.y.astype(float),
            "e": p.exposure if p.exposure is not None else np.ones(p.n_obs),
            "mu": mu if mu is not None else np.zeros(p.n_obs),
        }
    )
    treated = p.unit == treated_code
    seasonal = [c for c in design.columns if c.startswith(_SEASONAL_PREFIXES)]
    own = ["time", "level", *(["slope"] if spec.slope_change else [])]
    terms = design.loc[treated, own + seasonal].reset_index(drop=True)
    head = pd.concat([frame[treated].reset_index(drop=True), terms], axis=1)
    head = head.rename(columns={"y": "y_t", "e": "e_t", "mu": "mu_t"})
    others = frame[~treated]
    # Counts and exposures add up across the comparison series; a gaussian measure's values
    # (a mean, a share) do not, so their mean is the comparison series.
    add = "sum" if spec.family != "gaussian" else "mean"
    comparison = others.groupby("clock").agg(
        y_c=("y", add), e_c=("e", "sum"), mu_c=("mu", "sum"), n=("y", "size")
    )
    # A month missing from one comparison series would change what the sum is a sum of.
    comparison = comparison[comparison["n"] == p.n_units - 1].drop(columns="n")
    return head.merge(comparison, left_on="clock", right_index=True).reset_index(drop=True)


def _no_zero_months(months: pd.DataFrame, panel: DiDPanel) -> None:
    treated_zero = months["y_t"].to_numpy() <= 0
    zero = treated_zero | (months["y_c"].to_numpy() <= 0)
    if not zero.any():
        return
    clocks = months["clock"].to_numpy()
    named = ", ".join(
        f"{_month(panel, clocks[i])} ({'treated' if treated_zero[i] else 'comparison'})"
        for i in np.flatnonzero(zero)[:5]
    )
    raise EstimationError(
        f"CITS model 'gls' takes the log of each month's count, and {int(zero.sum())} fitted "
        f"month(s) have none in the treated or comparison series ({named}); use model 'glm' "
        "for a sparse series."
    )


def _month(panel: DiDPanel, clock: float) -> str:
    label = panel.period_label(clock)
    return f"{label:%Y-%m}" if isinstance(label, pd.Timestamp) else str(label)


def _row(term: str, fit: GLSFit, j: int, spec: CITSSpec) -> tuple[dict[str, Any], float]:
    """Tidy row of coefficient ``j`` with its Satterthwaite t interval and p-value."""
    contrast = np.zeros(len(fit.params))
    contrast[j] = 1.0
    df = fit.contrast_df(contrast)
    b, se = float(fit.params[j]), float(math.sqrt(fit.cov[j, j]))
    q = critical_value(spec.level, df)
    p = p_value(b, se, df)
    # A variance parameter on the edge of what the series identify (an AR(1) correlation near
    # 1 against a trend) can leave a fraction of a degree of freedom: the interval is then
    # unbounded on the ratio scale, which is what it should say.
    with np.errstate(over="ignore"):
        return tidy_row(term, b, b - q * se, b + q * se, p, spec.scale, se), df


def _df_words(df: float) -> str:
    return f"{df:.1f}" if math.isfinite(df) else "infinite"


def _variance_parts(fit: GLSFit) -> dict[str, float]:
    return {
        "s2_white": fit.s2_white,
        "s2_ar": fit.s2_ar,
        "rho": fit.rho,
        "reml_loglik": fit.reml_loglik,
    }
