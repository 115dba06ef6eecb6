"""Difference-in-differences across forces: 2 × 2, two-way fixed effects (linear and Poisson),
event study, comparative interrupted time series, and inference that holds with few clusters.

Spec, model, result (as linearmodels)::

    from evaltk.estimators.did import DiDSpec, TWFEModel

    model = TWFEModel(series, outcome="s136", unit="force", treatment="treated",
                      exposure="population", spec=DiDSpec(family="poisson"))
    res = model.fit()              # inference="auto": wild bootstrap below 50 clusters
    res.estimate, res.ci, res.p_value, res.inference_text, res.plot()

Modules: ``options`` (allowed values and specs), ``panel`` (checks, layout), ``design``
(responses, fixed-effect designs, library fits), ``twfe``, ``did2x2``, ``event_study``,
``cits`` (the models), ``wild_bootstrap`` (restricted wild cluster bootstrap),
``score_bootstrap`` (its Poisson counterpart), ``randomization`` (permuted adoption dates),
``inference`` (which inference and its words), ``results``, ``plot``.
"""

from evaltk.estimators.did.cits import CITSModel
from evaltk.estimators.did.did2x2 import DiD2x2Model
from evaltk.estimators.did.event_study import EventStudyModel
from evaltk.estimators.did.options import (
    FEW_CLUSTERS,
    SUBCLUSTER_BELOW,
    CITSSpec,
    DiDSpec,
    EventStudySpec,
    InferenceSpec,
)
from evaltk.estimators.did.panel import DiDPanel, build_panel
from evaltk.estimators.did.randomization import RandomizationTest
from evaltk.estimators.did.results import DiDResult, EventStudyResult, PreTrendTest
from evaltk.estimators.did.score_bootstrap import PoissonScoreBootstrap
from evaltk.estimators.did.twfe import TWFEModel
from evaltk.estimators.did.wild_bootstrap import (
    BootstrapTest,
    BootstrapWeights,
    LinearWCR,
    draw_weights,
)

__all__ = [
    "FEW_CLUSTERS",
    "SUBCLUSTER_BELOW",
    "BootstrapTest",
    "BootstrapWeights",
    "CITSModel",
    "CITSSpec",
    "DiD2x2Model",
    "DiDPanel",
    "DiDResult",
    "DiDSpec",
    "EventStudyModel",
    "EventStudyResult",
    "EventStudySpec",
    "InferenceSpec",
    "LinearWCR",
    "PoissonScoreBootstrap",
    "PreTrendTest",
    "RandomizationTest",
    "TWFEModel",
    "build_panel",
    "draw_weights",
]
