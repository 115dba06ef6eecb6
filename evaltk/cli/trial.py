"""``evaltk trial design ANALYSIS``: draw and register a stepped-wedge trial's rollout order."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from evaltk.cli.app import app, user_errors

trial_app = typer.Typer(
    help="Design a randomised stepped-wedge rollout (design.kind stepped_wedge).",
    no_args_is_help=True,
)
app.add_typer(trial_app, name="trial")

HELP = (
    "Draw the rollout order of a registered stepped-wedge trial, write it to "
    "ANALYSIS/trial/schedule.csv (cluster, step, start_month) and record it in the "
    "registration chain as an amendment.\n\n"
    "The seed is the fingerprint of the registration entry that recorded the trial as it "
    "stands, read as a number: nobody can redraw until they like the result. Drawing again "
    "gives the same schedule (and records nothing); only an amendment of the trial block "
    "itself gives a new draw, and the chain shows it. Refused once results exist."
)


@trial_app.command(help=HELP)
@user_errors
def design(
    analysis: Path = typer.Argument(..., help="The registered stepped-wedge analysis folder."),
    by: str | None = typer.Option(
        None, "--by", help="Who draws; default the git identity (as for `evaltk register`)."
    ),
) -> None:
    """Draw the schedule (see :data:`HELP`)."""
    from evaltk.registration.trial_schedule import design_trial

    drawn = design_trial(analysis, by=by)
    console = Console(highlight=False, soft_wrap=True)
    trial = drawn.trial
    console.print(
        f"seed {drawn.seed} from fingerprint {drawn.fingerprint} (entry {drawn.sequence}); "
        + (f"drawn from {drawn.pool:,} schedules" if drawn.pool else "one random order")
    )
    for name in sorted(drawn.schedule, key=lambda n: (drawn.schedule[n], trial.names.index(n))):
        step = drawn.schedule[name]
        console.print(f"  step {step}  {trial.step_start(step):%Y-%m}  {escape(name)}")
    if drawn.recorded is None:
        console.print(f"{drawn.path} already holds this schedule, registered; nothing recorded")
        return
    entry = drawn.recorded.entry
    console.print(
        f"wrote {drawn.path} and recorded it as entry {entry.sequence} of "
        f"{drawn.recorded.path}; commit both. New fingerprint: {drawn.recorded.fingerprint} "
        "(send it to the commissioner)"
    )


SIMULATE_HELP = (
    "Write simulated monthly data for a stepped-wedge analysis whose schedule has been drawn "
    "(`evaltk trial design`), to try `evaltk run` before the real data exist: one row per "
    "cluster and month of the window with the cluster's population and a count per outcome "
    "column of data.outcomes, at the rates and true effects of the demo's example trial "
    "(s136 12 per 100,000 a month, 20 % fewer with the scheme; ae_conveyance, "
    "ambulance_conveyance, referral). Written to data.path with a truth.json beside it; a "
    "file there that evaltk did not simulate is never replaced."
)


@trial_app.command(help=SIMULATE_HELP)
@user_errors
def simulate(
    analysis: Path = typer.Argument(..., help="The stepped-wedge analysis folder."),
    seed: int = typer.Option(20200101, "--seed", help="Random seed of the simulated data."),
) -> None:
    """Simulated data on the drawn schedule (see :data:`SIMULATE_HELP`)."""
    import json

    from evaltk.cli.demo import TRIAL_EFFECTS, trial_series, written_by_simulator
    from evaltk.errors import EvaltkError
    from evaltk.protocol.load import load_protocol

    loaded = load_protocol(analysis)
    protocol = loaded.protocol
    trial = protocol.design.trial
    if trial is None:
        raise EvaltkError(f"{loaded.path}: design.kind is not stepped_wedge; nothing to simulate")
    if trial.schedule is None:
        raise EvaltkError(
            f"{loaded.path}: the schedule is not drawn yet; run `evaltk register` and then "
            f"`evaltk trial design {analysis}` first"
        )
    columns = list(getattr(protocol.data, "outcomes", {}).values())
    unknown = [c for c in columns if c not in TRIAL_EFFECTS]
    if unknown:
        raise EvaltkError(
            f"{loaded.path}: data.outcomes column(s) {', '.join(unknown)}: the simulator "
            f"knows {', '.join(TRIAL_EFFECTS)}; simulate with those names or bring your data"
        )
    series = trial_series(protocol, {c: TRIAL_EFFECTS[c] for c in columns}, seed)
    months = series["month"].nunique()
    path = loaded.folder / protocol.data.path
    folder = path.parent
    if path.exists() and not written_by_simulator(folder):
        raise EvaltkError(
            f"{path} exists and was not written by evaltk; move it away or point data.path "
            "elsewhere"
        )
    folder.mkdir(parents=True, exist_ok=True)
    data = protocol.data
    if data.kind != "series" or data.period is None or data.unit is None:
        raise EvaltkError(
            f"{loaded.path}: data must be a series with unit and period columns (as the "
            "stepped-wedge-trial template's) to simulate"
        )
    names = {"area": data.unit, "month": data.period, "population": data.exposure or "population"}
    series = series.rename(columns=names)
    series.to_csv(path, index=False)
    truth = {
        "generator": "evaltk.simulate",
        "seed": seed,
        "rate_ratios": {c: TRIAL_EFFECTS[c][1] for c in columns},
    }
    (folder / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    console = Console(highlight=False, soft_wrap=True)
    console.print(
        f"wrote {escape(str(path))}: {len(trial.names)} clusters x {months} months, true "
        "rate ratios "
        + ", ".join(f"{c} {TRIAL_EFFECTS[c][1]:g}" for c in columns)
        + f" ({escape(str(folder / 'truth.json'))})"
    )
