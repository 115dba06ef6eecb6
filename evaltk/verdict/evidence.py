"""How strong is the evidence? The Maryland Scientific Methods Scale level and EMMIE headings.

The level follows from the design (What Works centres' reading of the scale): a single-series
interrupted time series has no comparison group, so it is level 2 however long the series; a
comparison with untreated units reaches level 3 only with evidence on pre-intervention trends.
For did, event_study, staggered_did, cits, synthetic_control and synthetic_did that evidence
is the pre-trend test of every primary outcome (the event study's joint test of the leads, the
Callaway & Sant'Anna pre-test, the comparative ITS placebo, or the synthetic unit's placebo in
time): level 3 when each was computed and none rejects at the
protocol's alpha, level 2 otherwise, with the reason and the p-values in words.
"""

from __future__ import annotations

from collections.abc import Sequence

from evaltk.protocol.spec import Protocol
from evaltk.results.schema import EvidenceLevel, Ledger, OutcomeResult

_ITS = (
    "A single time series before and after the scheme, with trend and seasonality "
    "modelled but no comparison area: other changes at the same time (policy, "
    "commissioning, recording practice) cannot be ruled out."
)
_TRIAL = (
    "A randomised stepped-wedge trial: the order in which the clusters started was drawn at "
    "random with a seed fixed by the registration and recorded in the registration chain "
    "before any outcome was analysed, and the p-value and interval come from re-drawing it "
    "under the same scheme (randomisation inference). Every cluster is compared with itself "
    "before its start and with clusters not yet started over the same periods."
)
_COMPARISON = {
    "did": "Treated forces compared with comparison forces before and after the start "
    "(difference-in-differences)",
    "event_study": "Treated forces compared with comparison forces month by month around "
    "adoption (event study)",
    "staggered_did": "Each cohort of forces compared with forces not yet (or never) treated "
    "over the same periods (Callaway & Sant'Anna staggered difference-in-differences)",
    "cits": "The treated forces' series compared with the comparison forces' series before "
    "and after the start (comparative interrupted time series)",
    "synthetic_control": "The treated force compared with a synthetic force, a weighted mix "
    "of donor forces fitted to track it before the start (synthetic control), the pre-trend "
    "test being the placebo in time",
    "synthetic_did": "The treated force compared with a weighted mix of donor forces over "
    "weighted months before the start (synthetic difference-in-differences), the pre-trend "
    "test being the placebo in time",
}


def evidence_level(
    protocol: Protocol,
    ledger: Ledger | None,
    outcomes: Sequence[OutcomeResult] = (),
) -> EvidenceLevel:
    """The SMS level of this design, and what the report says under each EMMIE heading.

    ``outcomes`` are the run's results: a comparison design's level reads its primary
    outcomes' pre-trend tests.
    """
    kind = protocol.design.kind
    if kind == "its":
        level, reason = 2, _ITS
    elif kind == "stepped_wedge":
        level, reason = 5, _TRIAL
    else:
        level, reason = _comparison_level(kind, protocol.decision.alpha, outcomes)
    if ledger is not None:
        economics = "Whole-system ledger in hours and pounds."
    elif kind not in ("its", "cits", "stepped_wedge"):
        economics = (
            "Not assessed: the whole-system ledger is computed for interrupted time series "
            "and comparative ITS."
        )
    else:
        economics = "Not assessed: no outcome carries a unit cost."
    return EvidenceLevel(
        sms_level=level,
        reason=reason,
        emmie={
            "Effect": "Estimated for every registered outcome, with intervals and a verdict.",
            "Mechanism": "Not tested: the data record what happened, not why.",
            "Moderators": "Not tested: effects are for the whole force, not by group or time.",
            "Implementation": "Not assessed beyond the start date"
            + ("; see the protocol's description." if protocol.intervention.description else "."),
            "Economics": economics,
        },
    )


def _comparison_level(
    kind: str, alpha: float, outcomes: Sequence[OutcomeResult]
) -> tuple[int, str]:
    design = _COMPARISON[kind]
    primaries = [o for o in outcomes if o.role == "primary"]
    if not primaries:
        return 2, f"{design}, but no primary outcome was estimated, so pre-trends are untested."
    missing, rejected, held = [], [], []
    for outcome in primaries:
        test = outcome.pretrend
        if outcome.estimate is None:
            missing.append(f"{outcome.label} was not estimated")
        elif test is None:
            missing.append(f"{outcome.label} has no pre-trend test")
        elif test.p_value is None:
            missing.append(f"{outcome.label}: pre-trend test {_strip(test.text)}")
        elif test.p_value < alpha:
            rejected.append(f"{outcome.label} ({_p(test.p_value)}; {_strip(test.text)})")
        else:
            held.append(f"{outcome.label} ({_p(test.p_value)}; {_strip(test.text)})")
    if rejected:
        return 2, (
            f"{design}, but the pre-trend test rejects parallel trends before the start at "
            f"alpha = {alpha:g} for " + "; ".join(rejected) + ": the comparison forces are "
            "not shown to be a fair counterfactual, so the design counts as level 2."
        )
    if missing:
        return 2, (f"{design}, but parallel pre-trends are not tested: " + "; ".join(missing) + ".")
    return 3, (
        f"{design}, and the pre-trend test does not reject parallel trends before the start "
        f"at alpha = {alpha:g} for " + "; ".join(held) + ". Not rejecting is not proof: with "
        "few forces the test has little power."
    )


def _p(value: float) -> str:
    if value < 0.001:
        return "p < 0.001"
    return f"p = {value:.3f}" if value < 0.1 else f"p = {value:.2f}"


def _strip(text: str) -> str:
    return text.rstrip(". ")
