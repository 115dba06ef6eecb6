"""Stepped-wedge power as stated, checked against the registered analysis of simulated trials.

The trial is the demo's example (``analyses/example-stepped-wedge``): its 12 areas and
populations, six quarterly steps after a baseline year and two quarters after the last start,
its drawn schedule, and its randomisation scheme (NCN and NCS start together; restricted to
schedules whose steps' mean populations are within 25 % of the mean; 999 reference schedules
from the protocol's seed). Section 136 detentions run at 12 per 100,000 a month (the demo's
rate), so every cluster-quarter expects at least 22 events and ``model: auto`` is the log-rate
model.

1. ``evaltk power``'s simulation (:func:`evaltk.power.stepped_wedge.sw_power_analysis`) with
   the trial's layout and the simulator's own variation (cluster SD 0.15 on the log scale:
   :math:`\\tau^2 = 0.0225`; monthly AR(1) SD 0.05, correlation 0.5, whose quarterly mean has
   variance :math:`\\gamma^2 = 0.05^2 (3 + 2(2\\rho + \\rho^2)) / 9`) states the rate ratio at
   which the registered randomisation test has 80 % power (:data:`POWER_REPLICATES` replicates
   a ratio, interpolated between ratios :data:`EFFECTS`).
2. :data:`BENCH_REPLICATES` independent trials at that ratio, and as many with no effect, are
   simulated month by month (:func:`evaltk.simulate.stepped_wedge.simulate_stepped_wedge`),
   summed into the design's quarters, and analysed as ``evaltk run`` does
   (:func:`evaltk.estimators.stepped_wedge.fit_model` and
   :func:`evaltk.estimators.stepped_wedge.randomisation_test` over the same reference
   schedules).

Claims checked: the share of trials the analysis rejects at 5 % is within two Monte Carlo
standard errors of the stated 80 % (the SE of the difference: the trials' and the stated
power's), and the share under no effect is at most 6.5 %.
``tests/validation/test_stepped_wedge_power_record.py`` checks the stored record against these
settings (their hash) and recomputes trials from their seeds.
"""

from __future__ import annotations

import hashlib
import json

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
from evaltk.power.stepped_wedge import SteppedWedgePowerSettings, sw_power_analysis
from evaltk.power.sw_closed import Components
from evaltk.simulate.stepped_wedge import simulate_stepped_wedge
from evaltk.validation.record import ReplicateCell, Requirement, Table
from evaltk.validation.simulation import CheckResult

#: Bumped when the check changes in a way its settings do not show.
VERSION = 1
BENCH_REPLICATES = 400
POWER_REPLICATES = 4000
ALPHA = 0.05
TARGET = 0.8
NULL_BOUND = 0.065
#: The example's areas as listed in design.trial, their populations and drawn steps.
NAMES = ("ASH", "BAS", "BRO", "GED", "MAN", "NEW", "RUS", "NCC", "NCN", "NCS", "NCE", "NCW")
POPULATIONS: tuple[int, ...] = (127000, 117000, 113000, 117000, 108000, 122000, 117000)
POPULATIONS += (70000, 65000, 62000, 68000, 66000)
SCHEDULE = (2, 3, 5, 6, 4, 4, 1, 1, 2, 2, 5, 6)
TOGETHER = ((8, 9),)
MAX_IMBALANCE = 0.25
CANDIDATES = 10_000
PERMUTATIONS = 999
SEED = 20200101
STEPS = 6
STEP_MONTHS = 3
BASELINE_MONTHS = 12
AFTER_MONTHS = 6
MONTHS = BASELINE_MONTHS + STEPS * STEP_MONTHS + AFTER_MONTHS
#: Section 136 detentions per 100,000 residents a month, and the simulator's variation.
RATE = 12.0
CLUSTER_SD, PERIOD_SD, RHO = 0.15, 0.05, 0.5
MODEL = "log_rate"
EFFECTS = (0.70, 0.72, 0.74, 0.76, 0.78, 0.80, 0.82, 0.84, 0.86, 0.88, 0.90, 1.0)


