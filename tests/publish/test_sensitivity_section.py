"""The chapter's sensitivity section beside each DiD result: the breakdown sentence filled in,
the robust intervals by bound, or why the bounds were not computed."""

from __future__ import annotations

from evaltk.publish.render import render
from evaltk.publish.sensitivity import sensitivity_section
from evaltk.results.schema import OutcomeResult, Sensitivity, SensitivityBound

COMMON = {
    "outcome": "s136_rate",
    "label": "Section 136 detentions",
    "role": "primary",
    "outcome_class": "resolution",
    "direction": "decrease",
    "aggregate": "rate",
    "design": "event_study",
    "estimator": "event study",
    "estimate": -0.4,
    "ci_low": -0.6,
    "ci_high": -0.2,
    "p_value": 0.001,
    "p_adjusted": 0.001,
    "scale": "difference",
    "n_units": 40,
    "n_periods": 60,
    "slope_change": None,
    "trend_per_year": None,
    "cumulative": None,
    "diagnostics": None,
    "figure": None,
}


def _page(sensitivity: Sensitivity) -> str:
    outcome = OutcomeResult(**COMMON, sensitivity=sensitivity)
    return render("sensitivity.md.j2", o={"sensitivity": sensitivity_section(outcome, 0.95)})


def test_computed_bounds_show_the_breakdown_sentence_and_the_table() -> None:
    page = _page(
        Sensitivity(
            computed=True,
            target="average_post",
            scale="difference",
            level=0.95,
            n_pre=3,
            n_post=4,
            estimate=-0.4,
            largest_pre_change=0.05,
            largest_pre_bend=0.04,
            bounds=[
                SensitivityBound(
                    restriction="relative_magnitudes",
                    bound=1.0,
                    ci_low=-0.7,
                    ci_high=-0.05,
                    excludes_null=True,
                ),
                SensitivityBound(
                    restriction="smoothness",
                    bound=0.04,
                    ci_low=-0.8,
                    ci_high=0.1,
                    excludes_null=False,
                ),
            ],
            breakdown_mbar=1.37,
            breakdown_m=0.021,
            search_max_mbar=4.0,
            search_max_m=0.32,
            sentence="The conclusion holds unless post-start trend differences exceed 1.37 "
            "times the largest pre-start one.",
            method="Rambachan & Roth (2023)",
        )
    )
    assert (
        "The conclusion holds unless post-start trend differences exceed 1.37 times the "
        "largest pre-start one." in page
    )
    assert "bends by at most 0.021 a period" in page
    assert (
        "| post-start change at most 1 × the largest pre-start change | 0.7 lower to 0.05 lower "
        "| yes |" in page
    )
    assert "| trend bends by at most 0.04 a period | 0.8 lower to 0.1 higher | no |" in page


def test_bounds_not_computed_say_why() -> None:
    page = _page(Sensitivity(computed=False, reason="the covariance is singular (rank 4)"))
    assert "Not computed: the covariance is singular (rank 4)." in page
    assert "|" not in page


def test_a_singular_covariance_is_explained_by_the_number_of_forces() -> None:
    """The staggered example's five forces give 27 event-time effects a covariance of rank 4:
    the page says why no bounds are shown, in words, rather than the bare error."""
    reason = (
        "the covariance of the 27 event-time coefficients is singular (rank 4): the bounds "
        "need one of full rank (more units, or fewer event times)"
    )
    outcome = OutcomeResult(
        **(COMMON | {"n_units": 5}), sensitivity=Sensitivity(computed=False, reason=reason)
    )
    section = sensitivity_section(outcome, 0.95)
    assert section is not None and not section["computed"]
    text = section["reason"]
    assert text.startswith("Not shown for this result.")
    assert "the 27 event-time effects" in text and "from the 5 forces" in text
    assert "only 4 independent directions" in text and "singular" not in text
    page = render("sensitivity.md.j2", o={"sensitivity": section})
    assert "robustness to non-parallel trends is therefore not assessed" in page
