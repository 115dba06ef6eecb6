"""A randomised stepped-wedge trial: the randomisation scheme (:mod:`.scheme`), the
log-rate mixed model and the Poisson fixed-effects model, and the randomisation test over the
scheme (:mod:`.model`)."""

from evaltk.estimators.stepped_wedge.model import (
    SWData,
    SWFit,
    fit_log_rate,
    fit_model,
    fit_poisson,
    randomisation_test,
    sw_data,
    treatment,
)
from evaltk.estimators.stepped_wedge.scheme import (
    ReferenceSchedules,
    Scheme,
    draw_schedule,
    reference_schedules,
    step_sizes,
)

__all__ = [
    "ReferenceSchedules",
    "SWData",
    "SWFit",
    "Scheme",
    "draw_schedule",
    "fit_log_rate",
    "fit_model",
    "fit_poisson",
    "randomisation_test",
    "reference_schedules",
    "step_sizes",
    "sw_data",
    "treatment",
]