def variance_components() -> Components:
    """tau^2 and gamma^2 of a cluster-quarter's log rate under the simulator's variation."""
    quarter = PERIOD_SD**2 * (STEP_MONTHS + 2 * (2 * RHO + RHO**2)) / STEP_MONTHS**2
    return Components(tau2=CLUSTER_SD**2, gamma2=quarter)


def power_settings() -> SteppedWedgePowerSettings:
    """What ``evaltk power`` builds for the example trial, with the simulator's variation."""
    counts = tuple(p / 1e5 * RATE * STEP_MONTHS for p in POPULATIONS)
    mean = float(np.mean(counts))
    parts = variance_components()
    between = parts.tau2 + parts.gamma2
    return SteppedWedgePowerSettings(
        clusters=(len(NAMES),),
        steps=(STEPS,),
        baseline_periods=BASELINE_MONTHS // STEP_MONTHS,
        after_periods=AFTER_MONTHS // STEP_MONTHS,
        mean_count=mean,
        cluster_counts=counts,
        icc=between * mean / (between * mean + 1.0),
        cac=parts.tau2 / between,
        effects=EFFECTS,
        schedule=SCHEDULE,
        test_model=MODEL,
        permutations=PERMUTATIONS,
        together=TOGETHER,
        balance=tuple((float(p),) for p in POPULATIONS),
        max_imbalance=MAX_IMBALANCE,
        candidates=CANDIDATES,
        alpha=ALPHA,
        target_power=TARGET,
        replicates=POWER_REPLICATES,
        seed=SEED,
        source="the simulator's variation (evaltk.validation.stepped_wedge_power)",
    )


def settings_hash() -> str:
    """Hash of everything the record depends on (power settings, trials, version)."""
    values = {
        "version": VERSION,
        "power": power_settings().model_dump(mode="json"),
        "trials": [BENCH_REPLICATES, MONTHS, RATE, CLUSTER_SD, PERIOD_SD, RHO, MODEL],
    }
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def scheme() -> Scheme:
    """The example's randomisation scheme, clusters as listed."""
    balance = np.array(POPULATIONS, dtype=float)[:, None]
    return Scheme(STEPS, len(NAMES), TOGETHER, balance, MAX_IMBALANCE, CANDIDATES)


def trial(seed: int, effect: float) -> SWData:
    """One simulated trial on the drawn schedule, summed into design periods as
    :func:`evaltk.estimate.stepped_wedge.trial_data` sums the months (exposure: population
    in 100,000s, summed over the months)."""
    rng = np.random.default_rng([seed, 0x5357, 0x5057])
    steps = np.array(SCHEDULE)
    months = simulate_stepped_wedge(
        np.array(POPULATIONS),
        BASELINE_MONTHS + (steps - 1) * STEP_MONTHS,
        MONTHS,
        base_rate=RATE,
        effect=effect,
        cluster_sd=CLUSTER_SD,
        period_sd=PERIOD_SD,
        rho=RHO,
        rng=rng,
    )
    frame = pd.DataFrame(
        {
            "cluster": np.asarray(NAMES)[months["cluster"].to_numpy()],
            "period": (months["month"] - BASELINE_MONTHS) // STEP_MONTHS + 1,
            "y": months["count"].astype(float),
            "exposure": months["population"] / 1e5,
        }
    )
    summed = frame.groupby(["cluster", "period"], as_index=False)[["y", "exposure"]].sum()
    return sw_data(summed, dict(zip(NAMES, SCHEDULE, strict=True)))


def trial_p_value(seed: int, effect: float) -> float:
    """The registered analysis of one trial: the model's fit and the randomisation test."""
    data = trial(seed, effect)
    fit = fit_model(data, MODEL)
    reference = reference_schedules(scheme(), SEED, PERMUTATIONS)
    return float(randomisation_test(data, fit, reference, None).p_value)


