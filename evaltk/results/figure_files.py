"""Names of the files a run writes beside its results that results.json does not list.

``evaltk run`` (evaltk.analysis) writes them and ``evaltk book`` (evaltk.publish) finds them by
these names, so the convention is kept here, in the results contract both read.
"""

from __future__ import annotations

#: Suffix of an ITS outcome's residual and autocorrelation figure, beside its main figure.
RESIDUALS_SUFFIX = "-residuals.png"


def residual_file(outcome_id: str) -> str:
    """``s136_rate`` -> ``s136_rate-residuals.png``."""
    return f"{outcome_id}{RESIDUALS_SUFFIX}"


#: People's journeys and the concentration of demand (evaltk.measures.journeys), written by a
#: run on episodes with person ids: counts the book protects before it shows them.
PATHWAYS_FILE = "pathways.csv"
CONCENTRATION_FILE = "concentration.csv"
HIGH_INTENSITY_FILE = "high_intensity.csv"
DEMAND_SETTINGS_FILE = "demand.json"
DEMAND_FILES = (PATHWAYS_FILE, CONCENTRATION_FILE, HIGH_INTENSITY_FILE, DEMAND_SETTINGS_FILE)
