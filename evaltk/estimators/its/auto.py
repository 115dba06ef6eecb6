"""The ``auto`` model rule of the interrupted time series: GLS where the data allow it.

Why: on the project's simulator the segmented GLM's tests of a true "no change" reject too
often whatever its errors, because slow month-to-month variation is not in its model: at the
street-triage example's own scale (one force, about 20 s136 detentions a month) 10-11 % with
the AR(1) working correlation or model-based errors and 14-15 % with Newey-West, at a nominal
5 %; GLS with REML and Satterthwaite t tests 5 % (book: Validation, "Template defaults"). GLS
takes the log of every month's count, so it needs a count above zero in every fitted month,
and three variance parameters need spare months. Where either fails the rule falls back to
the GLM of the family with the errors the protocol names (``ar1``/``hac``): a sparse series,
where Poisson noise dominates the slow variation and the GLM's size is closer to nominal.

The rule reads only the series' counts and its length, never its outcome after the start in
any way that depends on the effect, so it is fixed by the data's volume, not by the result.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from evaltk.estimators.its.design import ITSDesign
from evaltk.estimators.its.options import COUNT_FAMILIES, ITSSpec

#: GLS estimates three variance parameters besides the coefficients; it needs at least this
#: many more fitted months than coefficients (as :func:`evaltk.estimators.its.gls.fit_gls_ar1`).
GLS_SPARE_MONTHS = 6


@dataclasses.dataclass(frozen=True)
class ModelChoice:
    """What ``model: auto`` resolved to, and why, in words for results.json.

    Attributes
    ----------
    spec : ITSSpec
        The spec that is fitted (``model`` is ``"glm"`` or ``"gls"``, never ``"auto"``).
    model : str
        ``"gls"`` or ``"glm"``.
    reason : str
        One sentence: the data fact that decided.
    """

    spec: ITSSpec
    model: str
    reason: str


def resolve_model(design: ITSDesign, spec: ITSSpec) -> ModelChoice:
    """Resolve ``spec.model`` for ``design``: ``auto`` by the rule of the module notes.

    A registered ``glm`` or ``gls`` is returned as it is, with the reason ``"as registered"``.
    """
    if spec.model != "auto":
        return ModelChoice(spec, spec.model, "as registered")
    rows = design.in_fit
    model, reason = auto_model(design.y[rows], design.exog.shape[1], spec.family)
    if model == "gls":
        return ModelChoice(
            dataclasses.replace(spec, model="gls", ar1=False, hac=False, hac_lags=None),
            "gls",
            reason,
        )
    return ModelChoice(dataclasses.replace(spec, model="glm"), "glm", reason)


def auto_model(y_fit: np.ndarray, k: int, family: str) -> tuple[str, str]:
    """The rule itself, on the fitted months' outcome and the number of coefficients ``k``:
    ``("gls" or "glm", reason)``. :func:`resolve_model` and ``evaltk power`` both use it."""
    n_fit = len(y_fit)
    if n_fit - k < GLS_SPARE_MONTHS:
        return "glm", (
            f"auto: glm, because {n_fit} fitted months leave fewer than {GLS_SPARE_MONTHS} "
            f"beyond the {k} coefficients for GLS's variance parameters"
        )
    if family in COUNT_FAMILIES:
        empty = int(np.sum(~(y_fit > 0)))
        if empty:
            return "glm", (
                f"auto: glm, because {empty} of {n_fit} fitted months have a count of zero "
                "and GLS takes the log of each month's count"
            )
        return "gls", (
            f"auto: gls, because every one of the {n_fit} fitted months has a count above "
            f"zero (smallest {float(np.min(y_fit)):g}); the GLM's tests over-reject under "
            "month-to-month variation"
        )
    return "gls", (
        f"auto: gls, because the series has {n_fit} fitted months; the GLM's tests "
        "over-reject under month-to-month variation"
    )
