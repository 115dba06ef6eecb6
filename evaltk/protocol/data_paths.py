"""Which files a protocol may read, and how published records name them.

A protocol is a text file that others write and share; ``data.path: /etc/passwd`` must not
make ``evaltk run`` read any file on the machine and publish its hash and path. So every data
path (``data.path``, ``data.population``, each linked extract) must lie inside the analysis
folder unless the protocol says ``data.allow_outside: true``. One way out is allowed without
the flag: into a sibling *analysis* folder (``../NAME/...`` where ``../NAME/analysis.yaml``
exists), because analyses of one project share an extract (the examples read
``../example-street-triage/data/episodes.parquet``). The test is on the path as written
(absolute, or climbing out with ``..``), not on where symbolic links lead: a link the evaluator
made inside the folder is as explicit a choice as the flag.

Published records (results.json, ``data-seen.json``) name a file inside the folder by its
path as the protocol writes it (relative to the folder), and one outside only by its name
(:func:`published_path`): the layout of the evaluator's disk is nobody's business, and the
SHA-256 beside it identifies the bytes.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from evaltk.errors import DataError
from evaltk.protocol.spec import EpisodeSource, Protocol

#: How :func:`published_path` marks a file that lies outside the analysis folder.
OUTSIDE = "<outside>"


def data_paths(protocol: Protocol) -> list[tuple[str, str]]:
    """Every data path of the protocol as ``(field, path)``, in reading order."""
    data = protocol.data
    named = [("data.path", data.path)]
    if isinstance(data, EpisodeSource):
        if data.population is not None:
            named.append(("data.population", data.population))
        if data.linkage is not None:
            for agency, extract in data.linkage.agencies.items():
                named.append((f"data.linkage.agencies.{agency}.path", extract.path))
    return named


def is_outside(path: str, folder: Path | None = None) -> bool:
    """Whether a data path as written leaves the analysis folder (absolute, or through ``..``).

    With ``folder``, a path into a sibling analysis folder (``../NAME/...`` where
    ``FOLDER/../NAME/analysis.yaml`` exists) counts as inside the project, not outside.
    """
    if Path(path).is_absolute() or PurePosixPath(path).is_absolute():
        return True
    parts = PurePosixPath(os.path.normpath(path.replace("\\", "/"))).parts
    if not parts or parts[0] != "..":
        return False
    sibling = len(parts) > 2 and parts[1] != ".." and ".." not in parts[2:]
    return not (
        sibling
        and folder is not None
        and (folder.absolute().parent / parts[1] / "analysis.yaml").is_file()
    )


def check_data_paths(protocol: Protocol, folder: Path, where: Path | str) -> None:
    """Refuse data paths outside the analysis folder unless ``data.allow_outside`` is true.

    Parameters
    ----------
    protocol : Protocol
        The loaded protocol.
    folder : pathlib.Path
        The analysis folder the paths are relative to.
    where : pathlib.Path or str
        The protocol file, named in the message.

    Raises
    ------
    DataError
        In one line naming the first such field and both ways out.
    """
    if protocol.data.allow_outside:
        return
    for field, path in data_paths(protocol):
        if is_outside(path, folder):
            raise DataError(
                f"{where}: {field}: '{path}' is outside the analysis folder; copy the file into "
                "the folder (e.g. data/), or set data.allow_outside: true to read it from there"
            )


def published_path(path: str, folder: Path) -> str:
    """How a published record names a data file: as the protocol writes it (relative to the
    analysis folder) if inside the folder or a sibling analysis, else ``<outside>/NAME``
    (never an absolute path)."""
    if is_outside(path, folder):
        return f"{OUTSIDE}/{PurePosixPath(path.replace(chr(92), '/')).name}"
    return path  # as the protocol writes it: records already made keep their keys