def stated_effect() -> tuple[float, float]:
    """The rate ratio at which ``evaltk power`` states 80 % power for the registered test, and
    the Monte Carlo SE of a power estimated from its replicates there."""
    report = sw_power_analysis(power_settings())
    found = report.detectable[0].registered_reduction
    if found is None:
        raise RuntimeError("the power grid does not reach 80 %: widen EFFECTS")
    return found, float(np.sqrt(TARGET * (1 - TARGET) / POWER_REPLICATES))


def stepped_wedge_power(replicates: int = BENCH_REPLICATES) -> CheckResult:
    """The bench record: the registered analysis's rejection rate at the stated effect and at
    no effect."""
    effect, stated_se = stated_effect()
    arms = {"stated_effect": effect, "no_effect": 1.0}
    kept: dict[str, list[ReplicateCell]] = {}
    rates = {}
    for arm, ratio in arms.items():
        offset = 0 if arm == "stated_effect" else 1_000_000
        p = np.array([trial_p_value(offset + seed, ratio) for seed in range(replicates)])
        kept[arm] = [round(float(v), 10) for v in p]
        rates[arm] = float(np.mean(p <= ALPHA + 1e-12))
    trial_se = float(np.sqrt(TARGET * (1 - TARGET) / replicates))
    null_se = float(np.sqrt(ALPHA * (1 - ALPHA) / replicates))
    se = float(np.hypot(trial_se, stated_se))
    reference = reference_schedules(scheme(), SEED, PERMUTATIONS)
    over = (
        f"all {len(reference.schedules)} schedules the restricted scheme allows"
        if reference.enumerated
        else f"{PERMUTATIONS} schedules re-drawn from the scheme"
    )
    power = rates["stated_effect"]
    return CheckResult(
        title="Stepped-wedge trial: stated power against the registered analysis",
        description=(
            f"The example trial ({len(NAMES)} areas, {STEPS} quarterly steps after a baseline "
            "year, its drawn schedule and restricted scheme, Section 136 detentions at "
            f"{RATE:g} per 100,000 a month, cluster SD {CLUSTER_SD:g}, monthly AR(1) SD "
            f"{PERIOD_SD:g} with correlation {RHO:g}). evaltk power's simulation of the "
            f"registered test ({POWER_REPLICATES} replicates a ratio, randomisation inference "
            f"over {over}, with the log-rate model's statistic) states 80 % "
            f"power at a rate ratio of {effect:.4g}. {replicates} trials at that ratio and "
            f"{replicates} with no effect were simulated month by month and analysed as "
            "evaltk run does (log-rate mixed model, randomisation test over the same "
            "schedules). Bounds: rejections at the stated ratio within two Monte Carlo "
            f"standard errors of 80 % (SE {se:.4f}: the trials' {trial_se:.4f} and the stated "
            f"power's {stated_se:.4f}); under no effect at most {NULL_BOUND:.1%} at 5 %. "
            f"Settings hash {settings_hash()}."
        ),
        figures={"stated_effect": effect, "power": power, "size": rates["no_effect"]},
        tables=[
            Table(
                caption="Rejections at 5 % by the registered analysis of simulated trials",
                columns=["true rate ratio", "trials", "stated power", "rejected", "Monte Carlo SE"],
                rows=[
                    [round(effect, 4), replicates, TARGET, round(power, 4), round(se, 4)],
                    [1.0, replicates, ALPHA, round(rates["no_effect"], 4), round(null_se, 4)],
                ],
            ),
            Table(
                caption="Settings",
                columns=["setting", "value"],
                rows=[["settings hash", settings_hash()], ["check version", VERSION]],
            ),
        ],
        requirements=[
            Requirement(
                claim=f"rejections at the ratio stated for 80 % power ({effect:.4g}), "
                f"{replicates} trials",
                value=round(power, 4),
                bound=f"within {TARGET:g} ± {2 * se:.4f} (2 Monte Carlo SE)",
                met=abs(power - TARGET) <= 2 * se,
            ),
            Requirement(
                claim=f"rejections with no effect, {replicates} trials",
                value=round(rates["no_effect"], 4),
                bound=f"at most {NULL_BOUND:g}",
                met=rates["no_effect"] <= NULL_BOUND,
            ),
        ],
        replicates=kept,
    )
