"""Every simulation check by name, for ``bench/validation_checks.py --check NAME``.

Its own module so that the studies (:mod:`evaltk.validation.simulation`) and the verdict
calibration (:mod:`evaltk.validation.calibration`, which builds on the studies' result type)
need not know of each other's registry.
"""

from __future__ import annotations

from collections.abc import Callable

from evaltk.validation.calibration import verdict_calibration
from evaltk.validation.claims import published_claims
from evaltk.validation.journey_coverage import journey_coverage
from evaltk.validation.ledger_coverage import ledger_coverage
from evaltk.validation.simulation import CheckResult, cs_coverage, few_forces_size, its_coverage
from evaltk.validation.stepped_wedge_power import stepped_wedge_power
from evaltk.validation.stepped_wedge_size import stepped_wedge_size
from evaltk.validation.synthetic_size import synthetic_did_size, synthetic_size
from evaltk.validation.template_size import template_size

CHECKS: dict[str, Callable[[], CheckResult]] = {
    "verdict_calibration": verdict_calibration,
    "its_coverage": its_coverage,
    "staggered_coverage": cs_coverage,
    "few_forces_size": few_forces_size,
    "published_claims": published_claims,
    "synthetic_size": synthetic_size,
    "synthetic_did_size": synthetic_did_size,
    "ledger_coverage": ledger_coverage,
    "template_size": template_size,
    "journey_coverage": journey_coverage,
    "stepped_wedge_size": stepped_wedge_size,
    "stepped_wedge_power": stepped_wedge_power,
}
