"""The Callaway & Sant'Anna model: data and spec in, nothing estimated until ``fit()``."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pandas as pd

from evaltk.estimators.effect import critical_value, p_values
from evaltk.estimators.staggered.attgt import estimate_cells
from evaltk.estimators.staggered.bootstrap import bootstrap_se, multiplier_draws, sup_t_critical
from evaltk.estimators.staggered.data import StaggeredPanel, build_panel
from evaltk.estimators.staggered.format import label, whole_labels
from evaltk.estimators.staggered.inference import analytical_se
from evaltk.estimators.staggered.options import CSInference, CSSpec, resolve_level
from evaltk.estimators.staggered.pretest import wald_pretest
from evaltk.estimators.staggered.results import LABELS, CSResult


class CallawaySantAnna:
    r"""Staggered-adoption difference-in-differences of Callaway & Sant'Anna (2021).

    Parameters
    ----------
    data : pandas.DataFrame
        Balanced long panel, one row per unit and period. Read, never modified.
    outcome, unit, time : str
        Columns of the outcome, unit id and period (numeric: year, quarter index...).
    group : str
        Column of the first period each unit is treated, constant within unit; never treated
        coded 0, NaN or inf.
    covariates : list of str, optional
        Covariates for conditional parallel trends (values from the earlier period of each
        comparison).
    control_group : {"never_treated", "not_yet_treated"}
    est_method : {"dr", "ipw", "reg"}
    base_period : {"varying", "universal"}
    anticipation : int
        Periods before treatment in which units may already respond.
    cluster : str, optional
        Time-invariant column to cluster on, coarser than the unit; by default standard
        errors are clustered by unit.

    Raises
    ------
    EstimationError
        If the data cannot support the design (see
        :func:`~evaltk.estimators.staggered.data.build_panel`); checked here, before any
        estimation.

    Notes
    -----
    For cohort g (units first treated in period g) and period t, with base period
    :math:`b` (:math:`g-1-\delta` after treatment, :math:`t-1` before it with the varying
    base) and comparison units C (never treated, or not yet treated by
    :math:`\max(t, b) + \delta`),

    .. math::

        ATT(g,t) = E[Y_t - Y_b \mid G = g] - E[Y_t - Y_b \mid C],

    the second term adjusted for covariates by outcome regression, inverse probability
    weighting or both (:mod:`~evaltk.estimators.staggered.estimators`). Each ATT(g,t) has a
    per-unit influence function :math:`\psi_{gt}`; standard errors are
    :math:`\sqrt{\sum_i \psi_{i,gt}^2}/n` (R ``did`` with ``bstrap=FALSE``) or come from
    the multiplier bootstrap (:mod:`~evaltk.estimators.staggered.bootstrap`). Aggregations
    (:meth:`CSResult.aggregate`) weight cells by cohort share and carry the estimation of the
    weights into their influence functions. Agreement with R ``did`` 2.x on ``mpdta`` is
    tested to 1e-6 in every estimate and 1e-4 (relative) in every standard error.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        outcome: str,
        unit: str,
        time: str,
        group: str,
        covariates: list[str] | tuple[str, ...] | None = None,
        control_group: str = "never_treated",
        est_method: str = "dr",
        base_period: str = "varying",
        anticipation: int = 0,
        cluster: str | None = None,
    ) -> None:
        covs = () if covariates is None else covariates
        self._spec = CSSpec(
            control_group=control_group,  # type: ignore[arg-type]
            est_method=est_method,  # type: ignore[arg-type]
            base_period=base_period,  # type: ignore[arg-type]
            anticipation=anticipation,
            covariates=covs if isinstance(covs, str) else tuple(covs),
        )
        self._columns = MappingProxyType(
            {"outcome": outcome, "unit": unit, "time": time, "group": group, "cluster": cluster}
        )
        self._panel = build_panel(
            data,
            outcome=outcome,
            unit=unit,
            time=time,
            group=group,
            spec=self._spec,
            cluster=cluster,
        )

    @property
    def spec(self) -> CSSpec:
        return self._spec

    @property
    def panel(self) -> StaggeredPanel:
        """The validated panel as arrays."""
        return self._panel

    def fit(
        self,
        bootstrap: bool = False,
        n_boot: int = 999,
        seed: int = 0,
        cband: bool = False,
        *,
        level: float | None = None,
        multiplier: str = "rademacher",
        alpha: float | None = None,
    ) -> CSResult:
        """Estimate every ATT(g,t), their standard errors and the pre-trend test.

        Parameters
        ----------
        bootstrap : bool
            Multiplier-bootstrap standard errors (for the ATT(g,t) and every aggregation)
            instead of analytical ones.
        n_boot : int
            Bootstrap draws.
        seed : int
            Seed of the draws (0 by default, so results are reproducible).
        cband : bool
            Simultaneous bands (sup-t, from the bootstrap draws) for the ATT(g,t) and, by
            default, for the levels of each aggregation.
        level : float, optional
            Confidence level of the intervals; 0.95 by default.
        multiplier : {"rademacher", "mammen"}
            Bootstrap weights; R ``did`` uses Rademacher.
        alpha : float, optional
            ``1 - level``, R ``did``'s way of saying it; accepted instead of ``level`` so that
            code written against R reads the same.

        Returns
        -------
        CSResult

        Raises
        ------
        EstimationError
            If an option is invalid or a 2 × 2 estimator fails (the message names the cell).
        """
        inf_opts = CSInference(
            bootstrap=bootstrap,
            n_boot=n_boot,
            seed=seed,
            cband=cband,
            level=resolve_level(level, alpha, default=0.95),
            multiplier=multiplier,  # type: ignore[arg-type]
        )
        p = self._panel
        est = estimate_cells(p, self._spec)
        n, k = p.n_units, len(est.att)
        se = analytical_se(est.inf, p.cluster, p.n_clusters)
        pre = (est.cells["group"] > est.cells["time"]).to_numpy()
        pretest = wald_pretest(est.att, pre, se, est.inf, p.cluster, p.n_clusters)

        groups = p.groups
        member = p.cohort[:, None] == groups[None, :]
        pg = member.mean(axis=0)
        indicators = member - pg

        draws = None
        notes: list[str] = []
        crit = critical_value(inf_opts.level, like_r=True)
        if inf_opts.draws:
            draws = multiplier_draws(
                np.hstack([est.inf, indicators]),
                n_boot=n_boot,
                seed=seed,
                multiplier=multiplier,
                cluster=p.cluster,
                n_clusters=p.n_clusters,
            )
            bse = bootstrap_se(draws[:, :k], n, p.n_clusters)
            if bootstrap:
                se = np.where(np.isfinite(se), bse, np.nan)
            if cband:
                crit = sup_t_critical(draws[:, :k], bse, inf_opts.level, n, p.n_clusters)
                if not np.isfinite(crit):
                    notes.append(
                        "No ATT(g,t) has bootstrap variation, so no simultaneous band could be "
                        "formed; intervals are pointwise."
                    )
                    crit = critical_value(inf_opts.level, like_r=True)

        cells = est.cells.copy()
        cells["att"] = est.att
        cells["std_error"] = se
        cells["ci_low"] = est.att - crit * se
        cells["ci_high"] = est.att + crit * se
        cells["p_value"] = p_values(est.att, se)
        cells = whole_labels(cells, LABELS)

        sizes = {label(v): int(c) for v, c in zip(p.cohort_values, p.cohort_sizes, strict=True)}
        return CSResult(
            spec=self._spec,
            inference=inf_opts,
            columns=self._columns,
            n_units=n,
            n_clusters=p.n_clusters,
            periods=tuple(float(t) for t in p.periods),
            groups=tuple(float(g) for g in groups),
            group_sizes=MappingProxyType(sizes),
            pretest=pretest,
            crit_val=float(crit),
            notes=p.notes + est.notes + tuple(notes),
            _cells=cells,
            _inf=est.inf,
            _indicators=indicators,
            _pg=pg,
            _draws=draws,
            _cluster=p.cluster,
            _unit_ids=p.unit_ids,
        )
