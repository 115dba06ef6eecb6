"""Interrupted time series: segmented GLM for one monthly series.

Spec, model, result (as linearmodels)::

    from evaltk.estimators.its import ITSModel, ITSSpec

    spec = ITSSpec(family="quasi_poisson", seasonality="fourier", harmonics=2)
    res = ITSModel(series, start=pd.Timestamp("2005-01-01"), spec=spec).fit()
    res.effect, res.cumulative, res.plot()

Modules: ``options`` (allowed values, ``ITSSpec``), ``design`` (series checks, design matrix),
``model`` (fitting with statsmodels), ``covariance`` (AR(1) working-correlation covariance),
``effects`` (delta-method effects), ``results``
(``ITSResult``), ``plot``.
"""

from evaltk.estimators.effect import Effect
from evaltk.estimators.its.design import design_matrix
from evaltk.estimators.its.effects import CumulativeEffect
from evaltk.estimators.its.model import ITSModel
from evaltk.estimators.its.options import ITSSpec, default_hac_lags
from evaltk.estimators.its.results import ITSResult

__all__ = [
    "CumulativeEffect",
    "Effect",
    "ITSModel",
    "ITSResult",
    "ITSSpec",
    "default_hac_lags",
    "design_matrix",
]
