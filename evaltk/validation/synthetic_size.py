"""Size of the placebo inference of the synthetic estimators on the project's simulator.

Datasets of the national preset's forces (the first 20, or all 43) with no effect of triage
at all, 48 months (2014-2017), one force treated from January 2017 and the others never.
Which force is treated is drawn at random in each dataset: that is the assumption under
which the placebo-in-space rank test is exact (every unit is fitted against all the others,
so the set of RMSPE ratios does not depend on which unit was treated, and the treated
unit's rank is uniform). The outcome is the s136 rate per 100,000 people.

Claim checked: the rank test rejects a true null at 5 % and 10 % in 5 % and 10 % of datasets
(exact, so the bound is three Monte Carlo standard errors either side). Synthetic DiD
(:func:`synthetic_did_size`, bench only) refits every force twice per dataset, so it runs on
30 datasets: its rank test and the coverage of its placebo-SE interval, with wide bounds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaltk.estimators.synthetic import (
    SyntheticData,
    synthetic_data,
)
from evaltk.estimators.synthetic.adh import fit_sc
from evaltk.estimators.synthetic.inference import placebo_in_space
from evaltk.validation.record import Requirement, Table
from evaltk.validation.simulation import CheckResult, between, mc_se

#: Replicates of the fast test (tests/estimators/synthetic/test_placebo_size.py).
SC_SIZE_REPLICATES = 300
#: Replicates of the bench record (bench/validation_checks.py --check synthetic_size).
SC_BENCH_REPLICATES = 600
SC_BENCH_REPLICATES_43 = 200
SDID_BENCH_REPLICATES = 30
SDID_COVERAGE_BOUNDS = (0.80, 1.0)
START = pd.Timestamp("2017-01-01")
ALPHAS = (0.05, 0.10)


def null_data(seed: int, n_forces: int) -> SyntheticData:
    """One simulated dataset with no effect and one force, drawn at random, treated."""
    from evaltk.simulate import SimulationConfig, simulate_series
    from evaltk.simulate.config import ALL_FORCES

    forces = ALL_FORCES[:n_forces]
    treated = forces[int(np.random.default_rng([seed, n_forces]).integers(n_forces))]
    config = SimulationConfig(
        forces=forces,
        starts={treated: "2017-01"},
        never_treated_share=1.0,
        months=48,
        scale=1.0,
        effects={},
        seed=seed,
    )
    months = simulate_series(config)
    months = months.assign(rate=months["s136"] / months["population"] * 1e5)
    return synthetic_data(
        months, treated=treated, start=START, unit="force", period="period", outcome="rate"
    )


def sc_p_values(replicates: int, n_forces: int = 20) -> np.ndarray:
    """Placebo-in-space p-values of the outcome-only synthetic control, one per dataset."""
    out = []
    for seed in range(replicates):
        data = null_data(seed, n_forces)
        out.append(placebo_in_space(data, fit_sc, fit_sc(data)).p_value)
    return np.array(out)


def size_requirements(name: str, p: np.ndarray) -> list[Requirement]:
    """Rejection at each of :data:`ALPHAS` within three Monte Carlo SEs of the level."""
    reqs = []
    for alpha in ALPHAS:
        half = 3 * mc_se(alpha, p.size)
        rate = float(np.mean(p <= alpha + 1e-12))
        reqs.append(
            between(
                f"{name}: rejection of a true null at {alpha:.0%} ({p.size} datasets)",
                round(rate, 4),
                (round(alpha - half, 4), round(alpha + half, 4)),
            )
        )
    return reqs


def sc_size(replicates: int = SC_SIZE_REPLICATES, n_forces: int = 20) -> CheckResult:
    """The fast study: outcome-only synthetic control, rank test, ``n_forces`` forces."""
    p = sc_p_values(replicates, n_forces)
    return CheckResult(
        title="Synthetic control placebo test: size",
        description="",
        figures={"replicates": replicates, "forces": n_forces}
        | {f"reject_{alpha:g}": float(np.mean(p <= alpha + 1e-12)) for alpha in ALPHAS},
        requirements=size_requirements(f"synthetic control, {n_forces} forces", p),
    )


def synthetic_size(
    sc_replicates: int = SC_BENCH_REPLICATES, sc_replicates_43: int = SC_BENCH_REPLICATES_43
) -> CheckResult:
    """The bench record: the synthetic control's rank test with 20 and with 43 forces."""
    rows: list[list[str | int | float | None]] = []
    requirements: list[Requirement] = []
    figures: dict[str, float] = {}
    for n, reps in ((20, sc_replicates), (43, sc_replicates_43)):
        p = sc_p_values(reps, n)
        requirements += size_requirements(f"synthetic control, {n} forces", p)
        for alpha in ALPHAS:
            rate = float(np.mean(p <= alpha + 1e-12))
            figures[f"sc_{n}_reject_{alpha:g}"] = rate
            rows.append(
                [
                    f"{n} forces",
                    "synthetic control, placebo rank",
                    reps,
                    f"{alpha:.0%}",
                    round(rate, 4),
                ]
            )
    return CheckResult(
        title="One treated force: size of the placebo inference",
        description=(
            "Datasets from the project simulator with no effect of triage, 48 months, one force "
            "treated from January 2017 among 20 (or 43) forces; which force is treated is drawn "
            "at random in each dataset, the assumption under which the placebo-in-space rank "
            "test is exact. The s136 rate per 100,000 is fitted by the synthetic control on "
            "pre-period outcomes, and the treated force's post/pre RMSPE "
            "ratio is ranked among all forces'. An exact test rejects in 5 % and 10 % of "
            "datasets at those levels (bounds: three Monte Carlo standard errors)."
        ),
        figures=figures,
        tables=[
            Table(
                caption="Rejection rate of a true null hypothesis",
                columns=["forces", "test", "replicates", "level", "rejected"],
                rows=rows,
            )
        ],
        requirements=requirements,
    )


