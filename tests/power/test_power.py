"""Power: matches a closed form, the same table on every backend, the CLI writes its files."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaltk.power import ITSPowerSettings, its_settings, power_analysis
from evaltk.power.report import PowerCell, minimum_detectable
from evaltk.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]
EVALTK = Path(sys.executable).parent / "evaltk"
ALPHA = 0.05


def _two_period(replicates: int, **changes: object) -> ITSPowerSettings:
    """Poisson counts, no trend, season or extra noise; before-after rate comparison."""
    values: dict[str, object] = dict(
        outcome="y",
        first_month=dt.date(2015, 1, 1),
        months_before=12,
        months_after=(12,),
        registered_months_after=12,
        effects=(0.8, 0.85, 0.9),
        baseline=20.0,
        trend=0.0,
        seasonal_amplitude=0.0,
        ar_sd=0.0,
        overdispersion_cv=0.0,
        family="poisson",
        seasonality="none",
        trend_term=False,
        alpha=ALPHA,
        replicates=replicates,
        seed=7,
    )
    values.update(changes)
    return ITSPowerSettings(**values)  # type: ignore[arg-type]


def exact_wald_power(rate: float, months: int, ratio: float, alpha: float) -> float:
    """P(two-sided Wald test of log(Y1/Y0) rejects), summed over the Poisson distribution.

    Y0 ~ Poisson(months * rate), Y1 ~ Poisson(months * rate * ratio); the Poisson GLM of a
    before-after design estimates log(Y1/Y0) with variance 1/Y0 + 1/Y1 (zero counts: no test).
    """
    m0, m1 = months * rate, months * rate * ratio
    y0 = np.arange(max(1, int(m0 - 10 * np.sqrt(m0))), int(m0 + 10 * np.sqrt(m0)))
    y1 = np.arange(max(1, int(m1 - 10 * np.sqrt(m1))), int(m1 + 10 * np.sqrt(m1)))
    a, b = np.meshgrid(y0, y1, indexing="ij")
    z = np.log(b / a) / np.sqrt(1 / a + 1 / b)
    reject = np.abs(z) > stats.norm.ppf(1 - alpha / 2)
    weight = stats.poisson.pmf(y0, m0)[:, None] * stats.poisson.pmf(y1, m1)[None, :]
    return float(np.sum(weight * reject))


def test_two_period_poisson_power_matches_the_closed_form() -> None:
    settings = _two_period(replicates=4000)
    report = power_analysis(settings, workers=1)
    for cell in report.cells:
        exact = exact_wald_power(20.0, 12, cell.effect, ALPHA)
        # Tolerance: 4 Monte Carlo standard errors (about 0.03 here); nothing else differs.
        assert abs(cell.power - exact) < 4 * np.sqrt(exact * (1 - exact) / cell.replicates)
        # The textbook normal approximation agrees too (within 0.02 at these counts).
        se = np.sqrt(1 / (12 * 20.0) + 1 / (12 * 20.0 * cell.effect))
        z = abs(np.log(cell.effect)) / se
        crit = stats.norm.ppf(1 - ALPHA / 2)
        approx = stats.norm.cdf(z - crit) + stats.norm.cdf(-z - crit)
        assert abs(approx - exact) < 0.02
        assert cell.failed == 0


def test_no_effect_rejects_at_about_alpha() -> None:
    report = power_analysis(_two_period(replicates=4000, effects=(1.0,)), workers=1)
    (cell,) = report.cells
    assert abs(cell.power - ALPHA) < 4 * np.sqrt(ALPHA * (1 - ALPHA) / 4000)


def test_dask_local_cluster_gives_the_joblib_table() -> None:
    from distributed import LocalCluster

    settings = _two_period(
        replicates=200,
        effects=(0.8, 0.9),
        months_after=(6, 12),
        trend_term=True,
        family="quasi_poisson",
        ar_sd=0.06,
        overdispersion_cv=0.04,
    )
    local = power_analysis(settings, workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False) as cluster:
        remote = power_analysis(settings, scheduler=cluster.scheduler_address)
    assert remote.to_json() == local.to_json()
    assert power_analysis(settings, workers=1).to_json() == local.to_json()


def test_minimum_detectable_effect_interpolates_on_the_log_scale() -> None:
    cells = [
        PowerCell(
            effect=e,
            months_before=12,
            months_after=12,
            replicates=100,
            rejections=0,
            failed=0,
            power=p,
            mc_se=0.0,
            mean_estimate=None,
        )
        for e, p in ((1.0, 0.05), (0.9, 0.5), (0.8, 0.9), (0.7, 1.0))
    ]
    (mde,) = minimum_detectable(cells, 0.8)
    expected = np.exp(-(np.log(1 / 0.9) + 0.75 * (np.log(1 / 0.8) - np.log(1 / 0.9))))
    assert mde.how == "interpolated" and mde.effect == pytest.approx(expected, abs=1e-4)
    (none,) = minimum_detectable(cells[:2], 0.8)
    assert none.effect is None and none.how == "beyond_grid"


def _example_copy(folder: Path, extra: str = "") -> Path:
    """The street-triage example's analysis.yaml in ``folder`` (its data paths then point
    into ``folder``, where there are no data unless a test writes them)."""
    example = ROOT / "analyses" / "example-street-triage"
    text = (example / "analysis.yaml").read_text(encoding="utf-8")
    text = text.replace("../../protocols/", f"{ROOT / 'protocols'}/") + extra
    (folder / "analysis.yaml").write_text(text, encoding="utf-8")
    return folder


def test_settings_follow_the_registered_design(tmp_path: Path) -> None:
    settings = its_settings(load_protocol(_example_copy(tmp_path)))
    assert settings.months_before == 27 and settings.registered_months_after == 45
    assert settings.months_after == (12, 24, 36, 45)
    assert 1.0 in settings.effects and 0.9 in settings.effects
    assert settings.exposure == "population" and settings.baseline > 10
    # No data in the folder: the simulator's real-world volume, and it says so.
    assert settings.baseline_source.startswith("simulator: real-world volume of 's136'")
    # The template's model (auto) and its GLM fallback errors (model-based: ar1 and hac off)
    # are simulated as such.
    assert settings.model == "auto" and not settings.ar1 and not settings.hac


def test_baseline_comes_from_the_analysis_pre_period_data_when_it_exists(tmp_path: Path) -> None:
    from evaltk.simulate import SimulationConfig, write_dataset

    folder = _example_copy(tmp_path)
    write_dataset(SimulationConfig.preset("small", seed=4), folder / "data")
    settings = its_settings(load_protocol(folder))
    months = pd.read_parquet(folder / "data" / "episodes.parquet", columns=["timestamp", "s136"])
    first_year = months[(months["timestamp"] < "2015-01-01") & months["s136"]]
    # The mean of the first 12 months before the start (2014), counted from the rows.
    assert settings.baseline == pytest.approx(len(first_year) / 12, rel=1e-12)
    assert settings.baseline_source == (
        "the analysis's own data (data/episodes.parquet): mean of 's136_rate' in 12 months "
        "before the start, 2014-01 to 2014-12"
    )
    population = pd.read_csv(folder / "data" / "population.csv")
    assert settings.population == pytest.approx(
        float(population.loc[population["year"] == 2014, "population"].iloc[0]), rel=1e-9
    )


def test_cli_writes_table_figure_and_json(tmp_path: Path) -> None:
    out = tmp_path / "power"
    done = subprocess.run(
        [
            str(EVALTK),
            "power",
            str(ROOT / "analyses" / "example-street-triage"),
            "--replicates",
            "40",
            "--workers",
            "1",
            "--effects",
            "1,0.8",
            "--months-after",
            "12,45",
            "--baseline",
            "60",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "minimum detectable effect at 80% power, 45 months after" in done.stdout
    report = json.loads((out / "power.json").read_text())
    assert [(c["effect"], c["months_after"]) for c in report["cells"]] == [
        (0.8, 12),
        (1.0, 12),
        (0.8, 45),
        (1.0, 45),
    ]
    assert report["settings"]["baseline"] == 60 and report["settings"]["replicates"] == 40
    assert (out / "power.png").read_bytes()[:4] == b"\x89PNG" and (out / "power.csv").is_file()


def test_gls_model_is_simulated_as_gls(tmp_path: Path) -> None:
    extra = "design:\n  kind: its\n  its:\n    model: gls\n    ar1: false\n"
    settings = its_settings(load_protocol(_example_copy(tmp_path, extra)))
    assert settings.model == "gls" and not settings.ar1
    report = power_analysis(
        settings.model_copy(update={"replicates": 10, "months_after": (45,), "effects": (1.0,)}),
        workers=1,
    )
    assert report.estimator.startswith("segmented regression of the log rate by GLS")
    assert report.cells[0].gls_fits == 10
    assert "GLS fitted 10 of the 10 replicates." in report.notes


def test_a_no_change_row_above_its_monte_carlo_band_is_flagged() -> None:
    from evaltk.power.report import size_band, size_warnings

    # 500 replicates at alpha 0.05: SE 0.00975, band 0.05 + 2.576 x SE = 0.0751.
    assert size_band(0.05, 500) == pytest.approx(0.0751, abs=5e-5)

    def cell(effect: float, months: int, rejections: int) -> PowerCell:
        p = rejections / 500
        return PowerCell(
            effect=effect,
            months_before=27,
            months_after=months,
            replicates=500,
            rejections=rejections,
            failed=0,
            power=p,
            mc_se=float(np.sqrt(p * (1 - p) / 500)),
            mean_estimate=None,
        )

    # 37/500 = 7.4 % is inside the band; 38/500 = 7.6 % and 11 % are above; a real effect's
    # row is never a size warning.
    cells = [cell(1.0, 12, 37), cell(1.0, 24, 38), cell(1.0, 45, 55), cell(0.8, 45, 400)]
    warnings = size_warnings(cells, 0.05)
    assert warnings == [
        "no change, 24 months after: the test rejected a true null in 7.6% of 500 replicates, "
        "above the 7.5% that Monte Carlo error explains at alpha 0.05; its p-values are too "
        "small and its power overstated (consider model: auto or gls)",
        "no change, 45 months after: the test rejected a true null in 11.0% of 500 replicates, "
        "above the 7.5% that Monte Carlo error explains at alpha 0.05; its p-values are too "
        "small and its power overstated (consider model: auto or gls)",
    ]


def test_cli_warns_when_the_registered_test_over_rejects(tmp_path: Path) -> None:
    # The GLM with AR(1) errors at ten times the example's volume rejects a true null about
    # 12 % of the time on the simulator (book: Validation, Template defaults).
    extra = "design:\n  kind: its\n  its:\n    model: glm\n    ar1: true\n"
    folder = _example_copy(tmp_path, extra)
    done = subprocess.run(
        [
            str(EVALTK),
            "power",
            str(folder),
            "--replicates",
            "400",
            "--workers",
            "1",
            "--effects",
            "1",
            "--months-after",
            "45",
            "--baseline",
            "200",
            "--out",
            str(tmp_path / "power"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "power" / "power.json").read_text())
    (row,) = report["cells"]
    assert row["power"] > 0.05 + 2.576 * np.sqrt(0.05 * 0.95 / 400)
    assert report["warnings"] and report["warnings"][0].startswith("no change, 45 months after")
    assert "warning: no change, 45 months after: the test rejected a true null" in done.stderr
