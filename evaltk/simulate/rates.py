"""Per-incident outcome parameters for each force, with and without a triage nurse attending.

Effects are configured as ratios over *all* incidents in a treated force-month (what an
evaluation of force-level counts estimates). Only attended incidents change, so each attended
incident's parameter is multiplied by ``m`` solved from ``coverage*m + (1-coverage) = rho``, where
``rho`` is the configured ratio per incident (the count ratio divided by the incident-volume
ratio; for minutes, the ratio of means itself). Composite outcomes are solved so their *own*
ratio is exact: A&E conveyance includes s136 detentions taken to an emergency department,
admissions depend on s136, waiting happens at hospital, and officer minutes include the wait.
The volume effect (``incidents``) is not solved here: it scales the expected incident count of
treated months directly (see :mod:`evaltk.simulate.backbone`), since an incident that never
happens cannot be attended.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from evaltk.episodes.schema import PLACES_OF_SAFETY, REFERRALS
from evaltk.errors import SimulationError
from evaltk.simulate.effects import EFFECT_KEYS, EFFECTS_BY_KEY
from evaltk.simulate.forces import FORCES_BY_CODE, force_number
from evaltk.simulate.randomness import Stream, rng

if TYPE_CHECKING:
    from evaltk.simulate.config import SimulationConfig

ED = PLACES_OF_SAFETY.index("emergency_department")
SUITE = PLACES_OF_SAFETY.index("health_based_suite")
REFERRAL_KINDS = tuple(r for r in REFERRALS if r != "none")

# Force-to-force variation multiplies these baseline rates (one draw each per force).
_VARYING = (
    "s136",
    "ae_conveyance",
    "ambulance_conveyance",
    "referral",
    "missing_person",
    "arrest",
    "admitted_72h",
    "officer_minutes",
    "hospital_wait_minutes",
)


@dataclass(frozen=True)
class Rates:
    """Solved parameters. Arrays are ``(n_forces, 2)``: column 0 unattended, 1 attended.

    Unattended parameters apply to every incident in an untreated month and to incidents the
    nurse did not attend in a treated month.
    """

    incident_multiplier: np.ndarray  # (n_forces,) force's incident-rate multiplier, mean one
    s136: np.ndarray
    other_ae: np.ndarray  # A&E conveyance other than as an s136 place of safety
    ambulance_conveyance: np.ndarray
    referral: np.ndarray
    missing_person: np.ndarray
    arrest: np.ndarray
    admitted_s136: np.ndarray
    admitted_other: np.ndarray
    wait_mean: np.ndarray  # mean minutes, given police waited at hospital
    scene_mean: np.ndarray  # mean officer minutes other than waiting at hospital
    place_shares: np.ndarray  # (3,) in PLACES_OF_SAFETY order
    referral_shares: np.ndarray  # (3,) in REFERRAL_KINDS order
    p_wait: float
    officer_sigma: float
    wait_sigma: float
    per_incident: dict[str, np.ndarray]  # effect key -> expected value per incident, (n, 2)


def force_multipliers(config: SimulationConfig) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each force's incident-rate multiplier and outcome-rate multipliers (fixed by the seed)."""
    n_draws = 1 + len(_VARYING)
    draws = np.array(
        [
            rng(config.seed, Stream.FORCE_TRAITS, force_number(f)).standard_normal(n_draws)
            for f in config.forces
        ]
    )
    # Clipped at two sds so that no force gets an implausibly extreme rate by chance.
    draws = np.clip(draws, -2.0, 2.0)
    rate_sd = config.force_rate_sd
    # Mean one (before clipping) so the national total keeps the size the base rate implies.
    incident = np.exp(rate_sd * draws[:, 0] - rate_sd**2 / 2)
    outcome = {
        key: np.exp(config.force_outcome_sd * draws[:, 1 + i]) for i, key in enumerate(_VARYING)
    }
    return incident, outcome


