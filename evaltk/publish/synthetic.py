"""What a chapter says about a synthetic control or synthetic DiD result, next to it: the
synthetic force (its donor weights by force name), how well it tracked the treated force before
the start (RMSPE), the placebo in space that gives the p-value, the placebo in time and the
leave-one-out range, and why the inference is placebo-based. Reads only the outcome's
``synthetic`` block in results.json.

Nothing here is an observed count: weights, RMSPE and placebo estimates are model quantities,
and the treated unit's mean before the start is an average over months (like the baseline).
"""

from __future__ import annotations

from typing import Any

from evaltk.publish import format as fmt
from evaltk.results.schema import OutcomeResult

#: Why not large-sample errors, said once for every synthetic result.
WHY_PLACEBO = (
    "Why placebos and not a standard error from a formula: there is one treated force, so "
    "there is no sample of treated forces whose spread a large-sample standard error could "
    "describe, and clustering by force would leave one cluster on the treated side. The "
    "question a placebo answers is the one that matters: is the treated force's gap unusual "
    "among forces that did not start the scheme? Its p-value is exact when the treated force "
    "was no likelier than any other to be the one treated, and can be no smaller than "
    "1 / forces. The interval (the estimate ± the normal quantile × the spread of the donors' "
    "placebo estimates) describes the size of the gap; the verdict reads the p-value, and the "
    "two can disagree at the margin."
)


def synthetic_section(outcome: OutcomeResult, level: float) -> dict[str, Any] | None:
    """The section's values; None for the other designs."""
    record = outcome.synthetic
    if record is None:
        return None
    name = record.treated_name
    used = [w for w in record.weights if w.weight > 0]
    share = record.pre_rmspe / abs(record.treated_mean_pre) if record.treated_mean_pre else None
    relative = f", {fmt.percent(share * 100, whole=True)} of its mean" if share is not None else ""
    n = len(record.placebos)
    fit = (
        f"Synthetic {name} is a weighted mix of {len(used)} of the {record.n_donors} donor "
        f"forces (the others have weight 0). Over the {record.n_pre} months before the start it "
        f"tracked {name} with a root mean squared prediction error (RMSPE) of "
        f"{fmt.number(record.pre_rmspe)}{relative} of {fmt.number(record.treated_mean_pre)} "
        "over those months; a synthetic force that does not track the treated one before the "
        "start says little about after it (Abadie 2021)."
    )
    space = (
        f"Placebo in space: each donor force was treated in turn as if it had started the "
        f"scheme, against all the other forces. {name}'s ratio of post- to pre-start RMSPE "
        f"ranks {record.rank} of {n}, so p = {record.rank}/{n} = "
        f"{fmt.p_value(record.rank / n)} (the smallest possible is 1/{n} = "
        f"{fmt.p_value(1 / n)})."
    )
    checks = []
    placebo = record.placebo_in_time
    if placebo is not None:
        checks.append(
            f"Placebo in time: refitted on the months before the start alone with a pretend "
            f"start in {fmt.month(placebo.start)}, the gap from then to the real start averaged "
            f"{fmt.difference_change(placebo.estimate)} (no scheme was running, so it should be "
            "near no change; its rank among every force fitted the same way is the pre-trend "
            "test under Diagnostics)."
        )
    loo = record.leave_one_out
    if loo:
        low = min(loo, key=lambda r: r.estimate if r.estimate is not None else 0.0)
        high = max(loo, key=lambda r: r.estimate if r.estimate is not None else 0.0)
        checks.append(
            f"Leave one donor out: refitted without each of the {len(loo)} weighted donors in "
            f"turn, the change ranged from {fmt.difference_change(low.estimate)} (without "
            f"{low.name}) to {fmt.difference_change(high.estimate)} (without {high.name})."
        )
    predictors = [
        {
            "predictor": p.predictor,
            "treated": fmt.number(p.treated),
            "synthetic": fmt.number(p.synthetic),
            "donors": fmt.number(p.donor_mean),
            "weight": f"{p.weight:.3f}" if p.weight is not None else fmt.MISSING,
        }
        for p in record.predictors
    ]
    return {
        "name": name,
        "fit": fit,
        "weights": [{"force": f"{w.name} ({w.unit})", "weight": f"{w.weight:.3f}"} for w in used],
        "predictors": predictors,
        "space": space,
        "checks": checks,
        "why": WHY_PLACEBO,
    }
