"""Event study: two-way fixed effects with leads and lags of adoption, and a pre-trend test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimators.did.base import PanelModel, headline_result, inference_spec
from evaltk.estimators.did.design import (
    Coefficients,
    TwoWayProjector,
    fit_linear,
    fit_poisson,
    linear_response,
    log_offset,
    poisson_design,
    wild_design,
)
from evaltk.estimators.did.inference import (
    CoefficientProblem,
    InferenceOutcome,
    bootstrap_groups,
    choose_method,
    run_inference,
)
from evaltk.estimators.did.options import EventStudySpec, InferenceSpec
from evaltk.estimators.did.panel import DiDPanel
from evaltk.estimators.did.randomization import assignments, p_value
from evaltk.estimators.did.results import EventStudyResult, PreTrendTest
from evaltk.estimators.did.score_bootstrap import PoissonScoreBootstrap
from evaltk.estimators.did.wild_bootstrap import LinearWCR, draw_weights


@dataclass(frozen=True)
class EventBins:
    """Event-time bins of a spec: ``bins`` in order, reference ``-1`` left out of ``columns``."""

    leads: int
    lags: int
    width: int

    @property
    def columns(self) -> list[int]:
        return [b for b in range(-self.leads, self.lags + 1) if b != -1]

    @property
    def lead_columns(self) -> list[int]:
        return [i for i, b in enumerate(self.columns) if b < -1]

    @property
    def lag_columns(self) -> list[int]:
        return [i for i, b in enumerate(self.columns) if b >= 0]

    def names(self) -> tuple[str, ...]:
        return tuple(f"event_{b:+d}" for b in self.columns)

    def matrix(self, panel: DiDPanel, start: np.ndarray) -> np.ndarray:
        """``(N, p)`` bin indicators under adoption periods ``start`` (0 for never treated)."""
        unit_start = start[panel.unit]
        treated_unit = np.isfinite(unit_start)
        event = np.where(treated_unit, panel.clock - np.where(treated_unit, unit_start, 0), 0)
        b = np.clip(np.floor(event / self.width), -self.leads, self.lags).astype(int)
        out = np.zeros((panel.n_obs, len(self.columns)))
        index = {bin_: i for i, bin_ in enumerate(self.columns)}
        for bin_, i in index.items():
            out[:, i] = (treated_unit & (b == bin_)).astype(float)
        return out


class EventStudyModel(PanelModel):
    r"""Event study with binned endpoints and reference bin ``-1``.

    Parameters are those of :class:`~evaltk.estimators.did.base.PanelModel`; ``spec`` is an
    :class:`~evaltk.estimators.did.options.EventStudySpec` (``leads``, ``lags``, ``width``).

    Notes
    -----
    With event time :math:`e_{it} = t - s_i` grouped into bins :math:`b(e) =
    \min(\max(\lfloor e / w \rfloor, -L), K)` (so bins :math:`-L` and :math:`K` hold every
    earlier and later period),

    .. math::

        y_{it} = \alpha_i + \lambda_t + \sum_{b \ne -1} \beta_b 1[b(e_{it}) = b]
            + \varepsilon_{it}

    (Poisson: :math:`\log E[y_{it}] = \log E_{it} + \ldots`). Never-treated units have every
    indicator zero; :math:`\beta_{-1} = 0` is the reference. The headline effect is the mean
    of the post-adoption coefficients :math:`\bar\beta = \frac{1}{K+1}\sum_{b=0}^{K}\beta_b`
    (for Poisson, :math:`e^{\bar\beta}`, the geometric mean of the rate ratios). The pre-trend
    test is the joint test :math:`\beta_{-L} = \ldots = \beta_{-2} = 0` under the same
    inference as the effect: cluster-robust Wald :math:`F = W/q` against
    :math:`F(q, G - 1)`; the bootstrap Wald (linear) or score (Poisson) statistic with the
    null imposed; or the Wald statistic's distribution over permuted adoption dates. With
    heterogeneous effects across adoption cohorts TWFE leads and lags can be contaminated by
    other bins (Sun & Abraham 2021): read them with the Callaway-Sant'Anna event study.
    """

    design = "event_study"
    spec_type = EventStudySpec

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        spec = self._spec
        assert isinstance(spec, EventStudySpec)
        self._bins = EventBins(spec.leads, spec.lags, spec.width)
        X = self._bins.matrix(self._panel, self._panel.start)
        empty = [n for n, col in zip(self._bins.names(), X.T, strict=True) if not col.any()]
        if empty:
            raise EstimationError(
                f"event-time bin(s) {', '.join(empty)} have no observations; use fewer leads or "
                "lags, or a wider bin width."
            )

    def fit(self, inference: InferenceSpec | str | None = None) -> EventStudyResult:
        """Fit, infer for every bin and the average effect, and test the pre-trends.

        Returns
        -------
        EventStudyResult
        """
        inf = inference_spec(inference)
        panel, spec, bins = self._panel, self._spec, self._bins
        assert isinstance(spec, EventStudySpec)
        method, reason = choose_method(inf, panel.n_units)
        X = bins.matrix(panel, panel.start)
        names = bins.names()
        p = len(names)
        groups, _ = bootstrap_groups(inf, panel.unit, panel.clock)
        n_boot = panel.n_units if groups is None else int(np.unique(groups).size)
        weights = (
            draw_weights(n_boot, inf.draws, inf.weights, inf.seed)
            if method == "wild_bootstrap"
            else None
        )
        plan = (
            assignments(panel.start, inf.permutations, inf.seed)
            if method == "randomization"
            else None
        )
        if spec.family == "linear":
            y = linear_response(panel, spec.per)
            _, coefs = fit_linear(panel, y, pd.DataFrame(X, columns=list(names)))
            boot_y, boot_X = wild_design(panel, y, X)
            ri: _LinearRI | _PoissonRI | None = (
                _LinearRI(panel, y, bins, X) if method == "randomization" else None
            )
            offset = None
        else:
            boot_X = poisson_design(panel, X)
            res, coefs = fit_poisson(panel, boot_X, names)
            boot_y, offset = panel.y, log_offset(panel)
            ri = (
                _PoissonRI(panel, bins, np.asarray(res.params))
                if method == "randomization"
                else None
            )

        def problem(w: np.ndarray, column: int | None) -> CoefficientProblem:
            linear_ri = poisson_ri = None
            if isinstance(ri, _LinearRI):
                linear_ri = ri.combination(w, column)
            elif isinstance(ri, _PoissonRI):
                poisson_ri = ri.combination(w)
            return CoefficientProblem(
                spec.family,
                coefs,
                w,
                panel.unit,
                boot_y,
                boot_X,
                offset,
                panel.start,
                panel.clock,
                ri_linear=linear_ri,
                ri_estimate=poisson_ri,
            )

        average = np.zeros(p)
        average[bins.lag_columns] = 1.0 / len(bins.lag_columns)
        headline = run_inference(problem(average, None), inf, method, reason, weights, plan)
        per_bin = [
            run_inference(problem(np.eye(p)[j], j), inf, method, reason, weights, plan)
            for j in range(p)
        ]
        pretrend = _pretrend(
            method,
            spec.family,
            coefs,
            bins,
            panel,
            boot_y,
            boot_X,
            offset,
            groups,
            weights,
            plan,
            ri,
        )
        table = _coefficient_table(bins, per_bin, spec.scale)
        at = [coefs.names.index(name) for name in names]
        event_estimates = pd.Series(np.asarray(coefs.params)[at], index=bins.columns)
        covariance = pd.DataFrame(
            np.asarray(coefs.cov)[np.ix_(at, at)], index=bins.columns, columns=bins.columns
        )
        return headline_result(  # type: ignore[return-value]
            design=self.design,
            family=spec.family,
            term="average_post",
            panel=panel,
            outcome=headline,
            spec=inf,
            scale=spec.scale,
            plot_data=table,
            details={
                "leads": spec.leads,
                "lags": spec.lags,
                "width": spec.width,
                "reference_bin": -1,
                "per": spec.per if spec.family == "linear" else None,
            },
            result_type=EventStudyResult,
            pretrend=pretrend,
            _coefficients=table,
            _event_estimates=event_estimates,
            _event_covariance=covariance,
        )


def _coefficient_table(
    bins: EventBins, per_bin: list[InferenceOutcome], scale: str
) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    outcomes = dict(zip(bins.columns, per_bin, strict=True))
    null = 1.0 if scale == "ratio" else 0.0
    for b in range(-bins.leads, bins.lags + 1):
        kind = "reference" if b == -1 else ("lead" if b < -1 else "lag")
        binned = b in (-bins.leads, bins.lags)
        if b == -1:
            rows.append(
                {
                    "event_time": b,
                    "estimate": null,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p_value": np.nan,
                    "std_error": np.nan,
                }
            )
        else:
            o = outcomes[b]
            est, low, high = o.estimate, o.ci_low, o.ci_high
            if scale == "ratio":
                est, low, high = np.exp(est), np.exp(low), np.exp(high)
            rows.append(
                {
                    "event_time": b,
                    "estimate": est,
                    "ci_low": low,
                    "ci_high": high,
                    "p_value": o.p_value,
                    "std_error": o.std_error,
                }
            )
        rows[-1].update({"scale": scale, "kind": kind, "binned": binned})
    return pd.DataFrame(rows)


def _pretrend(
    method: str,
    family: str,
    coefs: Coefficients,
    bins: EventBins,
    panel: DiDPanel,
    boot_y: np.ndarray,
    boot_X: np.ndarray,
    offset: np.ndarray | None,
    groups: np.ndarray | None,
    weights: Any,
    plan: Any,
    ri: Any,
) -> PreTrendTest:
    leads = bins.lead_columns
    q = len(leads)
    rows = np.eye(len(bins.columns))[leads]
    if method == "cluster":
        w = coefs.wald(rows, panel.n_units)
        return PreTrendTest(
            w["statistic"],
            q,
            w["p_value"],
            method,
            f"cluster-robust Wald test, F({q}, {panel.n_units - 1}) reference",
        )
    if method == "wild_bootstrap":
        if family == "linear":
            R = np.zeros((q, boot_X.shape[1]))
            R[:, : len(bins.columns)] = rows
            test = LinearWCR(boot_y, boot_X, panel.unit, groups).wald_test(R, weights)
            text = "restricted wild cluster bootstrap of the Wald statistic (leads = 0 imposed)"
        else:
            assert offset is not None
            test = PoissonScoreBootstrap(boot_y, boot_X, offset, panel.unit, groups).wald_test(
                leads, weights
            )
            text = "score wild cluster bootstrap of the robust score statistic (leads = 0 imposed)"
        return PreTrendTest(
            test.statistic, q, test.p_value, method, f"{text}, {test.draws:,} draws"
        )
    observed = ri.wald(panel.start, leads)
    permuted = np.array([ri.wald(row, leads) for row in plan.starts])
    p = p_value(observed, permuted, plan.enumerated)
    return PreTrendTest(
        observed,
        q,
        p,
        method,
        f"cluster-robust Wald statistic over {plan.count:,} permuted assignments",
    )


class _LinearRI:
    """Event-study coefficients under permuted adoption dates, for the outcome and for each
    observed bin indicator (a linear estimator is linear in its response), cached by assignment."""

    def __init__(self, panel: DiDPanel, y: np.ndarray, bins: EventBins, X_obs: np.ndarray):
        self.panel, self.bins, self.X_obs = panel, bins, X_obs
        self.projector = TwoWayProjector(panel)
        self.responses = self.projector.residual(np.column_stack([y, X_obs]))
        self._cache: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

    def fit(self, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = np.asarray(start, dtype=float).tobytes()
        if key not in self._cache:
            Xt = self.projector.residual(self.bins.matrix(self.panel, start))
            coef, *_ = np.linalg.lstsq(Xt, self.responses, rcond=None)  # (p, 1 + p)
            self._cache[key] = (coef, Xt)
        return self._cache[key]

    def combination(self, w: np.ndarray, column: int | None) -> Callable[[np.ndarray], np.ndarray]:
        def estimate(start: np.ndarray) -> np.ndarray:
            coef, _ = self.fit(start)
            beta = float(w @ coef[:, 0])
            if column is not None:
                return np.array([beta, coef[column, 1 + column]])
            lag = self.bins.lag_columns
            return np.array([beta, float(w @ coef[:, [1 + j for j in lag]].sum(axis=1))])

        return estimate

    def wald(self, start: np.ndarray, leads: list[int]) -> float:
        coef, Xt = self.fit(start)
        resid = self.responses[:, 0] - Xt @ coef[:, 0]
        bread = np.linalg.pinv(Xt.T @ Xt)
        scores = np.zeros((self.panel.n_units, Xt.shape[1]))
        np.add.at(scores, self.panel.unit, Xt * resid[:, None])
        cov = bread @ scores.T @ scores @ bread
        b = coef[leads, 0]
        return float(b @ np.linalg.pinv(cov[np.ix_(leads, leads)]) @ b)


class _PoissonRI:
    """Poisson event-study coefficients re-fitted under permuted adoption dates."""

    def __init__(self, panel: DiDPanel, bins: EventBins, params: np.ndarray):
        self.panel, self.bins, self.params = panel, bins, params
        self._cache: dict[bytes, Any] = {}

    def fit(self, start: np.ndarray, cluster: bool = False) -> Any:
        key = np.asarray(start, dtype=float).tobytes() + bytes([cluster])
        if key not in self._cache:
            moved = self.panel.with_starts(start)
            X = poisson_design(moved, self.bins.matrix(moved, start))
            self._cache[key] = fit_poisson(
                moved, X, self.bins.names(), start_params=self.params, cluster=cluster
            )[1]
        return self._cache[key]

    def combination(self, w: np.ndarray) -> Callable[[np.ndarray], float]:
        return lambda start: float(w @ self.fit(start).params)

    def wald(self, start: np.ndarray, leads: list[int]) -> float:
        coefs = self.fit(start, cluster=True)
        b = coefs.params[leads]
        return float(b @ np.linalg.pinv(coefs.cov[np.ix_(leads, leads)]) @ b)
