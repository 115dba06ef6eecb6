"""A small simulated extract, in the shapes forces hand over (SPSS with labels, Excel, CSV)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evaltk.simulate import SimulationConfig, write_dataset

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "protocols" / "street-triage-its.yaml"
KEY = "k" * 8 + "0123456789abcdef"  # 24 characters; a test key, never a real one
BOOLS = (
    "triage_available", "triage_attended", "s136", "ae_conveyance", "ambulance_conveyance",
    "missing_person", "arrest", "admitted_72h",
)  # fmt: skip


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sim") / "data"
    write_dataset(SimulationConfig.preset("small", scale=0.1, seed=11), folder)
    return folder


@pytest.fixture(scope="session")
def base(simulated: Path) -> pd.DataFrame:
    """Canonical episodes with raw 10-digit 'NHS numbers' as person ids (plain pandas types)."""
    frame = pd.read_parquet(simulated / "episodes.parquet")
    frame = frame.astype({c: object for c in frame.columns if str(frame[c].dtype) == "str"})
    codes = {p: f"94{i:08d}" for i, p in enumerate(sorted(frame["person_id"].unique()))}
    frame["person_id"] = frame["person_id"].map(codes)
    for column in frame.columns:
        if str(frame[column].dtype).startswith("string"):
            frame[column] = frame[column].astype(object)
    frame["timestamp"] = frame["timestamp"].astype("datetime64[us]")
    return frame


def force_style(base: pd.DataFrame) -> pd.DataFrame:
    """The same episodes as a force's SPSS export: own names, Y/N flags, local codes."""
    frame = pd.DataFrame(
        {
            "IncidentRef": base["episode_id"],
            "NHS_Number": base["person_id"],
            "ForceCode": base["force"],
            "Logged": base["timestamp"],
            "PlaceOfSafety": base["place_of_safety"],
            "Referral": base["referral"].map(
                {"none": "NONE", "gp": "GP", "community_team": "CMHT", "crisis_team": "CRHT"}
            ),
            "OfficerMins": base["officer_minutes"],
            "HospWaitMins": base["hospital_wait_minutes"],
        }
    )
    for name in BOOLS:
        frame[name.upper()] = base[name].map({True: 1.0, False: 0.0})
    return frame


FORCE_DATA = {
    "kind": "episodes",
    "population": "data/population.csv",
    "identifiers": "raw",
    "columns": {
        "episode_id": "IncidentRef",
        "person_id": "NHS_Number",
        "force": "ForceCode",
        "timestamp": "Logged",
        "place_of_safety": "PlaceOfSafety",
        "referral": "Referral",
        "officer_minutes": "OfficerMins",
        "hospital_wait_minutes": "HospWaitMins",
        **{name: name.upper() for name in BOOLS},
    },
    "codes": {
        "referral": {"NONE": "none", "GP": "gp", "CMHT": "community_team", "CRHT": "crisis_team"},
        **{name: {"Yes": True, "No": False} for name in BOOLS},
    },
}


def write_sav(frame: pd.DataFrame, path: Path) -> None:
    import pyreadstat

    labels = {name.upper(): {1.0: "Yes", 0.0: "No"} for name in BOOLS if name.upper() in frame}
    pyreadstat.write_sav(frame, str(path), variable_value_labels=labels)


def analysis(folder: Path, simulated: Path, data: dict, **extra) -> Path:
    """An analysis folder on the street-triage template with ``data`` (YAML written as JSON)."""
    import json
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    shutil.copyfile(simulated / "population.csv", folder / "data" / "population.csv")
    body = {"title": "Force extract", "data": data, **extra}
    (folder / "analysis.yaml").write_text(
        f"protocol: {TEMPLATE}\n" + "\n".join(f"{k}: {json.dumps(v)}" for k, v in body.items()),
        encoding="utf-8",
    )
    return folder
