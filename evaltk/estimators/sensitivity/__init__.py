"""Sensitivity of event-study and staggered DiD results to non-parallel trends (Rambachan &
Roth 2023): relative-magnitudes and smoothness bounds, and the breakdown values."""

from evaltk.estimators.sensitivity.relative_magnitudes import Interval, rm_interval, rm_rejects
from evaltk.estimators.sensitivity.report import (
    EventStudyCoefficients,
    Sensitivity,
    SensitivityRow,
    sensitivity,
)
from evaltk.estimators.sensitivity.smoothness import FLCI, sd_flci

__all__ = [
    "FLCI",
    "EventStudyCoefficients",
    "Interval",
    "Sensitivity",
    "SensitivityRow",
    "rm_interval",
    "rm_rejects",
    "sd_flci",
    "sensitivity",
]
