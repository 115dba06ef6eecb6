"""Two-way fixed effects difference-in-differences, linear (linearmodels) or Poisson
(statsmodels), with cluster-robust, wild bootstrap or randomisation inference."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from evaltk.estimators.did.base import (
    PanelModel,
    group_means,
    headline_result,
    inference_spec,
    plot_response,
)
from evaltk.estimators.did.design import (
    TwoWayProjector,
    fit_linear,
    fit_poisson,
    linear_response,
    log_offset,
    poisson_design,
    wild_design,
)
from evaltk.estimators.did.inference import CoefficientProblem, choose_method, run_inference
from evaltk.estimators.did.options import InferenceSpec
from evaltk.estimators.did.panel import DiDPanel
from evaltk.estimators.did.results import DiDResult


class TWFEModel(PanelModel):
    r"""Two-way fixed effects DiD: unit and period effects and one treatment indicator.

    Parameters are those of :class:`~evaltk.estimators.did.base.PanelModel`; ``spec`` is a
    :class:`~evaltk.estimators.did.options.DiDSpec` (``family`` linear or poisson).

    Notes
    -----
    With :math:`D_{it} = 1[t \ge s_i]` (unit :math:`i` adopts in period :math:`s_i`, INCLUSIVE;
    never for comparison units):

    .. math::

        \text{linear:}\quad y_{it} = \alpha_i + \lambda_t + \tau D_{it} + \varepsilon_{it}

        \text{Poisson:}\quad \log E[y_{it}] = \log E_{it} + \alpha_i + \lambda_t + \tau D_{it}

    with :math:`E_{it}` the exposure (population). The effect is :math:`\tau` (a difference)
    or :math:`e^\tau` (a rate ratio). Linear fits are linearmodels' ``PanelOLS`` with entity
    and time effects and ``cov_type="clustered", cluster_entity=True``; Poisson fits are
    statsmodels' ``GLM`` with unit and period dummies, the offset, and ``cov_type="cluster"``
    by unit (CR1, normal reference). With staggered adoption and effects that change over time
    :math:`\tau` is a weighted average of group-time effects that can carry negative weights
    (Goodman-Bacon 2021); use the event study or Callaway-Sant'Anna to check.
    """

    design = "twfe"

    def fit(self, inference: InferenceSpec | str | None = None) -> DiDResult:
        """Fit and infer.

        Parameters
        ----------
        inference : InferenceSpec or str, optional
            ``"auto"`` (default), ``"cluster"``, ``"wild_bootstrap"``, ``"randomization"``, or
            a full :class:`~evaltk.estimators.did.options.InferenceSpec`.

        Returns
        -------
        DiDResult
            ``term`` is ``"treated"``.
        """
        inf = inference_spec(inference)
        panel, spec = self._panel, self._spec
        method, reason = choose_method(inf, panel.n_units)
        problem = twfe_problem(panel, spec.family, spec.per, method)
        outcome = run_inference(problem, inf, method, reason)
        response, label = plot_response(panel, spec.family, spec.per)
        return headline_result(
            design=self.design,
            family=spec.family,
            term="treated",
            panel=panel,
            outcome=outcome,
            spec=inf,
            scale=spec.scale,
            plot_data=group_means(panel, response, label),
            details={"per": spec.per if spec.family == "linear" else None},
        )


def twfe_problem(panel: DiDPanel, family: str, per: float, method: str) -> CoefficientProblem:
    """The TWFE coefficient of ``D``, set up for every kind of inference."""
    D = panel.treated.astype(float)
    start = panel.start
    if family == "linear":
        y = linear_response(panel, per)
        _, coefs = fit_linear(panel, y, pd.DataFrame({"treated": D}))
        boot_y, boot_X = wild_design(panel, y, D[:, None])
        ri = _linear_ri(panel, y, D) if method == "randomization" else None
        return CoefficientProblem(
            family,
            coefs,
            np.ones(1),
            panel.unit,
            boot_y,
            boot_X,
            None,
            start,
            panel.clock,
            ri_linear=ri,
        )
    X = poisson_design(panel, D[:, None])
    res, coefs = fit_poisson(panel, X, ("treated",))
    params = np.asarray(res.params)

    def refit(new_start: np.ndarray) -> float:
        moved = panel.with_starts(new_start)
        design = poisson_design(moved, moved.treated.astype(float)[:, None])
        return float(
            fit_poisson(moved, design, ("treated",), start_params=params, cluster=False)[1].params[
                0
            ]
        )

    return CoefficientProblem(
        family,
        coefs,
        np.ones(1),
        panel.unit,
        panel.y,
        X,
        log_offset(panel),
        start,
        panel.clock,
        ri_estimate=refit,
    )


def _linear_ri(panel: DiDPanel, y: np.ndarray, D: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    projector = TwoWayProjector(panel)
    y_res = projector.residual(y)

    def estimate(start: np.ndarray) -> np.ndarray:
        d = projector.residual((panel.clock >= start[panel.unit]).astype(float))
        ss = float(d @ d)
        if ss <= 1e-12:
            return np.array([np.nan, np.nan])
        return np.array([d @ y_res / ss, d @ D / ss])

    return estimate
