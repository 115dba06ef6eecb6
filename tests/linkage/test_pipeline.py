"""A linked analysis end to end: police, ambulance, A&E and admission extracts with raw NHS
numbers -> `evaltk run` -> path outcomes per unit and month, checked against the true links."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from evaltk.analysis.run import run_analysis
from evaltk.cli import app
from evaltk.cli.progress import without_steps
from evaltk.linkage.pipeline import link_episodes
from evaltk.measures import build_panel
from evaltk.protocol import load_protocol
from evaltk.results.schema import RESULTS_SCHEMA_VERSION
from evaltk.simulate import SimulationConfig, write_dataset
from evaltk.simulate.agencies import AgencyExtracts, agency_extracts, true_path_flags

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "protocols" / "street-triage-its.yaml"
KEY = "linkage-test-key-0123456789abcdef"
UNIT = "E23000019"
WINDOWS = {"ambulance": [0, 6], "ae": [0, 12], "admission": [0, 72]}

OUTCOMES = [
    {
        "id": "ae_after_incident",
        "label": "Share of incidents followed by an A&E attendance within 12 hours",
        "role": "primary",
        "class": "displacement",
        "direction": "decrease",
        "measure": {"aggregate": "share", "where": {"linked_ae": True}},
    },
    {
        "id": "ambulance_after_incident",
        "label": "Share of incidents followed by an ambulance record within 6 hours",
        "role": "secondary",
        "class": "displacement",
        "direction": "decrease",
        "measure": {"aggregate": "share", "where": {"linked_ambulance": True}},
    },
    {
        "id": "admission_after_incident",
        "label": "Share of incidents followed by a mental-health admission within 72 hours",
        "role": "secondary",
        "class": "resolution",
        "direction": "increase",
        "measure": {"aggregate": "share", "where": {"linked_admission": True}},
    },
    {
        "id": "repeat_30d",
        "label": "Share of incidents followed by another police contact within 30 days",
        "role": "secondary",
        "class": "resolution",
        "direction": "decrease",
        "measure": {"aggregate": "share", "repeat": {"within_days": 30}},
    },
]


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, AgencyExtracts]:
    folder = tmp_path_factory.mktemp("linked-sim") / "data"
    write_dataset(SimulationConfig.preset("small", scale=0.06, seed=5), folder)
    episodes = pd.read_parquet(folder / "episodes.parquet")
    for column in episodes.columns:
        if str(episodes[column].dtype) in ("str", "string"):
            episodes[column] = episodes[column].astype(object)
    episodes["timestamp"] = episodes["timestamp"].astype("datetime64[us]")
    return folder, agency_extracts(episodes, seed=2)


def linked_analysis(folder: Path, simulated: Path, made: AgencyExtracts) -> Path:
    """Police CSV, ambulance CSV (UK dates, spaced NHS numbers), A&E parquet, admissions SPSS."""
    import pyreadstat

    data = folder / "data"
    data.mkdir(parents=True)
    (data / "population.csv").write_bytes((simulated / "population.csv").read_bytes())
    made.police.to_csv(data / "police.csv", index=False)
    ambulance = made.agencies["ambulance"].copy()
    ambulance["time"] = pd.to_datetime(ambulance["time"]).dt.strftime("%d/%m/%Y %H:%M:%S")
    ambulance.rename(
        columns={"record_id": "CAD_no", "nhs_number": "NHS No", "time": "Dispatched"}
    ).to_csv(data / "ambulance.csv", index=False)
    made.agencies["ae"].rename(columns={"time": "arrival"}).to_parquet(data / "ae.parquet")
    admissions = made.agencies["admission"].rename(columns={"time": "admitted"})
    pyreadstat.write_sav(admissions, str(data / "admissions.sav"))
    linkage = {
        "agencies": {
            "ambulance": {
                "path": "data/ambulance.csv",
                "person": "NHS No",
                "time": "Dispatched",
                "record": "CAD_no",
                "window_hours": WINDOWS["ambulance"],
            },
            "ae": {
                "path": "data/ae.parquet",
                "person": "nhs_number",
                "time": "arrival",
                "record": "record_id",
                "window_hours": WINDOWS["ae"],
            },
            "admission": {
                "path": "data/admissions.sav",
                "person": "nhs_number",
                "time": "admitted",
                "window_hours": WINDOWS["admission"],
            },
        }
    }
    body = {
        "title": "Linked paths",
        "data": {
            "kind": "episodes",
            "path": "data/police.csv",
            "population": "data/population.csv",
            "identifiers": "raw",
            "linkage": linkage,
        },
        "outcomes": OUTCOMES,
    }
    (folder / "analysis.yaml").write_text(
        f"protocol: {TEMPLATE}\n" + "\n".join(f"{k}: {json.dumps(v)}" for k, v in body.items()),
        encoding="utf-8",
    )
    return folder


def true_shares(made: AgencyExtracts) -> pd.DataFrame:
    """Per month, the share of the unit's incidents with each agency's true record."""
    flags = true_path_flags(made).merge(
        made.police[["episode_id", "force", "timestamp"]], on="episode_id"
    )
    flags = flags[flags["force"] == UNIT]
    flags["period"] = pd.to_datetime(flags["timestamp"]).dt.to_period("M").dt.to_timestamp()
    return flags.groupby("period")[["linked_ambulance", "linked_ae", "linked_admission"]].mean()


def test_linked_run_measures_paths_as_the_truth(tmp_path, extracts, monkeypatch):
    simulated, made = extracts
    monkeypatch.setenv("EVALTK_LINK_KEY", KEY)
    folder = linked_analysis(tmp_path / "analyses" / "linked", simulated, made)
    result = run_analysis(folder, exploratory=True)

    panel = pd.read_csv(folder / "results" / "panel.csv", parse_dates=["period"])
    truth = true_shares(made)
    n = len(made.police[made.police["force"] == UNIT])
    for agency in ("ambulance", "ae", "admission"):
        derived = panel[panel["outcome"] == f"{agency}_after_incident"].set_index("period")
        expected = truth[f"linked_{agency}"].reindex(derived.index)
        # Pooled over the window: within 0.5 percentage points of the truth; each month
        # within 3 points (a few false links to a person's nearby second incident, a few
        # records claimed by the wrong one of two close incidents).
        pooled = derived["numerator"].sum() / derived["denominator"].sum()
        true_pooled = (expected * derived["denominator"]).sum() / derived["denominator"].sum()
        print(f"{agency}: derived {pooled:.4f} truth {true_pooled:.4f} over {n} incidents")
        assert abs(pooled - true_pooled) < 0.005, agency
        assert np.max(np.abs(derived["value"] - expected)) < 0.03, agency
        assert true_pooled > 0.02  # the outcome is not trivially zero

    # Linkage rates are reported per agency pair, with the windows.
    rates = {r.agency: r for r in result.data.linkage or []}
    assert set(rates) == {"ambulance", "ae", "admission"}
    for agency, rate in rates.items():
        assert rate.window_hours == [float(h) for h in WINDOWS[agency]]
        assert rate.incidents == len(made.police)
        assert rate.records == len(made.agencies[agency])
        blank = int(made.agencies[agency]["nhs_number"].isna().sum())
        assert rate.records_unlinkable == blank
        genuine = int((made.truth["agency"] == agency).sum())
        # Genuine records are 1 / (1 + 0.3) of the extract; about 2 % lost their NHS number.
        assert rate.records_linked_share == pytest.approx(genuine * 0.98 / rate.records, abs=0.02)
    # People's journeys are followed on the linked file (pseudonymised ids): every used
    # incident of the unit in the window is one step.
    pathways = pd.read_csv(folder / "results" / "pathways.csv")
    assert pathways["incidents"].sum() == result.data.rows_used
    assert pathways.loc[pathways["outcome"] == "A&E", "incidents"].sum() > 0
    written = json.loads((folder / "results" / "results.json").read_text())
    assert written["data"]["linkage"][0]["agency"] == "ambulance"
    assert written["results_schema_version"] == RESULTS_SCHEMA_VERSION


def test_repeat_contact_is_the_same_after_pseudonymisation(tmp_path, extracts, monkeypatch):
    """Repeat police contact on pseudonymised ids equals repeat contact on the raw ids."""
    simulated, made = extracts
    monkeypatch.setenv("EVALTK_LINK_KEY", KEY)
    folder = linked_analysis(tmp_path / "linked", simulated, made)
    loaded = load_protocol(folder)
    linked = link_episodes(loaded.protocol, loaded.folder)
    panel = build_panel(loaded.protocol, loaded.folder, linked_file=linked.path).frame
    plain = loaded.protocol.model_copy(
        update={"data": loaded.protocol.data.model_copy(update={"linkage": None})}
    )
    # Read as it is (no key): repeats found on the raw NHS numbers themselves.
    plain_data = plain.data.model_copy(update={"identifiers": "pseudonymised"})
    plain = plain.model_copy(update={"data": plain_data, "outcomes": [plain.outcome("repeat_30d")]})
    reference = build_panel(plain, loaded.folder).frame
    ours = panel[panel["outcome"] == "repeat_30d"].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, reference.reset_index(drop=True))
    assert ours["numerator"].sum() > 100
    # The link table holds pseudonyms and record ids, never an NHS number.
    text = linked.table.to_csv()
    assert not any(n in text for n in made.police["person_id"].unique()[:200])
    assert set(linked.table["agency"]) == {"ambulance", "ae", "admission"}


def test_linked_run_without_a_key_stops_before_any_output(tmp_path, extracts, monkeypatch):
    simulated, made = extracts
    monkeypatch.delenv("EVALTK_LINK_KEY", raising=False)
    monkeypatch.delenv("EVALTK_LINK_KEY_FILE", raising=False)
    folder = linked_analysis(tmp_path / "linked", simulated, made)
    result = CliRunner().invoke(app, ["run", str(folder), "--exploratory"])
    assert result.exit_code != 0
    assert without_steps(result.output) == [
        "error: data.linkage links extracts by person: no linkage key: set the environment "
        "variable EVALTK_LINK_KEY (at least 16 characters) or pass --key-file PATH; evaltk "
        "never uses raw person identifiers without pseudonymising them"
    ]
    assert not (folder / "results").exists()
    assert not (folder / ".cache").exists()


def test_evaltk_link_writes_a_pseudonymised_link_table(tmp_path, extracts):
    simulated, made = extracts
    folder = linked_analysis(tmp_path / "linked", simulated, made)
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY)
    out = tmp_path / "links.csv"
    result = CliRunner().invoke(
        app, ["link", str(folder), "--key-file", str(key_file), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "A&E" in result.output and "incidents linked" in result.output
    table = pd.read_csv(out, dtype=str)
    assert list(table.columns) == [
        "episode_id", "pseudonym", "incident_time", "agency", "agency_record", "agency_time",
        "hours_after",
    ]  # fmt: skip
    assert table["pseudonym"].str.fullmatch(r"[0-9a-f]{64}").all()
    text = out.read_text()
    assert KEY not in text
    assert not any(n in text for n in made.police["person_id"].unique()[:500])
    # Every link lies in its agency's window.
    hours = table["hours_after"].astype(float)
    for agency, (low, high) in WINDOWS.items():
        part = hours[table["agency"] == agency]
        assert len(part) and part.between(low, high).all()
