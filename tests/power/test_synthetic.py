"""Synthetic-control power: replicates are the analysis's fit and placebo test, the p-value's
floor is stated and binds, a null cell keeps its size, and `evaltk power` runs the template."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltk.errors import PowerError
from evaltk.estimators.synthetic import synthetic_data
from evaltk.estimators.synthetic.adh import fit_sc
from evaltk.estimators.synthetic.inference import placebo_in_space
from evaltk.power.design_report import design_power_analysis
from evaltk.power.design_settings import design_settings
from evaltk.power.synthetic import SyntheticPowerSettings, draw_units, placebo_tests
from evaltk.protocol import load_protocol
from evaltk.publish.preregistration import power_context

ROOT = Path(__file__).resolve().parents[2]
EVALTK = Path(sys.executable).parent / "evaltk"
TEMPLATE = ROOT / "protocols" / "street-triage-synthetic-control.yaml"


def _settings(n_donors: int, **changes: object) -> SyntheticPowerSettings:
    rng = np.random.default_rng(1)
    values: dict[str, object] = dict(
        outcome="s136_rate",
        first_month=dt.date(2014, 1, 1),
        months_before=24,
        months_after=(12,),
        registered_months_after=12,
        effects=(0.8, 1.0),
        treated="T",
        donors=tuple(f"d{i:02d}" for i in range(n_donors)),
        baseline=80.0,
        population=1_100_000.0,
        donor_baselines=tuple(rng.uniform(30, 200, n_donors)),
        donor_populations=tuple(rng.uniform(5e5, 3e6, n_donors)),
        replicates=20,
        seed=11,
    )
    values.update(changes)
    return SyntheticPowerSettings(**values)  # type: ignore[arg-type]


def test_replicates_are_the_analysis_synthetic_control_and_placebo_test() -> None:
    """Estimates to 1e-12 and p-values exactly: the same solver on the same columns."""
    settings = _settings(9)
    y = draw_units(settings, 12, 0.8)
    estimates, p = placebo_tests(y, settings.months_before)
    periods = pd.date_range("2014-01-01", periods=y.shape[2], freq="MS")
    units = [*settings.donors, settings.treated]
    for r in range(4):
        long = pd.DataFrame(
            {
                "unit": np.repeat(units, len(periods)),
                "period": np.tile(periods, len(units)),
                "value": y[r].ravel(),
            }
        )
        data = synthetic_data(
            long,
            treated="T",
            start=periods[settings.months_before],
            donors=list(settings.donors),
            outcome="value",
        )
        space = placebo_in_space(data, fit_sc, fit_sc(data))
        assert estimates[r] == pytest.approx(space.estimates[0], rel=1e-12, abs=1e-12)
        assert p[r] == space.p_value


def test_a_null_cell_keeps_the_exact_size_when_forces_are_exchangeable() -> None:
    """24 donors and the treated force alike (same volume and population): the rank test
    rejects (p = 1/25 < 0.05) in 4 % of null datasets; 400 replicates put the rate within
    three Monte Carlo SEs (0.0106 to 0.0694)."""
    settings = _settings(
        24,
        donor_baselines=(80.0,) * 24,
        donor_populations=(1_100_000.0,) * 24,
        effects=(1.0,),
        replicates=400,
    )
    (cell,) = design_power_analysis(settings, "synthetic_control", workers=1).cells
    half = 3 * np.sqrt(0.04 * 0.96 / 400)
    assert 0.04 - half <= cell.power <= 0.04 + half


def test_too_few_donors_can_detect_nothing_and_the_report_says_why() -> None:
    settings = _settings(10, effects=(0.5, 1.0))
    report = design_power_analysis(settings, "synthetic_control", workers=1)
    assert [c.power for c in report.cells] == [0.0, 0.0]  # p >= 1/11 > 0.05, even at -50 %
    assert "can never be below 1/11 = 0.091" in report.notes[0]
    assert "no effect of any size can be detected" in report.notes[0]
    assert report.minimum_detectable[0].how == "beyond_grid"


def test_template_settings_and_what_is_refused(tmp_path: Path) -> None:
    settings = design_settings(load_protocol(TEMPLATE), replicates=10)
    assert isinstance(settings, SyntheticPowerSettings)
    assert settings.treated == "E23000019" and len(settings.donors) == 41
    assert settings.months_before == 27 and settings.registered_months_after == 45
    assert settings.rates and settings.smallest_p == pytest.approx(1 / 42)
    for change, message in (
        ("  synthetic:\n    predictors: [{outcome: s136_rate, start: 2014-01-01, end: "
         "2014-12-01}]\n", "predictor-weighted synthetic control is not simulated"),
        ("  kind: synthetic_did\n", "power is simulated for synthetic_control only"),
    ):  # fmt: skip
        folder = tmp_path / message[:8].replace(" ", "_")
        folder.mkdir()
        (folder / "analysis.yaml").write_text(
            f"protocol: {TEMPLATE}\ndesign:\n{change}", encoding="utf-8"
        )
        with pytest.raises(PowerError, match=message):
            design_settings(load_protocol(folder))


def test_cli_powers_the_synthetic_example_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "p"
    done = subprocess.run(
        [
            str(EVALTK),
            "power",
            str(ROOT / "analyses" / "example-street-triage-synthetic"),
            "--effects",
            "0.7,1",
            "--months-after",
            "12",
            "--replicates",
            "10",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "can never be below 1/42 = 0.024" in done.stdout
    assert "minimum detectable effect at 80% power, 12 months after" in done.stdout
    report = json.loads((out / "power.json").read_text())
    assert report["design"] == "synthetic_control" and len(report["cells"]) == 2
    assert (out / "power.png").stat().st_size > 0
    from evaltk.power.report import PowerReport

    page = power_context(PowerReport.model_validate(report), out, [])
    assert page is not None and page["headers"] == ["12 months after"]
    assert "can never be below 1/42 = 0.024" in page["estimator"]  # shown on the page


def test_the_template_null_cell_rejects_at_about_its_nominal_rate() -> None:
    """Nottinghamshire against 41 donors, no change, 12 months after, 1,000 replicates at the
    protocol's seed: the rank test rejects (rank 1 or 2 of 42, p < 0.05) at 2/42 = 4.76 % if
    Nottinghamshire behaves like any donor; measured 4.0 %, asserted within three Monte Carlo
    SEs (2.7 % to 6.8 %). The rank test is exact only for a unit exchangeable with its donors,
    so this is the check that the template's force and pool are close to that."""
    settings = design_settings(
        load_protocol(TEMPLATE), replicates=1000, effects=(1.0,), months_after=(12,)
    )
    (cell,) = design_power_analysis(settings, "synthetic_control", workers=1).cells
    nominal = 2 / 42
    half = 3 * np.sqrt(nominal * (1 - nominal) / 1000)
    assert nominal - half <= cell.power <= nominal + half
