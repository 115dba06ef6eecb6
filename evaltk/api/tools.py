"""Thin wrappers a notebook needs besides load and run: simulated data, and the book."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaltk.publish import build_book as _build_book
from evaltk.simulate import SimulationConfig, write_dataset


def simulate_data(
    folder: str | Path,
    preset: str = "small",
    *,
    overwrite: bool = False,
    **settings: Any,
) -> Path:
    """Write a synthetic dataset with known true effects, as ``evaltk simulate`` does.

    Named ``simulate_data`` because ``evaltk.simulate`` is the package that simulates.

    Parameters
    ----------
    folder : str or Path
        Folder to create; it receives ``episodes.parquet``, ``population.csv`` and
        ``truth.json`` (the configuration and each true effect).
    preset : str, default "small"
        ``small`` (one force, about 5,600 episodes), ``demo``, ``region`` or ``national``
        (:meth:`evaltk.simulate.SimulationConfig.preset`).
    overwrite : bool, default False
        Replace an existing non-empty folder.
    **settings
        Any field of :class:`~evaltk.simulate.SimulationConfig`, e.g. ``seed=7``,
        ``scale=0.1`` or ``effects={"s136": 0.7}``.

    Returns
    -------
    pathlib.Path
        ``folder``. The same settings and seed give byte-identical files.
    """
    config = SimulationConfig.preset(preset, **settings)
    return write_dataset(config, folder, overwrite=overwrite)


def build_book(
    analyses: str | Path = "analyses", book: str | Path = "book", *, strict: bool = True
) -> Path:
    """Build the results book from every analysis already run, as ``evaltk book`` does.

    Parameters
    ----------
    analyses : str or Path, default "analyses"
        Folder of analyses, each run (``results/`` present).
    book : str or Path, default "book"
        The book's source folder (hand-written ``_config.yml`` and chapters).
    strict : bool, default True
        Fail on any Sphinx warning.

    Returns
    -------
    pathlib.Path
        The built landing page, ``book/_build/html/index.html``; disclosure control applied.
    """
    return _build_book(Path(analyses), Path(book), strict=strict)
