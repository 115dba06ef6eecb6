"""DiD power with the analysis's own models: replicates against TWFEModel, test by test.

Each test draws a few replicates of the power simulation, fits each with
:class:`~evaltk.estimators.did.TWFEModel` as the analysis does (the same inference options
and seed), and asserts the batched power code gives the same estimate and p-value.
Tolerances: estimates and standard errors to 1e-6 relative (statsmodels' IRLS stops on the
deviance, the batched Newton on the parameters); bootstrap and randomisation p-values exactly
(both count the same draws or assignments, so a difference would be a different test).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from evaltk.estimators.did import DiDSpec, InferenceSpec, TWFEModel
from evaltk.power.batch_poisson import fit_poisson_twfe
from evaltk.power.did import DiDPowerSettings, draw_counts, replicate_tests
from evaltk.power.did_report import did_power_analysis

FIRST = dt.date(2014, 1, 1)


def _settings(**changes: object) -> DiDPowerSettings:
    values: dict[str, object] = dict(
        outcome="s136",
        first_month=FIRST,
        months_before=24,
        months_after=12,
        units=((2, 3),),
        effects=(0.8, 1.0),
        baseline=60.0,
        population=900_000.0,
        replicates=12,
        seed=5,
    )
    values.update(changes)
    return DiDPowerSettings(**values)  # type: ignore[arg-type]


def _frame(counts: np.ndarray, d: np.ndarray, population: float) -> pd.DataFrame:
    n_units, n_months = d.shape
    months = pd.date_range(FIRST, periods=n_months, freq="MS")
    return pd.DataFrame(
        {
            "unit": np.repeat([f"f{u:02d}" for u in range(n_units)], n_months),
            "period": np.tile(months, n_units),
            "y": counts.ravel(),
            "rate": counts.ravel() / population * 1e5,
            "population": population,
            "treated": d.ravel(),
        }
    )


def _analysis_fit(
    settings: DiDPowerSettings, counts: np.ndarray, d: np.ndarray, method: str
) -> tuple[float, float, float]:
    frame = _frame(counts, d, settings.population)
    poisson = settings.family == "poisson"
    model = TWFEModel(
        frame,
        outcome="y" if poisson else "rate",
        unit="unit",
        period="period",
        treatment="treated",
        exposure="population" if poisson else None,
        spec=DiDSpec(family=settings.family),
    )
    spec = InferenceSpec(
        method=method,  # type: ignore[arg-type]
        draws=settings.draws,
        weights=settings.weights,
        permutations=settings.permutations,
        seed=settings.seed,
        ci=False,
        bootstrap_by=settings.bootstrap_by,
    )
    fit = model.fit(spec)
    return fit.estimate, fit.std_error, fit.p_value


def test_batched_poisson_twfe_is_the_analysis_poisson_fit() -> None:
    settings = _settings(family="poisson", inference="cluster")
    counts, d = draw_counts(settings, 2, 3, 0.8)
    fit = fit_poisson_twfe(counts, d)
    assert fit.converged.all()
    for r in range(4):
        ratio, se, p = _analysis_fit(settings, counts[r], d, "cluster")
        assert fit.estimate[r] == pytest.approx(np.log(ratio), rel=1e-6)
        assert fit.std_error[r] == pytest.approx(se, rel=1e-6)
        assert fit.p_value[r] == pytest.approx(p, rel=1e-5, abs=1e-9)


@pytest.mark.parametrize(
    ("family", "units", "bootstrap_by"),
    [
        ("poisson", (2, 3), "auto"),  # 5 forces: Webb weights by force x calendar year
        ("linear", (2, 3), "auto"),
        ("poisson", (3, 9), "auto"),  # 12 forces: every Rademacher pattern is not drawn
        ("linear", (4, 6), "unit"),  # 10 forces by force: 6**10 > 9,999, Webb draws
    ],
)
def test_wild_bootstrap_p_values_are_the_analysis_ones(
    family: str, units: tuple[int, int], bootstrap_by: str
) -> None:
    settings = _settings(
        family=family, inference="auto", bootstrap_by=bootstrap_by, units=(units,), draws=999
    )
    counts, d = draw_counts(settings, *units, 0.85)
    _, p = replicate_tests(settings, counts[:3], d)
    for r in range(3):
        assert p[r] == _analysis_fit(settings, counts[r], d, "wild_bootstrap")[2]


@pytest.mark.parametrize("family", ["poisson", "linear"])
def test_randomization_p_values_are_the_analysis_ones(family: str) -> None:
    settings = _settings(family=family, inference="randomization", units=((2, 4),))
    counts, d = draw_counts(settings, 2, 4, 0.8)
    _, p = replicate_tests(settings, counts[:3], d)
    for r in range(3):
        assert p[r] == pytest.approx(_analysis_fit(settings, counts[r], d, "randomization")[2])


def test_auto_wild_bootstrap_keeps_its_size_with_twelve_forces() -> None:
    """Poisson TWFE with the score bootstrap (a did protocol's default: auto, 12 forces, so
    weights by force): at no change it rejects within three Monte Carlo SEs of 5 % in 400
    replicates (at most 0.083), and a 25 % fall in 3 of 12 forces is found most of the time.
    With 8 forces the same test rejected a true null in 8.8 % of 400 replicates: the power
    report's no-change warning says so when it happens."""
    settings = _settings(
        family="poisson",
        inference="auto",
        units=((3, 9),),
        effects=(0.75, 1.0),
        replicates=400,
        draws=999,
    )
    cells = {c.effect: c for c in did_power_analysis(settings, workers=1).cells}
    assert cells[1.0].power <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 400)
    assert cells[0.75].power > 0.6


@pytest.mark.parametrize(
    ("family", "method"),
    [
        ("poisson", "cluster"),
        ("linear", "cluster"),
        ("poisson", "wild_bootstrap"),
        ("linear", "wild_bootstrap"),
        ("poisson", "randomization"),
        ("linear", "randomization"),
    ],
)
def test_event_study_headline_is_the_analysis_one(family: str, method: str) -> None:
    """The mean of the post-adoption bins (4 leads, 6 lags of 3 months), tested as
    EventStudyModel tests it: estimates and cluster SEs to 1e-6, p-values of the cluster
    test to 1e-5 relative, of the bootstrap and randomisation tests exactly."""
    from evaltk.estimators.did import EventStudyModel, EventStudySpec

    settings = _settings(
        family=family,
        inference=method,
        units=((2, 4),),
        months_after=24,
        event_study=(4, 6, 3),
        draws=999,
    )
    counts, d = draw_counts(settings, 2, 4, 0.85)
    estimate, p = replicate_tests(settings, counts[:3], d)
    poisson = family == "poisson"
    for r in range(3):
        frame = _frame(counts[r], d, settings.population)
        fit = EventStudyModel(
            frame,
            outcome="y" if poisson else "rate",
            unit="unit",
            period="period",
            treatment="treated",
            exposure="population" if poisson else None,
            spec=EventStudySpec(family=family, leads=4, lags=6, width=3),  # type: ignore[arg-type]
        ).fit(
            InferenceSpec(
                method=method,  # type: ignore[arg-type]
                draws=999,
                permutations=settings.permutations,
                seed=settings.seed,
                ci=False,
            )
        )
        expected = np.log(fit.estimate) if poisson else fit.estimate
        assert estimate[r] == pytest.approx(expected, rel=1e-6)
        if method == "cluster":
            assert p[r] == pytest.approx(fit.p_value, rel=1e-5, abs=1e-9)
        else:
            assert p[r] == pytest.approx(fit.p_value, rel=1e-12)
