"""A project folder: where the templates, the book and the analyses of one evaluation live.

A project is a folder holding :data:`~evaltk.scaffold.MARKER` (``evaltk-project.toml``) with
``protocols/``, ``book/`` and ``analyses/`` beside it; ``evaltk init PROJECT`` makes one. The
commands find it from the current folder upwards, so ``evaltk book`` or ``evaltk demo`` work
from any folder inside it. The files a new project starts from (the scaffold) come with the
installed package (``evaltk/_scaffold/``) or, in a clone of the repository, are the clone's
own ``protocols/``, ``book/`` and ``analyses/example-*/`` (:mod:`evaltk.scaffold`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from evaltk import __version__
from evaltk.errors import EvaltkError
from evaltk.scaffold import MARKER, PACKAGED_DIR, scaffold_files

_PACKAGE = Path(__file__).resolve().parent


def scaffold_root() -> Path:
    """The folder laid out as a project that the scaffold files are copied from.

    The installed package's ``evaltk/_scaffold/`` (a wheel), else the repository checkout the
    package was imported from (an editable install).

    Raises
    ------
    EvaltkError
        If neither is there (a broken installation).
    """
    for root in (_PACKAGE / PACKAGED_DIR, _PACKAGE.parent):
        if (root / "protocols").is_dir() and (root / "book" / "_config.yml").is_file():
            return root
    raise EvaltkError(
        f"{_PACKAGE / PACKAGED_DIR}: evaltk's templates and book sources are missing from this "
        "installation; reinstall evaltk (pip install --force-reinstall evaltk)"
    )


def find_project(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: the current folder) holding the
    project marker, or None."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return folder
    return None


def project_or_cwd() -> Path:
    """The project the current folder is in, else the current folder (as a relative ``.``)."""
    return find_project() or Path()


@dataclass(frozen=True)
class Copied:
    """What a copy did: files written, and files left as they were (paths as listed)."""

    written: tuple[str, ...]
    kept: tuple[str, ...]


def copy_scaffold(target: Path, parts: tuple[str, ...], *, replace: tuple[str, ...] = ()) -> Copied:
    """Copy the scaffold's ``parts`` (see :func:`evaltk.scaffold.scaffold_files`) into ``target``.

    A file already in ``target`` is kept as it is (it may be the user's own edit), unless its
    path starts with one of ``replace``. Copying a folder onto itself does nothing.
    """
    source = scaffold_root()
    if target.resolve() == source.resolve():
        return Copied((), ())
    files = scaffold_files(source, parts)
    return _copy(source, target, files, replace=replace)


def book_sources(book_dir: Path) -> Copied | None:
    """Give ``book_dir`` evaltk's book sources if it has no ``_config.yml`` (a new book).

    Copies ``_config.yml``, the hand-written pages, the style sheet and the validation records
    of this evaltk; returns None when ``book_dir`` already has a configuration (it is then the
    user's, and nothing is added or replaced).
    """
    if (book_dir / "_config.yml").is_file():
        return None
    source = scaffold_root() / "book"
    files = [name.removeprefix("book/") for name in scaffold_files(source.parent, ("book",))]
    return _copy(source, book_dir, files, replace=())


def _copy(source: Path, target: Path, files: list[str], *, replace: tuple[str, ...]) -> Copied:
    written: list[str] = []
    kept: list[str] = []
    for relative in files:
        destination = target / relative
        if destination.exists() and not (replace and relative.startswith(replace)):
            kept.append(relative)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, destination)
        written.append(relative)
    return Copied(tuple(written), tuple(kept))


def write_marker(project: Path) -> bool:
    """Write ``project/evaltk-project.toml`` unless it is there; True if written."""
    marker = project / MARKER
    if marker.exists():
        return False
    marker.write_text(
        "# An evaltk project: analyses/ (one folder per analysis), book/ (the results book's\n"
        "# sources; `evaltk book` builds it) and protocols/ (the templates analyses follow).\n"
        "# evaltk finds this file from any folder below it. Made by `evaltk init`.\n"
        "[project]\n"
        f'created_with = "evaltk {__version__}"\n',
        encoding="utf-8",
    )
    return True


README = """# {name}: an evaltk project

This folder holds pre-registered evaluations made with evaltk {version}:

- `analyses/`: one folder per analysis (`analysis.yaml`, its registration, data and results);
- `protocols/`: the templates an analysis follows (read their comments; `README.md` says
  which to use) and the JSON Schema editors validate against;
- `book/`: the results book's sources (`_config.yml`: its title; `methods.md`,
  `about-results.md`; `validation/`: the records of evaltk's own validation). `evaltk book`
  writes the other pages and the HTML (`book/_build/html/index.html`).

Every command works from any folder inside this one.

```
evaltk demo               # try it: simulated data, the three example analyses, the book
evaltk init --list        # the templates
evaltk init -t street-triage-its analyses/my-force    # a new analysis from a template
evaltk simulate analyses/my-force/data --preset demo  # data to try it on (or point at yours)
evaltk validate analyses/my-force
evaltk power analyses/my-force                        # simulated power (time series only)
evaltk register analyses/my-force --data-access not_collected   # before seeing outcomes
evaltk run analyses/my-force
evaltk book               # every analysis that has been run -> book/_build/html
```
"""


def init_project(folder: Path) -> Copied:
    """Make ``folder`` a project: the marker, a README, ``analyses/``, the templates and the
    book's sources. Files already there are kept (nothing is overwritten).

    Returns
    -------
    Copied
        The files written and kept (the README and the marker included).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "analyses").mkdir(exist_ok=True)
    copied = copy_scaffold(folder, ("protocols", "book"))
    written, kept = list(copied.written), list(copied.kept)
    readme = folder / "README.md"
    if readme.exists():
        kept.append("README.md")
    else:
        name = folder.resolve().name
        readme.write_text(README.format(name=name, version=__version__), encoding="utf-8")
        written.append("README.md")
    (written if write_marker(folder) else kept).append(MARKER)
    return Copied(tuple(written), tuple(kept))


def in_project(path: Path) -> Path:
    """``path`` as given if it exists; else the same name in the current project (``PROJECT/path``
    or ``PROJECT/analyses/path``) if there is one, so that ``evaltk run my-force`` works from
    any folder inside the project; else ``path`` (the command then says it is missing)."""
    if path.exists() or path.is_absolute():
        return path
    project = find_project()
    if project is None:
        return path
    for candidate in (project / path, project / "analyses" / path):
        if candidate.exists():
            return candidate
    return path
