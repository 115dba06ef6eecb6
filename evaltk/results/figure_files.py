"""Names of the figure files a run writes beside its results that results.json does not list.

``evaltk run`` (evaltk.analysis) writes them and ``evaltk book`` (evaltk.publish) finds them by
these names, so the convention is kept here, in the results contract both read.
"""

from __future__ import annotations

#: Suffix of an ITS outcome's residual and autocorrelation figure, beside its main figure.
RESIDUALS_SUFFIX = "-residuals.png"


def residual_file(outcome_id: str) -> str:
    """``s136_rate`` -> ``s136_rate-residuals.png``."""
    return f"{outcome_id}{RESIDUALS_SUFFIX}"
