"""Puts the project scaffold into the package: everything else is in pyproject.toml.

The repository's ``protocols/``, the hand-written sources of ``book/`` and the example analyses
``analyses/example-*/`` are the one source of the files ``evaltk init``, ``evaltk book`` and
``evaltk demo`` copy into a user's folder. A wheel carries them as ``evaltk/_scaffold/``, and
an sdist carries them in their repository places (so that a wheel built from it has them too).
The list of files is :func:`evaltk.scaffold.scaffold_files`, loaded here by its path because
evaltk's dependencies are not installed while it builds. An editable install needs no copy:
evaltk then reads the checkout's own folders (:func:`evaltk.project.scaffold_root`).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _scaffold_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "_evaltk_scaffold", HERE / "evaltk" / "scaffold.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCAFFOLD = _scaffold_module()


class BuildPyWithScaffold(build_py):
    """``build_py`` that also copies the scaffold into ``evaltk/_scaffold`` of the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "evaltk" / SCAFFOLD.PACKAGED_DIR
        shutil.rmtree(target, ignore_errors=True)  # no file left over from an earlier build
        for relative in SCAFFOLD.scaffold_files(HERE):
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(HERE / relative, destination)
        (target / "README.md").write_text(
            "The files `evaltk init`, `evaltk book` and `evaltk demo` copy into a project: "
            "copies of the evaltk repository's protocols/, book/ sources and example analyses.\n",
            encoding="utf-8",
        )

    def get_source_files(self) -> list[str]:
        # sdist lists these: the scaffold travels in the sdist in its repository places.
        return [*super().get_source_files(), *SCAFFOLD.scaffold_files(HERE)]


setup(cmdclass={"build_py": BuildPyWithScaffold})
