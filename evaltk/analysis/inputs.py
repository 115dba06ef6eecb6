"""Every data file an analysis reads, hashed, for the reproducibility record in results.json.

The hashes let anyone holding the files check that they are the very bytes a published result
came from. Paths stay as the protocol writes them (relative to the analysis folder), so
results.json holds no absolute path and stays byte-identical wherever it is run; a file
outside the folder (``data.allow_outside``) is named by its file name only.
"""

from __future__ import annotations

from pathlib import Path

from evaltk.digest import file_sha256
from evaltk.protocol.data_paths import published_path
from evaltk.protocol.spec import EpisodeSource, Protocol
from evaltk.results.schema import InputFile


def input_files(protocol: Protocol, folder: Path) -> list[InputFile]:
    """The protocol's data files in reading order: data.path, population, linked extracts.

    A file the protocol names but the run did not need and cannot find (a population table
    when no outcome is a rate) is left out rather than failing the run after the fit.
    """
    data = protocol.data
    named: list[tuple[str, str]] = [
        ("episodes" if isinstance(data, EpisodeSource) else "series", data.path)
    ]
    if isinstance(data, EpisodeSource):
        if data.population is not None:
            named.append(("population", data.population))
        if data.linkage is not None:
            agencies = data.linkage.agencies
            named.extend((agency, extract.path) for agency, extract in agencies.items())
    return [
        InputFile(role=role, path=published_path(path, folder), sha256=file_sha256(folder / path))
        for role, path in named
        if (folder / path).is_file()
    ]
