"""``evaltk run ANALYSIS``: measure, estimate, decide and write results/."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from evaltk.cli.app import app, err_console, user_errors
from evaltk.cli.progress import steps
from evaltk.garbage_collection import paused
from evaltk.project import in_project


@app.command()
@user_errors
def run(
    analysis: Path = typer.Argument(
        ...,
        help="The analysis folder (holding analysis.yaml), e.g. analyses/example-street-triage.",
    ),
    exploratory: bool = typer.Option(
        False,
        "--exploratory",
        help="Run even though the protocol is unregistered or differs from its registration. "
        "Every output is stamped as exploratory: results.json (registration status), each "
        "figure (a visible mark) and each book page (a warning).",
    ),
    key_file: Path | None = typer.Option(
        None,
        "--key-file",
        help="File holding the linkage key that pseudonymises raw person identifiers "
        "(data.identifiers: raw); default: the EVALTK_LINK_KEY environment variable. The key "
        "is never written to any output or log.",
    ),
    engine: str = typer.Option(
        "duckdb",
        "--engine",
        help="Where the episode rows are measured: duckdb (embedded, the default) or spark "
        "(where the data live: an NHS secure data environment's cluster; needs "
        "`pip install 'evaltk[spark]'` and Java 17). Only the unit x month panel comes back; "
        "the models, verdict and results are the same on either.",
    ),
    spark_master: str | None = typer.Option(
        None,
        "--spark-master",
        help="Spark master URL for --engine spark, e.g. local[2] or spark://host:7077 "
        "(default: the session already running, else local[*]).",
    ),
    spark_remote: str | None = typer.Option(
        None,
        "--spark-remote",
        help="Spark Connect address for --engine spark, e.g. sc://host:15002 (Databricks, a "
        "standalone cluster's Connect server).",
    ),
) -> None:
    """Run an analysis: outcome measures, one model per outcome, the verdict, and figures.

    The protocol is first checked against ANALYSIS/registration.json (see `evaltk register`):
    if it is unregistered, its log fails verification, or any value changed since the latest
    registration entry, the run is refused with exit code 3 and a list of the changed fields
    (e.g. outcomes[7].measure.repeat.within_days: 28 -> 29), and nothing is written.

    Writes ANALYSIS/results/ (results.json, series.csv for an interrupted time series or
    effects.csv for did, event_study, staggered_did and cits, panel.csv, figures/) whole or not
    at all: if anything fails, the previous results are left untouched. The folder is locked
    while it runs: a second run (or register, amend) of it waits, then stops with exit code 75.
    A read-only or full disk stops the run at once with exit code 73.

    A registered run records the SHA-256 of every data file it read in ANALYSIS/data-seen.json;
    each file that differs from the first registered run's is then named in a warning line.

    The design is the protocol's design.kind; did, event_study and staggered_did choose their
    inference by design.inference (auto: wild cluster bootstrap, or randomisation inference
    for staggered_did, below 50 units), and results.json says which was used and why.
    """
    with paused():  # heavy imports only when running (see evaltk.garbage_collection)
        from evaltk.analysis.run import run_analysis

    analysis = in_project(analysis)  # a name in the project works from any folder in it
    settings = _engine_settings(engine, spark_master, spark_remote)

    if key_file is not None:
        import os

        from evaltk.ingest.pseudonyms import KEY_FILE_ENV, load_key

        load_key(key_file)  # a missing or short key fails now, in one line
        # The path (never the key) is handed to the reader through the environment.
        os.environ[KEY_FILE_ENV] = str(key_file)

    from rich.markup import escape

    def warn(line: str) -> None:
        err_console.print(f"[bold yellow]warning:[/] {escape(line)}", markup=True)

    console = Console(highlight=False)
    with steps(console) as say:
        result = run_analysis(
            analysis, progress=say, exploratory=exploratory, warn=warn, engine=settings
        )
    if result.registration.status != "registered":
        console.print("[bold red]EXPLORATORY[/]: not the registered analysis")
    folder = analysis if analysis.is_dir() else analysis.parent
    console.print(f"[bold]{result.verdict.label}[/]: {result.verdict.sentence}")
    console.print(result.headline)
    console.print(f"wrote {folder / 'results' / 'results.json'}")


def _engine_settings(engine: str, master: str | None, remote: str | None):
    """The engine options as settings; a wrong combination is a one-line usage error."""
    from evaltk.errors import EngineError
    from evaltk.ingest.engine import EngineSettings

    if engine not in ("duckdb", "spark"):
        raise EngineError(f"--engine {engine!r}: choose duckdb or spark")
    if engine == "duckdb":
        if master or remote:
            raise EngineError("--spark-master and --spark-remote need --engine spark")
        return None
    if master and remote:
        raise EngineError("give --spark-master or --spark-remote, not both")
    if remote and not remote.startswith("sc://"):
        raise EngineError(f"--spark-remote {remote!r}: a Spark Connect address starts with sc://")
    from evaltk.ingest.spark import SparkSettings

    return EngineSettings(engine="spark", spark=SparkSettings(master=master, remote=remote))
