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
