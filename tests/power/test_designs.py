"""Power of every design: each simulated replicate is fitted as the analysis fits it
(staggered C&S weights against PermutedEstimates, the CITS fits against CITSModel), and
`evaltk power` dispatches on design.kind."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltk.estimators.did import CITSModel, CITSSpec
from evaltk.estimators.staggered.permuted import AggregateRequest, PermutedEstimates
from evaltk.power.cits import CITSPowerSettings, _streams
from evaltk.power.design_report import design_power_analysis
from evaltk.power.design_settings import design_settings
from evaltk.power.generate import calendar, draw_counts, exposure
from evaltk.power.report import size_band
from evaltk.power.staggered import (
    StaggeredPowerSettings,
    _period_starts,
    _wide,
    binned,
    draw_rates,
    headline_weights,
    simulate_staggered_cell,
)
from evaltk.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]


def _staggered(**changes: object) -> StaggeredPowerSettings:
    values: dict[str, object] = dict(
        outcome="s136_rate",
        first_month=dt.date(2014, 1, 1),
        n_months=72,
        starts=(45, None, 27, 36, None),
        effects=(0.8, 1.0),
        baseline=70.0,
        replicates=200,
        seed=4,
    )
    values.update(changes)
    return StaggeredPowerSettings(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("period_bin", "control_group", "never"),
    [
        ("month", "not_yet_treated", 2),
        ("quarter", "not_yet_treated", 2),
        ("month", "never_treated", 5),
    ],
)
def test_staggered_weights_are_the_estimator(
    period_bin: str, control_group: str, never: int
) -> None:
    """sum(W * y) is CallawaySantAnna's simple aggregate (through PermutedEstimates, which is
    tested bit for bit against a refit) for the observed and a permuted assignment."""
    starts = (45, None, 27, 36, *([None] * (never - 1)))
    settings = _staggered(
        period_bin=period_bin, control_group=control_group, starts=starts, replicates=10
    )
    values = binned(draw_rates(settings, 0.8), period_bin)
    _, n_units, n_periods = values.shape
    wide = _wide(settings, n_periods)
    spec = settings.spec()
    observed = _period_starts(settings)
    frame = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n_units), n_periods),
            "t": np.tile(np.arange(1, n_periods + 1), n_units),
            "g": np.repeat(np.where(np.isfinite(observed), observed, 0), n_periods),
            "value": values[1].ravel(),
        }
    )
    estimates = PermutedEstimates(frame, "value", spec)
    for cohort in (observed, observed[[2, 1, 3, 0, *range(4, len(observed))]]):
        weights = headline_weights(wide, spec, cohort)
        expected = estimates.aggregates(cohort, [AggregateRequest("simple")])[0].overall
        assert float(np.sum(weights * values[1])) == pytest.approx(expected, rel=1e-10)


def test_staggered_test_keeps_its_size_and_finds_effects() -> None:
    """400 replicates: a true null rejected at most at alpha + 2.576 MC SE (the exact test's
    size is 3/60 = 0.05 with these 60 assignments); a 20 % fall found far more often."""
    settings = _staggered(replicates=400)
    null = simulate_staggered_cell(settings, 1.0)
    fall = simulate_staggered_cell(settings, 0.8)
    assert null.power <= size_band(0.05, 400)
    assert fall.power > null.power + 0.3
    assert fall.mean_estimate == pytest.approx(0.8, abs=0.05)


def _cits(model: str, **changes: object) -> CITSPowerSettings:
    values: dict[str, object] = dict(
        outcome="x",
        first_month=dt.date(2014, 1, 1),
        months_before=27,
        washout_months=3,
        months_after=(42,),
        registered_months_after=42,
        effects=(0.9, 1.0),
        baseline=80.0,
        comparison_baseline=150.0,
        exposure="population",
        population=1.1e6,
        comparison_population=1.9e6,
        model=model,
        replicates=10,
        seed=2,
    )
    values.update(changes)
    return CITSPowerSettings(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("model", ["glm", "gls"])
def test_cits_replicates_are_cits_model_fits(model: str) -> None:
    """Every replicate's level-change p-value is CITSModel's on the same two series."""
    from evaltk.power import cits as power_cits

    settings = _cits(model)
    months_after = 42
    comparison = settings.comparison()
    treated = draw_counts(settings, months_after, 0.9, *_streams(settings, months_after, (1, 2)))
    control = draw_counts(comparison, months_after, 1.0, *_streams(settings, months_after, (3, 4)))
    months = calendar(settings, months_after)
    periods = pd.DatetimeIndex(months.astype("datetime64[ns]"))
    keep = np.ones(len(months), dtype=bool)
    keep[27:30] = False
    # The cell's estimates and p-values (simulate_cits_cell's steps), replicate by replicate.
    x, names = power_cits.joint_design(settings, months_after)
    y = np.hstack([control[:, keep], treated[:, keep]])
    offset = np.log(
        np.r_[exposure(comparison, len(months))[keep], exposure(settings, len(months))[keep]]
    )
    fit = power_cits.fit_poisson(y, x, offset, quasi=True)
    estimates, _, p = fit.wald(names.index("treated_level"))
    if model == "gls":
        estimates, p = power_cits._gls_tests(settings, y, x, fit.params, offset, keep, False)
    for r in range(4):
        frame = pd.concat(
            [
                pd.DataFrame(
                    {
                        "series": label,
                        "period": periods[keep],
                        "y": counts[r, keep],
                        "exposure": exposure(s, len(months))[keep],
                    }
                )
                for label, counts, s in (
                    ("treated", treated, settings),
                    ("comparison", control, comparison),
                )
            ],
            ignore_index=True,
        )
        result = CITSModel(
            frame,
            treated="treated",
            start=periods[27],
            exposure="exposure",
            spec=CITSSpec(family="quasi_poisson", model=model),
        ).fit()
        assert estimates[r] == pytest.approx(np.log(result.estimate), rel=1e-4, abs=1e-6)
        assert p[r] == pytest.approx(result.p_value, rel=1e-3, abs=1e-5)


def test_evaltk_power_dispatches_on_the_design(tmp_path: Path) -> None:
    """The staggered and CITS examples get their own design's grid and report."""
    staggered = load_protocol(ROOT / "analyses" / "example-control-room-staggered")
    settings = design_settings(staggered, replicates=40, effects=(0.8, 1.0))
    assert isinstance(settings, StaggeredPowerSettings)
    assert settings.starts == (36, 27, None, 21, None) and settings.period_bin == "quarter"
    report = design_power_analysis(settings, "staggered_did", workers=1)
    assert report.design == "staggered_did" and len(report.cells) == 2
    assert "randomisation test" in report.estimator
    assert list(report.table().columns) == ["3 treated + 2 comparison"]

    cits = load_protocol(ROOT / "analyses" / "example-right-care-right-person")
    settings = design_settings(
        cits, replicates=10, effects=(0.9,), months_after=(42,), baseline=900.0
    )
    assert isinstance(settings, CITSPowerSettings) and settings.model == "gls"
    report = design_power_analysis(settings, "cits", workers=1)
    assert report.design == "cits" and report.cells[0].gls_fits == 10
    assert list(report.table().columns) == [42]


