"""Force × month totals straight from the generative model, without episode rows.

Simulation studies (interval coverage, verdict calibration, power) need hundreds of datasets;
drawing the monthly totals with binomial and Poisson draws instead of building rows gives the
same distribution of counts in milliseconds. Repeat-contact measures (the same person again
within 28 or 90 days) need people and times and exist only at episode level.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaltk.simulate.backbone import build_backbone
from evaltk.simulate.config import SimulationConfig
from evaltk.simulate.effects import EFFECT_NAMES
from evaltk.simulate.randomness import Stream, rng
from evaltk.simulate.rates import ED, SUITE, Rates

#: Outcome columns of :func:`simulate_series`, after ``force, period, population, treated``.
SERIES_OUTCOMES: tuple[str, ...] = (
    "incidents",
    "triage_attended",
    "s136",
    "s136_emergency_department",
    "s136_police_custody",
    "ae_conveyance",
    "ambulance_conveyance",
    "referral",
    "missing_person",
    "arrest",
    "admitted_72h",
    "officer_minutes",
    "scene_minutes",
    "hospital_wait_minutes",
)


def simulate_series(config: SimulationConfig) -> pd.DataFrame:
    """Monthly totals per force, drawn from the same model as the episodes.

    Parameters
    ----------
    config
        The simulation settings; the same seed gives the same backbone (latent rates, starts)
        as :func:`~evaltk.simulate.iter_episode_chunks`, but independent outcome draws.

    Returns
    -------
    pandas.DataFrame
        One row per force × month with ``force, period, population, treated`` and counts
        ``incidents, triage_attended, s136, s136_emergency_department, s136_police_custody,
        ae_conveyance, ambulance_conveyance, referral`` (any onward referral),
        ``missing_person, arrest, admitted_72h``, and whole-minute sums ``officer_minutes,
        scene_minutes, hospital_wait_minutes``. Repeat-contact measures are episode-only.

    Notes
    -----
    Given the Poisson incident count, attended incidents are binomial with the coverage (in
    treated months), each outcome is binomial within the attended and unattended groups, places
    of safety are multinomial among s136 detentions, and minute totals are gamma draws matching
    the mean and variance of the sum of the episode-level lognormal minutes.
    """
    bb = build_backbone(config)
    draw = rng(config.seed, Stream.SERIES)
    incidents = draw.poisson(bb.expected)
    attended = draw.binomial(incidents, np.where(bb.treated, config.coverage, 0.0))
    totals = {"incidents": incidents, "triage_attended": attended}
    for group, n in ((0, incidents - attended), (1, attended)):
        for key, value in _group_totals(draw, bb.rates, group, n).items():
            totals[key] = totals.get(key, 0) + value
    frame = bb.frame()
    for key in SERIES_OUTCOMES:
        frame[key] = totals[key].ravel()
    return frame


def _group_totals(
    draw: np.random.Generator, r: Rates, group: int, n: np.ndarray
) -> dict[str, np.ndarray]:
    """Outcome totals among ``n`` incidents of one group (0 unattended, 1 attended)."""

    def p(param: np.ndarray) -> np.ndarray:
        return param[:, group][:, None]  # per force, broadcast over months

    s_ed, s_suite = r.place_shares[ED], r.place_shares[SUITE]
    s136 = draw.binomial(n, p(r.s136))
    to_ed = draw.binomial(s136, s_ed)
    to_suite = draw.binomial(s136 - to_ed, s_suite / (1 - s_ed) if s_ed < 1 else 0.0)
    # Other A&E conveyances happen among everyone not already taken to an ED under s136.
    ae_suite = draw.binomial(to_suite, p(r.other_ae))
    ae_rest = draw.binomial(n - to_ed - to_suite, p(r.other_ae))
    at_hospital = to_ed + to_suite + ae_rest
    waited = draw.binomial(at_hospital, r.p_wait)
    wait = _sum_of_lognormals(draw, waited, p(r.wait_mean), r.wait_sigma)
    scene = _sum_of_lognormals(draw, n, p(r.scene_mean), r.officer_sigma)
    return {
        "s136": s136,
        "s136_emergency_department": to_ed,
        "s136_police_custody": s136 - to_ed - to_suite,
        "ae_conveyance": to_ed + ae_suite + ae_rest,
        "ambulance_conveyance": draw.binomial(n, p(r.ambulance_conveyance)),
        "referral": draw.binomial(n, p(r.referral)),
        "missing_person": draw.binomial(n, p(r.missing_person)),
        "arrest": draw.binomial(n, p(r.arrest)),
        "admitted_72h": draw.binomial(s136, p(r.admitted_s136))
        + draw.binomial(n - s136, p(r.admitted_other)),
        "officer_minutes": scene + wait,
        "scene_minutes": scene,
        "hospital_wait_minutes": wait,
    }


def _sum_of_lognormals(
    draw: np.random.Generator, k: np.ndarray, mean: np.ndarray, sigma: float
) -> np.ndarray:
    """A gamma draw with the mean and variance of a sum of ``k`` lognormals, in whole minutes."""
    excess = np.expm1(sigma**2)  # variance / mean**2 of one lognormal
    shape = np.where(k > 0, k / excess, 1.0)
    scale = np.broadcast_to(mean * excess, k.shape)
    return np.where(k > 0, np.rint(draw.gamma(shape, scale)), 0.0)


def expected_outcomes(config: SimulationConfig) -> pd.DataFrame:
    """Expected totals per force × month, with and without triage's effects.

    The expectation is conditional on the backbone's latent incident rate, so it is the
    "truth" for that force-month: realised counts scatter around it only by sampling noise.

    Returns
    -------
    pandas.DataFrame
        ``force, period, population, treated``, then for each effect key (see
        :data:`~evaltk.simulate.effects.EFFECT_NAMES`) the expected total (count, or minutes
        summed over incidents) in column ``<key>`` and its counterfactual without triage in
        ``<key>_counterfactual``. Summed over treated force-months, ``<key>`` minus its
        counterfactual is the change triage caused (e.g. detentions averted, as a negative).
    """
    bb = build_backbone(config)
    share = np.where(bb.treated, config.coverage, 0.0)
    frame = bb.frame()
    for key in EFFECT_NAMES:
        per = bb.rates.per_incident[key]
        base, attended = per[:, :1], per[:, 1:]
        frame[key] = (bb.expected * ((1 - share) * base + share * attended)).ravel()
        frame[f"{key}_counterfactual"] = (bb.expected_counterfactual * base).ravel()
    return frame
