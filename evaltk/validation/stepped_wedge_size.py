"""Size of the stepped-wedge randomisation test on trials with no effect.

Each dataset is a trial of 12 clusters (populations 60,000 to 130,000) over six quarterly
steps after a baseline year, 36 months, simulated by
:func:`evaltk.simulate.stepped_wedge.simulate_stepped_wedge` with cluster variation (SD 0.15
on the log scale), AR(1) cluster-month variation (SD 0.05, correlation 0.5), no trend and a
true rate ratio of 1. Its schedule is drawn by the scheme (simple randomisation, two clusters
a step) and the registered analysis is run: the Poisson fixed-effects model on small counts
(6 events per 100,000 a month) and the log-rate mixed model on large ones (60), each with the
randomisation test over :data:`PERMUTATIONS` schedules re-drawn from the scheme.

Claim checked: the test rejects a true null at alpha 5 % in at most 6.5 % of trials. Drawn
from the scheme, it is exact, so its rejection rate should be 5 % within Monte Carlo error;
:data:`BENCH_REPLICATES` trials per model put 6.5 % more than two Monte Carlo standard errors
above 5 % (``tests/estimators/stepped_wedge/test_size_record.py`` checks that, and recomputes
a few trials from their seeds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaltk.estimators.stepped_wedge import (
    Scheme,
    SWData,
    fit_model,
    randomisation_test,
    reference_schedules,
    sw_data,
)
from evaltk.simulate.stepped_wedge import simulate_stepped_wedge
from evaltk.validation.record import ReplicateCell, Requirement, Table
from evaltk.validation.simulation import CheckResult, mc_se

BENCH_REPLICATES = 1000
PERMUTATIONS = 199
ALPHA = 0.05
BOUND = 0.065
CLUSTERS = 12
STEPS = 6
STEP_MONTHS = 3
BASELINE_MONTHS = 12
MONTHS = BASELINE_MONTHS + STEPS * STEP_MONTHS
#: Base rate per 100,000 a month of each model's trials.
RATES = {"poisson": 6.0, "log_rate": 60.0}


def null_trial(seed: int, model: str) -> SWData:
    """One simulated trial with no effect, its schedule drawn by the scheme."""
    rng = np.random.default_rng([seed, 0x5357, len(model)])
    populations = np.linspace(60_000, 130_000, CLUSTERS).round()
    steps = Scheme(STEPS, CLUSTERS).random_schedules(1, rng)[0]
    months = simulate_stepped_wedge(
        populations,
        BASELINE_MONTHS + (steps - 1) * STEP_MONTHS,
        MONTHS,
        base_rate=RATES[model],
        effect=1.0,
        cluster_sd=0.15,
        period_sd=0.05,
        rho=0.5,
        rng=rng,
    )
    frame = pd.DataFrame(
        {
            "cluster": months["cluster"].astype(str),
            "period": (months["month"] - BASELINE_MONTHS) // STEP_MONTHS + 1,
            "y": months["count"].astype(float),
            "exposure": months["population"] / 1e5,
        }
    )
    summed = frame.groupby(["cluster", "period"], as_index=False)[["y", "exposure"]].sum()
    return sw_data(summed, {str(i): int(s) for i, s in enumerate(steps)})


def null_p_value(seed: int, model: str) -> float:
    """The randomisation p-value of one null trial."""
    data = null_trial(seed, model)
    fit = fit_model(data, model)
    reference = reference_schedules(Scheme(STEPS, CLUSTERS), seed, PERMUTATIONS)
    return float(randomisation_test(data, fit, reference, None).p_value)


def needed_replicates(alpha: float = ALPHA, bound: float = BOUND) -> int:
    """Trials that put ``bound`` two Monte Carlo standard errors above ``alpha``."""
    return int(np.ceil(4 * alpha * (1 - alpha) / (bound - alpha) ** 2))


def stepped_wedge_size(replicates: int = BENCH_REPLICATES) -> CheckResult:
    """The bench record: rejection of a true null by each model's randomisation test."""
    rows: list[list[str | int | float | None]] = []
    requirements: list[Requirement] = []
    figures: dict[str, float] = {"replicates": replicates}
    kept: dict[str, list[ReplicateCell]] = {}
    for model in RATES:
        p = np.array([null_p_value(seed, model) for seed in range(replicates)])
        rate = float(np.mean(p <= ALPHA + 1e-12))
        figures[f"{model}_reject"] = rate
        kept[model] = [round(float(v), 10) for v in p]
        rows.append([model, replicates, round(rate, 4), round(mc_se(ALPHA, replicates), 4)])
        requirements.append(
            Requirement(
                claim=f"{model}: randomisation test rejects a true null at 5 % "
                f"({replicates} trials)",
                value=round(rate, 4),
                bound=f"at most {BOUND:g}",
                met=rate <= BOUND,
            )
        )
    return CheckResult(
        title="Stepped-wedge trial: size of the randomisation test",
        description=(
            f"Trials of {CLUSTERS} clusters over {STEPS} quarterly steps after a baseline "
            "year, simulated with cluster and cluster-month variation and no effect; the "
            "schedule drawn by the scheme and the registered analysis run (Poisson "
            "fixed-effects model at 6 events per 100,000 a month, log-rate mixed model at "
            f"60), each with the randomisation test over {PERMUTATIONS} re-drawn schedules. "
            f"Bound: at most {BOUND:.1%} rejections at 5 % ({replicates} trials per model, "
            f"at least the {needed_replicates()} that put the bound two Monte Carlo standard "
            "errors above 5 %)."
        ),
        figures=figures,
        tables=[
            Table(
                caption="Rejection rate of a true null hypothesis at 5 %",
                columns=["model", "trials", "rejected", "Monte Carlo SE at 5 %"],
                rows=rows,
            )
        ],
        requirements=requirements,
        replicates=kept,
    )
