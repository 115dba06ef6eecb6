"""Equivalence and non-inferiority tests on a rate ratio (TOST), from its estimate and SE.

"Displacement outcomes did not rise" is a claim to be *shown*, not the absence of a
significant rise. With margin ``m`` the equivalence range of a ratio is ``[1 - m, 1 + m]``;
on the log scale the two one-sided tests are

    H0_upper: log R >= log(1 + m)   rejected when  (b - log(1 + m)) / se  <  -z_(1-alpha)
    H0_lower: log R <= log(1 - m)   rejected when  (b - log(1 - m)) / se  >   z_(1-alpha)

and the TOST p-value is the larger of the two one-sided p-values (Schuirmann 1987). The
harmful side alone (non-inferiority) is what "did not rise" needs: for an outcome whose
beneficial direction is a decrease, the harmful side is the upper one.
"""

from __future__ import annotations

import math

from evaltk.estimators.effect import reference


def upper_p(log_estimate: float, std_error: float, margin: float, df: float | None = None) -> float:
    """One-sided p-value against a rise of ``margin`` or more."""
    return float(reference(df).cdf((log_estimate - math.log1p(margin)) / std_error))


def lower_p(log_estimate: float, std_error: float, margin: float, df: float | None = None) -> float:
    """One-sided p-value against a fall of ``margin`` or more."""
    return float(reference(df).sf((log_estimate - math.log1p(-margin)) / std_error))


def tost_p(log_estimate: float, std_error: float, margin: float, df: float | None = None) -> float:
    """TOST p-value: small when the ratio is shown to lie within ``[1 - m, 1 + m]``."""
    return max(
        upper_p(log_estimate, std_error, margin, df),
        lower_p(log_estimate, std_error, margin, df),
    )


def harmful_side_p(
    log_estimate: float,
    std_error: float,
    margin: float,
    direction: str,
    df: float | None = None,
) -> float:
    """Non-inferiority p-value: small when a harmful change of ``margin`` is ruled out.

    ``direction`` is the outcome's *beneficial* direction; the harmful side is the other one.
    """
    if direction == "decrease":
        return upper_p(log_estimate, std_error, margin, df)
    return lower_p(log_estimate, std_error, margin, df)


def equivalence_fields(
    estimate: float | None,
    std_error: float | None,
    scale: str,
    direction: str,
    margin: float,
    df: float | None = None,
) -> dict[str, float | None]:
    """The equivalence figures stored with each outcome result.

    ``std_error`` is that of log(estimate) for a ratio; ``df`` (the GLS model's
    Satterthwaite degrees of freedom) makes the tests use Student's t. Differences have no
    relative margin, so their tests are ``None`` (a rise cannot be ruled out for them).
    """
    fields: dict[str, float | None] = {
        "margin": margin,
        "equivalence_p": None,
        "harm_ruled_out_p": None,
    }
    if scale != "ratio" or estimate is None or std_error is None or estimate <= 0:
        return fields
    if not (std_error > 0 and math.isfinite(std_error)):
        return fields
    b = math.log(estimate)
    fields["equivalence_p"] = tost_p(b, std_error, margin, df)
    fields["harm_ruled_out_p"] = harmful_side_p(b, std_error, margin, direction, df)
    return fields
