"""DiD power: the batched TWFE is TWFEModel's cluster fit; more forces, more power."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltk.estimators.did import DiDSpec, TWFEModel
from evaltk.power.did import DiDPowerSettings, draw_panel, twfe_batch
from evaltk.power.did_report import did_power_analysis

ROOT = Path(__file__).resolve().parents[2]
EVALTK = Path(sys.executable).parent / "evaltk"


def _settings(**changes: object) -> DiDPowerSettings:
    values: dict[str, object] = dict(
        outcome="s136",
        first_month=dt.date(2014, 1, 1),
        months_before=24,
        months_after=12,
        units=((1, 2), (3, 6)),
        effects=(0.85, 1.0),
        baseline=80.0,
        replicates=200,
        seed=3,
    )
    values.update(changes)
    return DiDPowerSettings(**values)  # type: ignore[arg-type]


def test_batched_twfe_matches_the_did_estimator() -> None:
    settings = _settings(replicates=10)
    y, d = draw_panel(settings, 2, 3, 0.8)
    beta, se, p = twfe_batch(y, d)
    months = pd.date_range("2014-01-01", periods=d.shape[1], freq="MS")
    for r in range(3):
        frame = pd.DataFrame(
            {
                "unit": np.repeat([f"f{u}" for u in range(5)], len(months)),
                "period": np.tile(months, 5),
                "y": y[r].ravel(),
                "treated": d.ravel(),
            }
        )
        fit = TWFEModel(
            frame,
            outcome="y",
            unit="unit",
            period="period",
            treatment="treated",
            spec=DiDSpec(family="linear"),
        ).fit("cluster")
        assert beta[r] == pytest.approx(fit.estimate, rel=1e-9)
        assert se[r] == pytest.approx(fit.std_error, rel=1e-9)
        assert p[r] == pytest.approx(fit.p_value, rel=1e-7)


def test_more_forces_give_more_power_and_the_same_table_on_every_backend() -> None:
    settings = _settings()
    report = did_power_analysis(settings, workers=1)
    power = {(c.treated_units, c.effect): c.power for c in report.cells}
    assert power[(3, 0.85)] > power[(1, 0.85)]
    assert report.design == "did"
    assert did_power_analysis(settings, workers=2).to_json() == report.to_json()


def test_randomization_test_keeps_its_size_and_needs_enough_forces() -> None:
    settings = _settings(units=((1, 4), (3, 4)), effects=(0.7, 1.0), replicates=300)
    report = did_power_analysis(settings, workers=1)
    power = {(c.treated_units, c.effect): c for c in report.cells}
    # 1 treated of 5 forces: 5 assignments, p >= 0.2, so nothing is ever significant.
    assert power[(1, 0.7)].power == 0.0
    # 3 of 7: 35 assignments; exact size at no change, real power at a 30 % fall.
    size = power[(3, 1.0)]
    assert size.power <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / size.replicates)
    assert power[(3, 0.7)].power > 0.5


def test_cluster_robust_test_over_rejects_with_few_forces() -> None:
    settings = _settings(units=((1, 2),), effects=(1.0,), inference="cluster", replicates=300)
    (cell,) = did_power_analysis(settings, workers=1).cells
    assert cell.power > 0.15  # far above 0.05: why randomisation is the default


def test_cli_did_grid(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            str(EVALTK),
            "power",
            str(ROOT / "analyses" / "example-street-triage"),
            "--design",
            "did",
            "--units",
            "2+3,5+5",
            "--effects",
            "0.8,1",
            "--replicates",
            "20",
            "--workers",
            "1",
            "--out",
            str(tmp_path / "p"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "5 treated + 5 comparison forces" in done.stdout
    report = json.loads((tmp_path / "p" / "power.json").read_text())
    assert report["design"] == "did" and len(report["cells"]) == 4
