"""`evaltk trial design`: the rollout drawn with a seed fixed by the registration, written to
trial/schedule.csv and recorded in the chain; bad trial blocks refused in one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evaltk.errors import ProtocolError, RegistrationError
from evaltk.protocol import load_protocol
from evaltk.protocol.trial import SCHEDULE_FILE, read_schedule
from evaltk.registration import check_registration, read_log, register
from evaltk.registration.trial_schedule import design_trial, draw_seed

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "protocols" / "stepped-wedge-trial.yaml"


def _analysis(tmp_path: Path, name: str = "trial") -> Path:
    folder = tmp_path / "analyses" / name
    folder.mkdir(parents=True)
    shutil.copy(TEMPLATE, folder / "analysis.yaml")
    return folder


def _registered(tmp_path: Path, name: str = "trial", when: str = "2024-01-01T00:00:00Z") -> Path:
    folder = _analysis(tmp_path, name)
    register(folder, data_access="not_collected", by="tester", now=when)
    return folder


def _edit(folder: Path, old: str, new: str) -> None:
    path = folder / "analysis.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_draw_is_registered_and_drawing_again_gives_the_same(tmp_path: Path) -> None:
    folder = _registered(tmp_path)
    original = read_log(folder).original
    drawn = design_trial(folder, by="tester", now="2024-01-02T00:00:00Z")
    # The seed is the registration's fingerprint read as a hex number.
    assert drawn.fingerprint == original.fingerprint and drawn.sequence == 0
    assert drawn.seed == int(str(original.fingerprint).replace("-", ""), 16)
    assert drawn.seed == draw_seed(str(original.fingerprint))
    steps, starts = read_schedule(folder / SCHEDULE_FILE)
    assert steps == drawn.schedule
    trial = load_protocol(folder).protocol.design.trial
    assert trial is not None and trial.schedule == steps
    assert starts == {n: trial.step_start(s) for n, s in steps.items()}
    # Groups start together; the restriction's balance holds; every step is used.
    assert steps["NCN"] == steps["NCS"]
    assert set(steps.values()) == set(range(1, 7))
    populations = {c.name: c.population for c in trial.clusters}
    mean = sum(populations.values()) / len(populations)
    for step in range(1, 7):
        members = [populations[n] for n, s in steps.items() if s == step]
        assert abs(sum(members) / len(members) / mean - 1) <= 0.25
    # Recorded in the chain as an amendment naming the fingerprint; the run's check passes.
    log = read_log(folder)
    assert len(log.entries) == 2 and log.head.kind == "amendment"
    assert str(original.fingerprint) in log.head.reason
    assert log.head.protocol["design"]["trial"]["schedule"] == steps
    assert check_registration(load_protocol(folder)).status == "registered"
    # Drawing again: the same schedule, nothing recorded.
    again = design_trial(folder, by="tester")
    assert again.schedule == drawn.schedule and again.recorded is None
    assert len(read_log(folder).entries) == 2


def test_another_registration_draws_another_schedule(tmp_path: Path) -> None:
    """Same protocol, registered at other times: other fingerprints, other seeds, other
    schedules. Five draws from 672 balanced schedules collide with chance about 1.5 %, twice
    with chance below 0.01 %: at least four differ (which four depends on the protocol's hash,
    so on every change to the template)."""
    drawn = [
        design_trial(_registered(tmp_path, f"t{i}", f"2024-01-0{i}T00:00:00Z"), by="tester")
        for i in (1, 2, 3, 4, 5)
    ]
    assert len({d.seed for d in drawn}) == 5
    assert len({tuple(sorted(d.schedule.items())) for d in drawn}) >= 4
    assert {d.pool for d in drawn} == {672}


def test_a_title_amendment_does_not_change_the_draw(tmp_path: Path) -> None:
    """The seed comes from the entry that registered the trial as it stands: amending
    something else before drawing cannot buy a new draw."""
    from evaltk.registration import amend

    first = design_trial(_registered(tmp_path, "a"), by="tester")
    folder = _registered(tmp_path, "b")  # same time and person: the same fingerprint
    _edit(folder, 'title: "Control-room', 'title: "Edited control-room')
    amend(folder, reason="title", by="tester", now="2024-01-03T00:00:00Z")
    second = design_trial(folder, by="tester")
    assert second.sequence == 0 and second.schedule == first.schedule


def test_a_hand_edited_schedule_is_refused(tmp_path: Path) -> None:
    folder = _registered(tmp_path)
    drawn = design_trial(folder, by="tester")
    path = folder / SCHEDULE_FILE
    name = next(n for n, s in drawn.schedule.items() if s == 1 and n not in ("NCN", "NCS"))
    other = next(n for n, s in drawn.schedule.items() if s == 6 and n not in ("NCN", "NCS"))
    text = path.read_text().replace(f"{name},1,", "X").replace(f"{other},6,", f"{name},6,")
    path.write_text(text.replace("X", f"{other},1,"))
    assert check_registration(load_protocol(folder)).status != "registered"  # run refused
    with pytest.raises(RegistrationError, match="not the schedule the registration draws"):
        design_trial(folder, by="tester")


def test_drawing_needs_a_registration_and_no_results(tmp_path: Path) -> None:
    folder = _analysis(tmp_path)
    with pytest.raises(RegistrationError, match="not registered"):
        design_trial(folder)
    register(folder, data_access="not_collected", by="tester")
    (folder / "results").mkdir()
    (folder / "results" / "results.json").write_text("{}")
    with pytest.raises(RegistrationError, match="before any outcome is seen"):
        design_trial(folder)
    assert not (folder / SCHEDULE_FILE).exists()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("steps: 6 ", "steps: 13 ", "steps is 13 but there are 12 clusters"),
        ("- [NCN, NCS]", "- [NCN, XYZ]", r"together\[0\] names XYZ, not in clusters"),
        ("- [NCN, NCS]", "- [NCN, NCS, NCE]", r"together\[0\] has 3 clusters, more than a step"),
        ("first_start: 2020-01-01", "first_start: 2020-01-15", "not the first day of a month"),
        ("step_months: 3 ", "step_months: 9 ", "the last step starts 2023-10-01, after window"),
        ("start: {} ", "start: {ASH: 2020-01-01} ", "intervention.start: a stepped-wedge"),
        ("balance: [population]", "balance: [baseline]", "clusters ASH, BAS"),
        ("units: [ASH, BAS,", "units: [OTHER, BAS,", "must name exactly the units"),
    ],
)
def test_bad_trial_blocks_are_refused_in_one_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    folder = _analysis(tmp_path)
    _edit(folder, old, new)
    with pytest.raises(ProtocolError, match=message) as caught:
        load_protocol(folder)
    assert len(str(caught.value).splitlines()) == 1
    assert "analysis.yaml:" in str(caught.value)


def test_too_strict_a_restriction_is_refused(tmp_path: Path) -> None:
    folder = _analysis(tmp_path)
    _edit(folder, "max_imbalance: 0.25 ", "max_imbalance: 0.02 ")
    register(folder, data_access="not_collected", by="tester")
    with pytest.raises(RegistrationError, match=r"keeps 0 schedule.* raise max_imbalance"):
        design_trial(folder)
    assert not (folder / SCHEDULE_FILE).exists()


def test_a_schedule_that_does_not_fit_the_trial_is_named(tmp_path: Path) -> None:
    folder = _registered(tmp_path)
    design_trial(folder, by="tester")
    path = folder / SCHEDULE_FILE
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("ASH,")) + "\n")
    with pytest.raises(ProtocolError, match=r"does not name the clusters .*missing: ASH") as caught:
        load_protocol(folder)
    assert "delete the file, record the change" in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1
