"""Packages that load their public names on first use (evaltk.lazy_exports) give the same
objects as their modules, whatever was imported before, and do not load the heavy modules."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

LAZY = ("evaltk", "evaltk.simulate", "evaltk.registration", "evaltk.publish")


@pytest.mark.parametrize("name", LAZY)
def test_every_public_name_is_its_modules_object_after_every_submodule_is_imported(
    name: str,
) -> None:
    package = importlib.import_module(name)
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{name}.{info.name}")
    for public in package.__all__:
        value = getattr(package, public)
        # A submodule of the same name would replace a lazily exported function.
        assert not isinstance(value, type(sys)), f"{name}.{public} is a module"
        defined_in = getattr(value, "__module__", None)
        if defined_in and defined_in.startswith(name):
            assert getattr(importlib.import_module(defined_in), public) is value


def test_the_command_line_loads_no_data_library() -> None:
    code = (
        "import sys, evaltk.cli.entry\n"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'duckdb', 'scipy', 'matplotlib') "
        "if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