def solve_rates(config: SimulationConfig) -> Rates:
    """Solve every force's per-incident parameters; raise if any would be impossible."""
    incident, h = force_multipliers(config)
    names = [FORCES_BY_CODE[f].name for f in config.forces]
    check = _Checker(names, config.effects)
    c = config.coverage
    shares = np.array([config.place_of_safety_shares[p] for p in PLACES_OF_SAFETY])
    s_ed, s_suite = shares[ED], shares[SUITE]
    volume = config.effect("incidents")

    def multiplier(key: str) -> float:
        effect = EFFECTS_BY_KEY[key]
        ratio = config.effect(key)
        per_incident = ratio / volume if effect.scale == "count" else ratio
        m = (per_incident - (1.0 - c)) / c
        if m < 0:
            raise SimulationError(
                f"effect {key}={ratio:g} is impossible with coverage {c:g}: only attended "
                f"incidents change, so the ratio per incident cannot fall below {1 - c:g} "
                f"(here it is {per_incident:.3g}); raise coverage or the ratio"
            )
        return m

    m = {e.key: multiplier(e.key) for e in EFFECT_KEYS}

    def pair(base: np.ndarray, attended: np.ndarray) -> np.ndarray:
        return np.column_stack([base, attended])

    # s136 and the place of safety (shares are not changed by triage).
    s136 = config.p_s136 * h["s136"]
    s136_a = s136 * m["s136"]
    check.probability("s136", s136, s136_a)

    # A&E: an s136 to an ED is an A&E conveyance; the rest arrive by any other route (q).
    ae = config.p_ae_conveyance * h["ae_conveyance"]
    ae_a = ae * m["ae_conveyance"]
    check.probability("ae_conveyance", ae, ae_a)
    q = check.other_route("ae_conveyance", ae, s136 * s_ed)
    q_a = check.other_route("ae_conveyance", ae_a, s136_a * s_ed)

    simple = {}
    for key in ("ambulance_conveyance", "referral", "missing_person", "arrest"):
        base = getattr(config, f"p_{key}") * h[key]
        simple[key] = pair(base, base * m[key])
        check.probability(key, *simple[key].T)

    # Admission: scale both s136 and non-s136 rates so the admission count ratio is exact.
    a1 = config.p_admitted_72h_s136 * h["admitted_72h"]
    a0 = config.p_admitted_72h_other * h["admitted_72h"]
    admitted = s136 * a1 + (1 - s136) * a0
    admitted_a = admitted * m["admitted_72h"]
    natural_a = s136_a * a1 + (1 - s136_a) * a0
    k = np.divide(admitted_a, natural_a, out=np.ones_like(natural_a), where=natural_a > 0)
    check.reachable("admitted_72h", admitted_a, natural_a)
    check.probability("admitted_72h", a1, a1 * k)
    check.probability("admitted_72h", a0, a0 * k)

    # Waiting happens at hospital: an A&E conveyance or an s136 to a health-based suite.
    p_wait = config.p_hospital_wait
    at_hospital = ae + s136 * s_suite * (1 - q)
    at_hospital_a = ae_a + s136_a * s_suite * (1 - q_a)
    wait_mean = config.hospital_wait_mean * h["hospital_wait_minutes"]
    wait = at_hospital * p_wait * wait_mean  # expected minutes per incident
    wait_a = wait * m["hospital_wait_minutes"]
    check.reachable("hospital_wait_minutes", wait_a, at_hospital_a * p_wait)
    denom = at_hospital_a * p_wait
    wait_mean_a = np.divide(wait_a, denom, out=wait_mean.copy(), where=denom > 0)

    # Officer minutes are travel and scene time plus the wait. By default the scheme changes
    # scene time by the scene_minutes ratio and the wait by its own, and officer minutes are
    # their sum (so waiting less means less officer time); an explicit officer_minutes ratio
    # instead fixes the total, and scene time takes up the rest.
    officer = config.officer_minutes_mean * h["officer_minutes"]
    scene = officer - wait
    if "officer_minutes" in config.effects:
        officer_a = officer * m["officer_minutes"]
        scene_a = officer_a - wait_a
    else:
        scene_a = scene * m["scene_minutes"]
        officer_a = scene_a + wait_a
    check.positive_scene(scene, scene_a, wait, wait_a)

    return Rates(
        incident_multiplier=incident,
        s136=pair(s136, s136_a),
        other_ae=pair(q, q_a),
        ambulance_conveyance=simple["ambulance_conveyance"],
        referral=simple["referral"],
        missing_person=simple["missing_person"],
        arrest=simple["arrest"],
        admitted_s136=pair(a1, a1 * k),
        admitted_other=pair(a0, a0 * k),
        wait_mean=pair(wait_mean, wait_mean_a),
        scene_mean=pair(scene, scene_a),
        place_shares=shares,
        referral_shares=np.array([config.referral_shares[r] for r in REFERRAL_KINDS]),
        p_wait=p_wait,
        officer_sigma=config.officer_minutes_sigma,
        wait_sigma=config.hospital_wait_sigma,
        per_incident={
            "incidents": np.ones((len(names), 2)),
            "s136": pair(s136, s136_a),
            "ae_conveyance": pair(ae, ae_a),
            **simple,
            "admitted_72h": pair(admitted, admitted_a),
            "officer_minutes": pair(officer, officer_a),
            "hospital_wait_minutes": pair(wait, wait_a),
            "scene_minutes": pair(scene, scene_a),
        },
    )


class _Checker:
    """Turns an impossible solved parameter into a SimulationError naming force and outcome."""

    def __init__(self, names: list[str], effects: dict[str, float]) -> None:
        self.names = names
        self.effects = effects

    def _fail(self, bad: np.ndarray, message: str) -> None:
        if np.any(bad):
            force = self.names[int(np.flatnonzero(bad)[0])]
            raise SimulationError(f"{force}: {message}")

    def probability(self, key: str, base: np.ndarray, attended: np.ndarray) -> None:
        self._fail(base > 1, f"the baseline {key} probability exceeds 1; lower it")
        self._fail(
            attended > 1 + 1e-12,
            f"effect {key}={self.effects.get(key, 1.0):g} needs attended incidents to have a {key} "
            f"probability of {float(np.max(attended)):.3f}, above 1; lower the effect, raise "
            "coverage or lower the baseline rate",
        )

    def other_route(self, key: str, total: np.ndarray, via_s136: np.ndarray) -> np.ndarray:
        self._fail(
            total < via_s136 - 1e-12,
            f"{key} is set below the s136 detentions taken to an emergency department that it "
            "includes; raise the ae_conveyance effect or baseline, or lower the s136 effect",
        )
        rest = np.clip(total - via_s136, 0.0, None)
        return np.divide(rest, 1 - via_s136, out=np.zeros_like(rest), where=via_s136 < 1)

    def reachable(self, key: str, target: np.ndarray, support: np.ndarray) -> None:
        self._fail(
            (support <= 0) & (target > 0),
            f"effect {key} needs attended incidents to have some {key}, but nothing leads to it",
        )

    def positive_scene(self, *minutes: np.ndarray) -> None:
        scene, scene_a, wait, wait_a = minutes
        self._fail(
            scene <= 0,
            f"officer_minutes_mean is below the expected hospital wait ({float(wait.max()):.0f} "
            "min per incident) that it includes; raise it or lower the waits",
        )
        self._fail(
            scene_a <= 0,
            "the officer_minutes effect leaves less officer time per attended incident than its "
            f"expected hospital wait ({float(wait_a.max()):.0f} min); raise officer_minutes or "
            "lower hospital_wait_minutes",
        )
