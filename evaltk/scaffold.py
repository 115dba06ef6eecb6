"""The files a project starts from: the templates, the book's sources, the example analyses.

The repository is itself an evaltk project, and its ``protocols/``, the hand-written sources of
``book/`` and the registered example analyses ``analyses/example-*/`` are the one source of
these files. The wheel carries a copy of exactly the files listed here under
``evaltk/_scaffold/`` (``setup.py`` copies them at build time, loading this module by its path),
so that ``evaltk init``, ``evaltk book`` and ``evaltk demo`` work from an installed package.

This module imports nothing but the standard library: the build imports it before any of
evaltk's dependencies are installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePosixPath

#: The file that marks a project folder (its analyses/, book/ and protocols/ beside it).
MARKER = "evaltk-project.toml"
#: Where the scaffold lives inside the installed package.
PACKAGED_DIR = "_scaffold"
#: The book's list of generated files: everything else in ``book/`` is hand-written.
BOOK_IGNORE = ".gitignore"
#: An example analysis's own files (never its data/ or results/).
EXAMPLE_FILES = ("analysis.yaml", "registration.json")
EXAMPLE_DIRS = ("power", "trial")


def scaffold_files(
    root: Path, parts: tuple[str, ...] = ("protocols", "book", "examples")
) -> list[str]:
    """The scaffold's files under the project folder ``root``, as sorted POSIX relative paths.

    Parameters
    ----------
    root : pathlib.Path
        A folder laid out as the repository: ``protocols/``, ``book/``, ``analyses/``.
    parts : tuple of str
        Which parts: ``"protocols"`` (templates, JSON Schemas, their README), ``"book"`` (every
        file of ``book/`` not named in ``book/.gitignore``, which lists the generated ones; the
        validation records included) and ``"examples"`` (``analyses/example-*/``:
        ``analysis.yaml``, ``registration.json`` and ``power/``).

    Returns
    -------
    list of str
        Paths relative to ``root``, e.g. ``"protocols/street-triage-its.yaml"``.
    """
    found: list[str] = []
    if "protocols" in parts:
        found += _files(root, "protocols", skip=frozenset())
    if "book" in parts:
        found += _files(root, "book", skip=generated_book_names(root / "book"))
    if "examples" in parts:
        for example in sorted((root / "analyses").glob("example-*")):
            if not example.is_dir():
                continue
            base = f"analyses/{example.name}"
            found += [f"{base}/{name}" for name in EXAMPLE_FILES if (example / name).is_file()]
            for folder in EXAMPLE_DIRS:
                found += _files(root, f"{base}/{folder}", skip=frozenset())
    return sorted(found)


def generated_book_names(book: Path) -> frozenset[str]:
    """The top-level names ``book/.gitignore`` lists (``/index.md``, ``/_build/``...)."""
    try:
        lines = (book / BOOK_IGNORE).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return frozenset()
    names = set()
    for line in lines:
        entry = line.strip()
        if entry.startswith("/"):
            names.add(entry.strip("/"))
    return frozenset(names)


def _files(root: Path, folder: str, *, skip: frozenset[str]) -> list[str]:
    base = root / folder
    if not base.is_dir():
        return []
    return [
        PurePosixPath(folder, *path.relative_to(base).parts).as_posix()
        for path in _walk(base, skip)
    ]


def _walk(base: Path, skip: frozenset[str]) -> Iterator[Path]:
    # Hidden files and folders (locks, staging folders, editor files) are never scaffold,
    # except the book's list of generated files, which a project's own git needs too.
    for path in sorted(base.rglob("*")):
        parts = path.relative_to(base).parts
        if parts[0] in skip or not path.is_file():
            continue
        if any(part.startswith(".") for part in parts) and parts != (BOOK_IGNORE,):
            continue
        if any(part in ("__pycache__", ".ipynb_checkpoints") for part in parts):
            continue
        yield path
