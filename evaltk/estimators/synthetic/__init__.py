"""One treated unit against a donor pool: synthetic control (Abadie, Diamond & Hainmueller
2010) and synthetic difference-in-differences (Arkhangelsky et al. 2021), with placebo
inference (in space, in time, leave one donor out)."""

from evaltk.estimators.synthetic.adh import SCOptions
from evaltk.estimators.synthetic.data import Predictor, SyntheticData, synthetic_data
from evaltk.estimators.synthetic.model import synthetic_control, synthetic_did
from evaltk.estimators.synthetic.results import SyntheticResult
from evaltk.estimators.synthetic.sdid import SDiDOptions

__all__ = [
    "Predictor",
    "SCOptions",
    "SDiDOptions",
    "SyntheticData",
    "SyntheticResult",
    "synthetic_control",
    "synthetic_data",
    "synthetic_did",
]
