"""The force × month backbone: population, treatment and the expected number of incidents.

Both the episode generator and the fast series path draw from this same backbone, so for one
config and seed they share the latent incident rates and the treatment timetable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaltk.simulate.config import SimulationConfig
from evaltk.simulate.forces import FORCES_BY_CODE, force_number, population
from evaltk.simulate.intervention import start_months
from evaltk.simulate.randomness import Stream, rng
from evaltk.simulate.rates import Rates, solve_rates


@dataclass(frozen=True)
class Backbone:
    """Arrays of shape ``(n_forces, n_months)`` unless noted; forces in config order."""

    forces: tuple[str, ...]
    periods: np.ndarray  # (n_months,) datetime64[M]
    starts: np.ndarray  # (n_forces,) datetime64[M], NaT when never treated
    population: np.ndarray
    treated: np.ndarray
    expected_counterfactual: np.ndarray  # incidents expected without any effect of triage
    expected: np.ndarray  # incidents expected, with the volume effect in treated months
    rates: Rates

    def frame(self) -> pd.DataFrame:
        """``force, period, population, treated``: one row per force × month, forces first."""
        n_forces, n_months = self.expected.shape
        return pd.DataFrame(
            {
                "force": np.repeat(self.forces, n_months),
                "period": np.tile(self.periods.astype("datetime64[ns]"), n_forces),
                "population": self.population.ravel(),
                "treated": self.treated.ravel(),
            }
        )


def build_backbone(config: SimulationConfig) -> Backbone:
    """Draw the latent monthly incident rates and lay out the treatment timetable.

    Notes
    -----
    For force :math:`f` in month :math:`t` (counted from ``first_month``),

    .. math::

        \\lambda_{ft} = \\frac{P_{f,y(t)}}{10^5}\\, r\\, s\\, u_f\\, (1+g)^{t/12}
        \\bigl(1 + a\\cos(2\\pi (m(t) - m^*)/12)\\bigr)\\, e^{x_{ft} - \\sigma^2/2}\\, G_{ft}
        \\, R^{D_{ft}}

    with population :math:`P`, base rate :math:`r`, scale :math:`s`, a mean-one force multiplier
    :math:`u_f`, trend :math:`g`, seasonal amplitude :math:`a` peaking in calendar month
    :math:`m^*`, stationary AR(1) noise :math:`x_{ft} = \\rho x_{f,t-1} + \\epsilon_{ft}` with
    marginal sd :math:`\\sigma`, a mean-one gamma multiplier :math:`G_{ft}`, and the volume effect
    :math:`R` in treated months (:math:`D_{ft} = 1` from the start month, inclusive). Counts are
    Poisson given :math:`\\lambda_{ft}`.
    """
    rates = solve_rates(config)
    periods = config.periods
    n_months = len(periods)
    years = periods.astype("datetime64[Y]").astype(np.int64) + 1970
    calendar_month = periods.astype(np.int64) % 12 + 1
    trend = (1.0 + config.trend) ** (np.arange(n_months) / 12.0)
    season = 1.0 + config.seasonal_amplitude * np.cos(
        2 * np.pi * (calendar_month - config.seasonal_peak_month) / 12.0
    )
    base = config.base_rate * config.scale / 1e5 * trend * season

    starts_by_force = start_months(config)
    starts = np.array([starts_by_force[f] for f in config.forces], dtype="datetime64[M]")
    pop = np.stack([population(f, years, config.population_growth) for f in config.forces])
    noise = np.stack([_noise(config, f, n_months) for f in config.forces])
    expected_cf = pop * base * rates.incident_multiplier[:, None] * noise
    # NaT compares False, so never-treated forces are untreated in every month.
    treated = periods[None, :] >= starts[:, None]
    expected = np.where(treated, expected_cf * config.effect("incidents"), expected_cf)
    return Backbone(
        forces=config.forces,
        periods=periods,
        starts=starts,
        population=pop,
        treated=treated,
        expected_counterfactual=expected_cf,
        expected=expected,
        rates=rates,
    )


def _noise(config: SimulationConfig, force: str, n_months: int) -> np.ndarray:
    """Mean-one AR(1) log-normal noise times a mean-one gamma multiplier for one force."""
    draw = rng(config.seed, Stream.BACKBONE, force_number(force))
    rho, sd = config.ar_rho, config.ar_sd
    shocks = draw.standard_normal(n_months)
    x = np.empty(n_months)
    x[0] = sd * shocks[0]  # start from the stationary distribution
    innovation_sd = sd * np.sqrt(1 - rho**2)
    for t in range(1, n_months):
        x[t] = rho * x[t - 1] + innovation_sd * shocks[t]
    cv = config.overdispersion_cv
    gamma = draw.gamma(1 / cv**2, cv**2, n_months) if cv > 0 else np.ones(n_months)
    return np.exp(x - sd**2 / 2) * gamma


def simulate_force_months(config: SimulationConfig) -> pd.DataFrame:
    """One row per force × month: the backbone every simulated dataset is drawn from.

    Parameters
    ----------
    config
        The simulation settings.

    Returns
    -------
    pandas.DataFrame
        Columns ``force`` (ONS code), ``force_name``, ``period`` (month start), ``year``,
        ``population`` (mid-year, as in ``population.csv``), ``start`` (first treated month,
        NaT if never), ``treated`` (INCLUSIVE of the start month), ``event_time`` (months since
        the start; missing if never treated), ``coverage`` (expected share of incidents the
        nurse attends), ``expected_incidents_counterfactual`` and ``expected_incidents`` (the
        Poisson means of the incident count without and with triage's effect on volume).
    """
    bb = build_backbone(config)
    n_months = len(bb.periods)
    never = np.isnat(bb.starts)
    event_time = bb.periods.astype(np.int64)[None, :] - bb.starts.astype(np.int64)[:, None]
    frame = bb.frame()
    frame.insert(1, "force_name", np.repeat([FORCES_BY_CODE[f].name for f in bb.forces], n_months))
    frame.insert(3, "year", frame["period"].dt.year.astype("int64"))
    frame.insert(5, "start", np.repeat(bb.starts.astype("datetime64[ns]"), n_months))
    frame["event_time"] = pd.arrays.IntegerArray(
        np.where(never[:, None], 0, event_time).ravel(), np.repeat(never, n_months)
    )
    frame["coverage"] = np.where(bb.treated, config.coverage, 0.0).ravel()
    frame["expected_incidents_counterfactual"] = bb.expected_counterfactual.ravel()
    frame["expected_incidents"] = bb.expected.ravel()
    return frame
