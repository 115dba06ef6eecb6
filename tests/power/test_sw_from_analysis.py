"""`evaltk power` on a stepped-wedge analysis: the layout from design.trial, the ICC, CAC,
trend and cluster counts from the analysis's own pre-trial data, or an error naming
--baseline and --icc when there are no data."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from evaltk.cli.app import app
from evaltk.power.sw_settings import stepped_wedge_settings
from evaltk.protocol import load_protocol
from evaltk.registration import register
from evaltk.registration.trial_schedule import design_trial
from evaltk.simulate.stepped_wedge import simulate_trial_series

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "protocols" / "stepped-wedge-trial.yaml"
RATES = {"s136": (12.0, 0.8), "ae_conveyance": (25.0, 0.95),
         "ambulance_conveyance": (30.0, 1.0), "referral": (20.0, 1.1)}  # fmt: skip


def _trial(tmp_path: Path) -> Path:
    """The template's 12-cluster, 6-step trial (window 2019-01 to 2021-12, steps of 3 months
    from 2020-01), registered, its schedule drawn, and a simulated monthly series."""
    folder = tmp_path / "analyses" / "trial"
    folder.mkdir(parents=True)
    shutil.copy(TEMPLATE, folder / "analysis.yaml")
    register(folder, data_access="not_collected", by="tester", now="2024-01-01T00:00:00Z")
    design_trial(folder, by="tester", now="2024-01-02T00:00:00Z")
    trial = load_protocol(folder).protocol.design.trial
    assert trial is not None
    series = simulate_trial_series(
        trial.names,
        [c.population for c in trial.clusters],
        [trial.starts()[n].isoformat() for n in trial.names],
        "2019-01-01",
        36,
        RATES,
        seed=3,
    )
    (folder / "data").mkdir()
    series.to_csv(folder / "data" / "series.csv", index=False)
    return folder


def test_settings_come_from_the_trial_and_its_pre_trial_data(tmp_path: Path) -> None:
    folder = _trial(tmp_path)
    loaded = load_protocol(folder)
    trial = loaded.protocol.design.trial
    assert trial is not None and trial.schedule is not None
    settings = stepped_wedge_settings(loaded, replicates=20)
    assert settings.clusters == (len(trial.clusters),) == (12,)
    assert settings.steps == (trial.steps,) == (6,)
    # 12 months before 2020-01 = 4 periods of 3; 24 months from it = 8 periods, 6 of them steps.
    assert (settings.baseline_periods, settings.periods_per_step, settings.after_periods) == (
        4,
        1,
        2,
    )
    assert math.isfinite(settings.icc) and 0 <= settings.icc < 1
    assert 0 <= settings.cac <= 1 and math.isfinite(settings.trend)
    assert "the analysis's own data (data/series.csv)" in settings.source
    # Each cluster's count: its 2019 s136 events / 4 periods, clusters as listed, with the
    # drawn schedule and the registered scheme (NCN and NCS together, restricted) and test.
    series = pd.read_csv(folder / "data" / "series.csv")
    before = series[series["month"] < "2020-01-01"].groupby("area")["s136"].sum() / 4
    assert settings.cluster_counts == pytest.approx([before[n] for n in trial.names], rel=1e-9)
    assert settings.schedule == tuple(trial.schedule[n] for n in trial.names)
    assert settings.together == ((trial.names.index("NCN"), trial.names.index("NCS")),)
    assert settings.max_imbalance == 0.25 and settings.permutations == 999
    assert settings.balance == tuple((float(c.population),) for c in trial.clusters)
    assert settings.test_model == ("log_rate" if min(settings.cluster_counts) >= 20 else "poisson")
    # Only pre-trial months are read: changing every later month changes nothing.
    series.loc[series["month"] >= "2020-01-01", "s136"] *= 5
    series.to_csv(folder / "data" / "series.csv", index=False)
    assert stepped_wedge_settings(load_protocol(folder), replicates=20) == settings


def test_the_command_writes_the_power_files(tmp_path: Path) -> None:
    folder = _trial(tmp_path)
    result = CliRunner().invoke(
        app, ["power", str(folder), "--replicates", "20", "--workers", "1", "--effects", "0.8,1"]
    )
    assert result.exit_code == 0, result.output
    assert "12 clusters over 6 steps" in result.output
    assert "minimum detectable effect at 80% power" in result.output
    assert "the analysis's own data" in result.output
    names = ("power.json", "power.csv", "detectable.csv", "power.png")
    assert all((folder / "power" / n).stat().st_size > 0 for n in names)
    saved = json.loads((folder / "power" / "power.json").read_text(encoding="utf-8"))
    assert saved["design"] == "stepped_wedge"
    assert saved["settings"]["clusters"] == [12] and saved["settings"]["steps"] == [6]
    assert [c["effect"] for c in saved["cells"]] == [0.8, 1.0]
    assert all(c["replicates"] == 20 and c["periods"] == 12 for c in saved["cells"])


def test_without_data_or_baseline_the_error_names_what_to_give(tmp_path: Path) -> None:
    folder = _trial(tmp_path)
    shutil.rmtree(folder / "data")
    result = CliRunner().invoke(app, ["power", str(folder), "--replicates", "20"])
    assert result.exit_code != 0
    message = " ".join(result.output.split())
    assert "no data at" in message and "give --baseline" in message and "--icc" in message
    assert not (folder / "power").exists()
    # Given both, the clusters' counts follow their registered populations.
    given = stepped_wedge_settings(load_protocol(folder), baseline=10.0, icc=0.05)
    assert given.mean_count == 30.0 and given.icc == 0.05 and given.source.startswith("given")
    assert sum(given.cluster_counts or ()) / 12 == pytest.approx(30.0)
