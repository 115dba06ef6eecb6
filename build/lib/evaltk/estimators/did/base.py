"""What every panel DiD model shares: data checks at construction, inference options, and the
assembly of a :class:`~evaltk.estimators.did.results.DiDResult`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimators.did.design import check_poisson
from evaltk.estimators.did.inference import (
    InferenceOutcome,
    bootstrap_groups,
    cluster_summary,
    describe,
)
from evaltk.estimators.did.options import DiDSpec, InferenceSpec
from evaltk.estimators.did.panel import DiDPanel, build_panel, require_contrast
from evaltk.estimators.did.results import DiDResult, tidy_row


class PanelModel:
    """Base of the panel DiD models: builds and checks the panel, fits nothing.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit × period (copied, never modified).
    outcome : str
        Outcome column: counts for ``family="poisson"``; for ``linear`` the outcome itself, or
        with ``exposure`` a rate ``outcome / exposure * spec.per``.
    unit, period : str
        Unit (cluster) and period (month-start timestamp or integer) columns.
    treatment : str, optional
        0/1 treatment column (absorbing). Give this or ``starts``.
    starts : mapping, optional
        Unit -> first treated period (INCLUSIVE), None for never treated.
    exposure : str, optional
        Population or other exposure: the Poisson offset ``log(exposure)``.
    spec : DiDSpec, optional
        Model options.
    """

    design = "did"
    spec_type: type[DiDSpec] = DiDSpec

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        outcome: str,
        unit: str = "unit",
        period: str = "period",
        treatment: str | None = None,
        starts: Mapping[Any, Any] | None = None,
        exposure: str | None = None,
        spec: DiDSpec | None = None,
    ) -> None:
        spec = self.spec_type() if spec is None else spec
        if not isinstance(spec, self.spec_type):
            raise EstimationError(
                f"{type(self).__name__} spec must be a {self.spec_type.__name__}, got "
                f"{type(spec).__name__}."
            )
        self._spec = spec
        self._panel = build_panel(
            data,
            outcome=outcome,
            unit=unit,
            period=period,
            treatment=treatment,
            starts=starts,
            exposure=exposure,
        )
        require_contrast(self._panel, type(self).__name__)
        if spec.family == "poisson":
            check_poisson(self._panel)

    @property
    def spec(self) -> DiDSpec:
        return self._spec

    @property
    def panel(self) -> DiDPanel:
        """The validated data (arrays, sorted by unit and period)."""
        return self._panel


def inference_spec(inference: InferenceSpec | str | None) -> InferenceSpec:
    """``None`` -> defaults, a method name -> that method with defaults, or the spec itself."""
    if inference is None:
        return InferenceSpec()
    if isinstance(inference, str):
        return InferenceSpec(method=inference)  # type: ignore[arg-type]
    if not isinstance(inference, InferenceSpec):
        raise EstimationError(
            f"inference must be an InferenceSpec or a method name, got {type(inference).__name__}."
        )
    return inference


def plot_response(panel: DiDPanel, family: str, per: float) -> tuple[np.ndarray, str]:
    """What the group plot shows: the linear response, or counts (per ``per`` of exposure)."""
    if panel.exposure is None:
        return panel.y, panel.outcome_name
    return panel.y / panel.exposure * per, f"{panel.outcome_name} per {per:,.0f}"


def group_means(panel: DiDPanel, response: np.ndarray, label: str) -> pd.DataFrame:
    """Mean response by period for ever-treated and comparison units (the group plot's data)."""
    ever = panel.ever_treated[panel.unit]
    frame = pd.DataFrame(
        {
            "clock": panel.clock,
            "group": np.where(ever, "treated units", "comparison units"),
            "value": response,
        }
    )
    out = frame.groupby(["group", "clock"], sort=True)["value"].mean().reset_index()
    out["period"] = [panel.period_label(c) for c in out["clock"]]
    out["measure"] = label
    return out[["period", "group", "value", "measure"]]


def headline_result(
    *,
    design: str,
    family: str,
    term: str,
    panel: DiDPanel,
    outcome: InferenceOutcome,
    spec: InferenceSpec,
    scale: str,
    plot_data: pd.DataFrame,
    extra_rows: list[dict[str, Any]] | None = None,
    details: dict[str, Any] | None = None,
    result_type: type[DiDResult] = DiDResult,
    **extra: Any,
) -> DiDResult:
    """Assemble the frozen result from the headline inference outcome."""
    row = tidy_row(
        term,
        outcome.estimate,
        outcome.ci_low,
        outcome.ci_high,
        outcome.p_value,
        scale,
        outcome.std_error,
    )
    table = pd.DataFrame([row, *(extra_rows or [])])
    n_clusters = panel.n_units
    boot_by = ""
    if outcome.method == "wild_bootstrap":
        boot_by = bootstrap_groups(spec, panel.unit, panel.clock)[1]
    text = describe(outcome.method, outcome.reason, family, outcome.test, n_clusters, boot_by)
    info: dict[str, Any] = {
        "cluster": cluster_summary(outcome, scale),
        "starts": {str(k): v for k, v in panel.start_labels().items()},
        "inference_reason": outcome.reason,
        "level": spec.level,
    }
    if outcome.test is not None:
        key = "bootstrap" if outcome.method == "wild_bootstrap" else "randomization"
        info[key] = outcome.test.to_dict()
        if boot_by:
            info[key]["groups"] = boot_by
    info.update(details or {})
    return result_type(
        design=design,
        family=family,
        term=term,
        estimate=row["estimate"],
        ci_low=row["ci_low"],
        ci_high=row["ci_high"],
        p_value=row["p_value"],
        scale=scale,
        inference=outcome.method,
        inference_text=text,
        n_clusters=n_clusters,
        n_obs=panel.n_obs,
        n_periods=panel.n_periods,
        n_treated=int(panel.ever_treated.sum()),
        level=spec.level,
        std_error=outcome.std_error,
        _table=table,
        _details=MappingProxyType(info),
        _plot_data=plot_data,
        **extra,
    )
