"""``evaltk link ANALYSIS``: link the protocol's extracts and show how well they linked."""

from __future__ import annotations

from pathlib import Path

import typer

from evaltk.cli.app import app, user_errors


@app.command()
@user_errors
def link(
    analysis: Path = typer.Argument(
        ..., help="The analysis folder (holding analysis.yaml) whose data.linkage to run."
    ),
    key_file: Path | None = typer.Option(
        None,
        "--key-file",
        help="File holding the linkage key; default: the EVALTK_LINK_KEY environment variable. "
        "The key is never written to any output or log.",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Where to write the link table (.csv or .parquet); default "
        "ANALYSIS/.cache/links.csv. It holds pseudonyms and record ids, never an identifier.",
    ),
) -> None:
    """Pseudonymise and link the police, ambulance, A&E and admission extracts of an analysis
    (data.linkage), print the linkage rate of each agency pair, and write the link table for
    inspection: one row per link with the police episode id, the person's pseudonym, the
    incident time, the agency, its record id and time, and the hours between them.

    Nothing is estimated and results/ is not touched; `evaltk run` links the same way.
    """
    from evaltk.errors import ProtocolError
    from evaltk.ingest.pseudonyms import require_key
    from evaltk.linkage.pipeline import link_episodes, needs_key
    from evaltk.linkage.report import rates_text
    from evaltk.protocol import load_protocol
    from evaltk.protocol.spec import EpisodeSource

    loaded = load_protocol(analysis)
    source = loaded.protocol.data
    if not isinstance(source, EpisodeSource) or source.linkage is None:
        raise ProtocolError(
            f"{loaded.path}: no data.linkage block; name the agencies' extracts there first "
            "(see README, 'Linking agencies' extracts')"
        )
    key = (
        require_key(key_file, why="data.linkage links extracts by person")
        if needs_key(source)
        else None
    )
    linked = link_episodes(loaded.protocol, loaded.folder, key)
    assert linked.table is not None  # DuckDB's linkage always makes the link table
    target = out or loaded.folder / ".cache" / "links.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.partial")
    if target.suffix.lower() in (".parquet", ".pq"):
        linked.table.to_parquet(temp, index=False)
    else:
        linked.table.to_csv(temp, index=False)
    temp.replace(target)
    print(rates_text(linked))
    print(f"wrote {len(linked.table):,} links to {target}")