def _did_analysis(folder: Path, kind: str, second_start: str) -> Path:
    folder.mkdir()
    template = ROOT / "protocols" / "control-room-nurses-staggered.yaml"
    (folder / "analysis.yaml").write_text(
        f"""protocol: {template}
title: "A DiD"
design:
  kind: {kind}
intervention:
  start:
    E23000021: 2016-04-01
    E23000019: {second_start}
units: [E23000018, E23000019, E23000020, E23000021, E23000022]
data:
  kind: episodes
  path: data/episodes.parquet
  population: data/population.csv
window:
  start: 2014-01-01
  end: 2019-12-31
""",
        encoding="utf-8",
    )
    return folder


@pytest.mark.parametrize("kind", ["did", "event_study"])
def test_did_designs_use_the_registered_forces(tmp_path: Path, kind: str) -> None:
    from evaltk.errors import PowerError
    from evaltk.power.did import DiDPowerSettings

    loaded = load_protocol(_did_analysis(tmp_path / "a", kind, "2016-04-01"))
    settings = design_settings(loaded, replicates=20, effects=(0.8, 1.0))
    assert isinstance(settings, DiDPowerSettings)
    assert settings.units == ((2, 3),) and settings.months_before == 27
    # What the analysis fits: Poisson TWFE, and auto with 5 forces is the wild bootstrap.
    assert settings.family == "poisson" and settings.inference == "auto"
    assert settings.method(5)[0] == "wild_bootstrap"
    report = design_power_analysis(settings, kind, workers=1)
    assert report.design == kind and len(report.cells) == 2
    assert "Poisson two-way fixed effects" in report.estimator
    if kind == "event_study":  # the analysis's headline: the mean of the post-adoption bins
        assert settings.event_study == (4, 6, 3)
        assert "the headline the mean of the post-adoption bins" in report.estimator
    else:
        assert settings.event_study is None and "TWFEModel" in report.estimator
    # 5 forces x 6 calendar years = 30 subclusters: 2**30 Rademacher patterns, 9,999 drawn.
    assert "score bootstrap, Rademacher weights, 9,999 draws, weights by unit × calendar year" in (
        report.estimator
    )
    with pytest.raises(PowerError, match="2 different start dates"):
        design_settings(load_protocol(_did_analysis(tmp_path / "b", kind, "2017-01-01")))
