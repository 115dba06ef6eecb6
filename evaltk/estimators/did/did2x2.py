"""The 2 × 2 difference-in-differences: treated and comparison units, before and after."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS

from evaltk.errors import EstimationError
from evaltk.estimators.did.base import (
    PanelModel,
    group_means,
    headline_result,
    inference_spec,
    plot_response,
)
from evaltk.estimators.did.design import Coefficients, fit_poisson, linear_response, log_offset
from evaltk.estimators.did.inference import CoefficientProblem, choose_method, run_inference
from evaltk.estimators.did.options import InferenceSpec
from evaltk.estimators.did.panel import DiDPanel
from evaltk.estimators.did.results import DiDResult

TERMS = ("const", "treated_group", "post", "treated_post")


class DiD2x2Model(PanelModel):
    r"""2 × 2 DiD on a unit × period panel with one common adoption period.

    Treated units are those that adopt within the data, all in the same period :math:`s`;
    comparison units never adopt within the data. Every period from :math:`s` on (INCLUSIVE) is
    "post". Parameters are those of :class:`~evaltk.estimators.did.base.PanelModel`.

    Notes
    -----
    With :math:`G_i = 1` for treated units and :math:`P_t = 1[t \ge s]`,

    .. math::

        \text{linear:}\quad y_{it} = \beta_0 + \beta_1 G_i + \beta_2 P_t
            + \delta G_i P_t + \varepsilon_{it}

        \text{Poisson:}\quad \log E[y_{it}] = \log E_{it} + \beta_0 + \beta_1 G_i + \beta_2 P_t
            + \delta G_i P_t

    The model is saturated in the four cells, so the linear :math:`\hat\delta` is exactly the
    difference of the four cell means of unit-periods,
    :math:`(\bar y_{T,post} - \bar y_{T,pre}) - (\bar y_{C,post} - \bar y_{C,pre})`, and the
    Poisson :math:`e^{\hat\delta}` the ratio of the two groups' post/pre ratios of rates
    :math:`\sum y / \sum E`. Fits: statsmodels ``OLS`` (t reference with :math:`G - 1` degrees
    of freedom) or ``GLM`` Poisson (normal reference), covariance clustered by unit (CR1).
    """

    design = "did_2x2"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._start = common_start(self._panel)

    def fit(self, inference: InferenceSpec | str | None = None) -> DiDResult:
        """Fit and infer; see :meth:`TWFEModel.fit <evaltk.estimators.did.twfe.TWFEModel.fit>`.

        Returns
        -------
        DiDResult
            ``term`` is ``"treated_post"``; ``details["cells"]`` has the four cell means.
        """
        inf = inference_spec(inference)
        panel, spec = self._panel, self._spec
        method, reason = choose_method(inf, panel.n_units)
        X = design_2x2(panel, panel.start, self._start)
        D_obs = X[:, 3].copy()
        if spec.family == "linear":
            y = linear_response(panel, spec.per)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": panel.unit}, use_t=True)
            coefs = Coefficients(
                TERMS,
                np.asarray(res.params),
                np.asarray(res.cov_params()),
                float(panel.n_units - 1),
            )

            def ri_linear(start: np.ndarray) -> np.ndarray:
                Xp = design_2x2(panel, start, self._start)
                coef, *_ = np.linalg.lstsq(Xp, np.column_stack([y, D_obs]), rcond=None)
                return coef[3]

            problem = CoefficientProblem(
                "linear",
                coefs,
                _pick(3),
                panel.unit,
                y,
                X,
                None,
                panel.start,
                panel.clock,
                ri_linear=ri_linear,
            )
            cells = _cell_means(panel, y, X, ratio=False)
        else:
            res, coefs = fit_poisson(panel, X, TERMS)

            def refit(start: np.ndarray) -> float:
                Xp = design_2x2(panel, start, self._start)
                return float(fit_poisson(panel, Xp, TERMS, cluster=False)[1].params[3])

            problem = CoefficientProblem(
                "poisson",
                coefs,
                _pick(3),
                panel.unit,
                panel.y,
                X,
                log_offset(panel),
                panel.start,
                panel.clock,
                ri_estimate=refit,
            )
            cells = _cell_means(panel, panel.y, X, ratio=True)
        outcome = run_inference(problem, inf, method, reason)
        response, label = plot_response(panel, spec.family, spec.per)
        return headline_result(
            design=self.design,
            family=spec.family,
            term="treated_post",
            panel=panel,
            outcome=outcome,
            spec=inf,
            scale=spec.scale,
            plot_data=group_means(panel, response, label),
            details={"cells": cells, "start": panel.period_label(self._start)},
        )


def common_start(panel: DiDPanel) -> float:
    """The one adoption period of the treated units; raise unless the 2 × 2 applies."""
    ever = panel.ever_treated
    starts = np.unique(panel.start[ever])
    if starts.size != 1:
        labels = ", ".join(_label(panel, s) for s in starts)
        raise EstimationError(
            f"a 2 x 2 DiD needs one common start; treated units start at {labels}. Use "
            "TWFEModel or EventStudyModel (or the staggered estimator) for staggered adoption."
        )
    start = float(starts[0])
    if not (panel.clock < start).any():
        raise EstimationError("a 2 x 2 DiD needs periods before the start; the data have none.")
    if (~ever).sum() == 0:
        raise EstimationError("a 2 x 2 DiD needs comparison units that never adopt in the data.")
    return start


def design_2x2(panel: DiDPanel, start: np.ndarray, common: float) -> np.ndarray:
    """``[1, G, P, G P]`` for the groups implied by ``start`` (treated: adopts in the data)."""
    group = (start <= panel.clock.max())[panel.unit].astype(float)
    post = (panel.clock >= common).astype(float)
    return np.column_stack([np.ones(panel.n_obs), group, post, group * post])


def _label(panel: DiDPanel, clock: float) -> str:
    value = panel.period_label(clock)
    return value.strftime("%Y-%m") if isinstance(value, pd.Timestamp) else str(value)


def _pick(j: int) -> np.ndarray:
    w = np.zeros(len(TERMS))
    w[j] = 1.0
    return w


def _cell_means(panel: DiDPanel, y: np.ndarray, X: np.ndarray, ratio: bool) -> list[dict]:
    frame = pd.DataFrame(
        {
            "group": np.where(X[:, 1] > 0, "treated", "comparison"),
            "period": np.where(X[:, 2] > 0, "post", "pre"),
            "y": y,
            "exposure": 1.0 if panel.exposure is None else panel.exposure,
        }
    )
    out = []
    for (group, period), cell in frame.groupby(["group", "period"], sort=True):
        value = cell["y"].sum() / cell["exposure"].sum() if ratio else cell["y"].mean()
        out.append(
            {
                "group": group,
                "period": period,
                "value": float(value),
                "measure": "rate (events per unit exposure)" if ratio else "mean",
                "n_obs": len(cell),
            }
        )
    return out
