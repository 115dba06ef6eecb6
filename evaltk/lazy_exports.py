"""A package's public names loaded on first use (PEP 562), so that importing one light module
of the package does not import every heavy one.

Python runs a package's ``__init__`` before any of its submodules. ``evaltk.simulate`` and
``evaltk.registration`` re-export names from modules that import pandas, pyarrow and DuckDB; with
eager imports, the command line's ``--help`` (which only needs the simulator's effect names and
the registration's access words) imported all of them (about 1 s). ``evaltk.publish`` is lazy
for the same reason: the book's Sphinx build imports its ``sphinx_guard``. A package lists
where each name lives and takes its ``__getattr__`` and ``__dir__`` from
:func:`lazy_exports`; its ``if TYPE_CHECKING:`` imports give type checkers the same names.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose public name ``n`` lives in the
    module ``where[n]`` (imported when ``n`` is first asked for)."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *where})

    return __getattr__, __dir__