def synthetic_did_size(replicates: int = SDID_BENCH_REPLICATES) -> CheckResult:
    """Bench only: synthetic DiD's rank test and the coverage of its placebo-SE interval on
    the same null datasets (20 forces). Each dataset refits every force twice (about 20
    seconds on a shared machine), so the datasets are few and the bounds wide: this shows
    the interval is not grossly wrong, not that it is exact."""
    from evaltk.estimators.synthetic import synthetic_did

    p, covered = [], []
    for seed in range(replicates):
        head = synthetic_did(null_data(seed, 20), robustness=False).headline
        p.append(head.p_value)
        covered.append(head.ci_low <= 0.0 <= head.ci_high)
    p_values = np.array(p)
    coverage = float(np.mean(covered))
    rows: list[list[str | int | float | None]] = [
        [
            "placebo rank test rejects at 5 %",
            replicates,
            round(float(np.mean(p_values <= 0.05 + 1e-12)), 4),
        ],
        [
            "placebo rank test rejects at 10 %",
            replicates,
            round(float(np.mean(p_values <= 0.10 + 1e-12)), 4),
        ],
        ["95 % placebo-SE interval covers the true effect 0", replicates, round(coverage, 4)],
    ]
    return CheckResult(
        title="One treated force: synthetic DiD's placebo inference",
        description=(
            "The datasets of the synthetic control's size study (20 forces, no effect, one "
            "force drawn at random treated from January 2017), fitted by synthetic DiD. The "
            "rank test is exact as before; the interval (estimate plus or minus 1.96 placebo "
            "standard errors) is approximate. Few datasets: the bounds are wide."
        ),
        figures={"replicates": replicates, "coverage": coverage},
        tables=[
            Table(
                caption="Synthetic DiD on null datasets, 20 forces",
                columns=["claim", "replicates", "rate"],
                rows=rows,
            )
        ],
        requirements=[
            *size_requirements("synthetic DiD, 20 forces", p_values),
            between(
                f"synthetic DiD: 95 % placebo-SE interval covers 0 ({replicates} datasets)",
                round(coverage, 4),
                SDID_COVERAGE_BOUNDS,
            ),
        ],
    )
