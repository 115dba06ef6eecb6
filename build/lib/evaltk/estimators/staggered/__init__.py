"""Staggered adoption: Callaway & Sant'Anna (2021) difference-in-differences.

Model, fit, result (as linearmodels)::

    from evaltk.estimators.staggered import CallawaySantAnna

    model = CallawaySantAnna(panel, outcome="lemp", unit="countyreal", time="year",
                             group="first_treat", control_group="not_yet_treated")
    res = model.fit()                      # analytical SEs; fit(bootstrap=True, cband=True)
    res.to_frame()                         # ATT(g,t) with intervals
    res.aggregate("dynamic").to_frame()    # event study; also "simple", "group", "calendar"
    res.pretest                            # Wald pre-test of parallel trends
    res.plot_event_study(), res.plot_heatmap()

Modules, in the order data flows: ``options`` (allowed values, ``CSSpec``, ``CSInference``),
``data`` (panel checks, long to wide), ``estimators`` (2 × 2 reg/ipw/dr with influence
functions), ``attgt`` (every ATT(g,t)), ``inference`` (analytical errors), ``bootstrap``
(multiplier bootstrap, uniform bands), ``pretest`` (Wald), ``aggregate`` (simple, group,
dynamic, calendar as linear maps), ``results`` / ``aggregate_result`` (read-only results),
``plot``, ``model`` (``CallawaySantAnna``).
"""

from evaltk.estimators.staggered.aggregate_result import AggregateResult
from evaltk.estimators.staggered.data import StaggeredPanel, build_panel
from evaltk.estimators.staggered.model import CallawaySantAnna
from evaltk.estimators.staggered.options import CSInference, CSSpec
from evaltk.estimators.staggered.pretest import PreTest
from evaltk.estimators.staggered.results import CSResult

__all__ = [
    "AggregateResult",
    "CSInference",
    "CSResult",
    "CSSpec",
    "CallawaySantAnna",
    "PreTest",
    "StaggeredPanel",
    "build_panel",
]
